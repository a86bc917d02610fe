"""How a process's models are set up on the CPU: glibc's malloc reusing large freed blocks."""

import platform
import subprocess
import sys

import pytest

# In a fresh process (the malloc settings are the process's): a 54 MB block, the size of
# tiny.en's attention scores for one window, allocated, written and freed twice on a thread
# other than the main one (where CTranslate2 computes); the page faults of the second time.
SECOND_TIME_FAULTS = """
import ctypes, resource, sys, threading
from mmretrieval.devices import reuse_freed_memory
if sys.argv[1] == "reuse":
    reuse_freed_memory()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size, faults = 54 * 2**20, []
def twice():
    for _ in range(2):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        block = libc.malloc(size)
        ctypes.memset(block, 1, size)
        libc.free(block)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
thread = threading.Thread(target=twice)
thread.start()
thread.join()
print(faults[1])
"""


def second_time_faults(setting: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", SECOND_TIME_FAULTS, setting],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc setting")
def test_a_freed_large_block_serves_the_next_one_without_new_pages():
    pages = 54 * 2**20 // 4096
    assert second_time_faults("default") > pages // 2  # glibc maps such a block afresh
    assert second_time_faults("reuse") < pages // 20
