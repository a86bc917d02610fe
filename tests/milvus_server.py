"""A real Milvus standalone server for tests and benchmarks: the ``milvus`` package's binary
(with its own embedded etcd and local storage), on free ports, in a folder of its own. A test
helper (the ``milvus`` package is a dev dependency), like ``tiny_models``.

The package's own ``MilvusServer`` picks free ports for Milvus but leaves the embedded etcd on
its defaults (2379, 2380), so a second server on the machine (another test run) fails to start;
it moves to another port when the one asked for was left a moment ago (it probes without
SO_REUSEADDR); and it waits up to 180 s on a server process that has already died. This starts
one that neither clashes, moves, nor waits on the dead, and starts it again when it exits while
starting (a port picked free and taken by another process before the server bound it).
"""

from __future__ import annotations

import logging
import socket
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_S = 120  # a server is up in ~20 s on 2 busy cores; longer means something is wrong
ATTEMPTS = 3  # a port picked free may be taken before the server binds it: start again

log = logging.getLogger(__name__)

_RUNNING: dict[str, tuple[object, Path]] = {}  # address -> (server, folder), for ``stopped``


class ServerCannotRun(RuntimeError):
    """The server binary exited before it answered (a missing library, too little memory)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(folder: Path, port: int | None = None) -> Iterator[tuple[str, float]]:
    """(address ``http://127.0.0.1:PORT``, seconds it took to start) of a server running with
    its data in ``folder`` until the block ends, on ``port`` (default: a free one; a server
    started again on the same folder and port finds its collections). Raises
    ``ServerCannotRun`` with the end of the server's own log when the binary cannot run here."""
    from milvus import MilvusServer, MilvusServerConfig

    class Config(MilvusServerConfig):
        def try_bind_port(self, port: int) -> socket.socket | None:
            """As the server binds (SO_REUSEADDR): a port it just left is free again."""
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
                sock.listen()
                return sock
            except OSError:
                sock.close()
                return None

        def write_config(self) -> None:
            super().write_config()
            configs = Path(self.base_data_dir) / "configs"
            etcd = configs / "etcd.yaml"
            if not etcd.exists():  # a restart keeps its etcd where its data says it is
                client, peer = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
                etcd.write_text(
                    f"name: default\nlisten-client-urls: {client}\n"
                    f"advertise-client-urls: {client}\nlisten-peer-urls: {peer}\n"
                    f"initial-advertise-peer-urls: {peer}\ninitial-cluster: default={peer}\n"
                )
            milvus = configs / "milvus.yaml"
            embed = "\n  use:\n    embed: true"
            text = milvus.read_text()
            if embed not in text:
                raise RuntimeError(f"the milvus package's config template changed: see {milvus}")
            milvus.write_text(text.replace(embed, f"\n  config:\n    path: {etcd}{embed}", 1))

    started = time.perf_counter()
    for attempt in range(1, ATTEMPTS + 1):
        server = MilvusServer(Config(), wait_for_started=False)
        server.set_base_dir(str(folder))
        server.listen_port = port or free_port()
        try:
            _wait_until_up(server, Path(folder), started)
            break
        except ServerCannotRun:
            server.stop()
            if attempt == ATTEMPTS:
                raise
            log.warning("Milvus server exited while starting (attempt %d): again", attempt)
            if port is None:  # a fresh server: new ports (one it was given may be taken)
                (Path(folder) / "configs" / "etcd.yaml").unlink(missing_ok=True)
    address = f"http://127.0.0.1:{server.listen_port}"
    _RUNNING[address] = (server, Path(folder))
    try:
        yield address, time.perf_counter() - started
    finally:
        _RUNNING.pop(address, None)
        server.stop()


@contextmanager
def stopped(address: str) -> Iterator[None]:
    """The server ``running_server`` runs at ``address`` stopped for the block, then started
    again on its folder and port (it finds its collections), so a fault test can use the
    session's server: the tests after it see the server as it was."""
    server, folder = _RUNNING[address]
    server.stop()
    try:
        yield
    finally:
        _wait_until_up(server, folder, time.perf_counter())


def _wait_until_up(server, folder: Path, started: float) -> None:
    server.start()
    health = f"http://127.0.0.1:{server.webservice_port}/healthz"
    while True:
        if server.server_proc.poll() is not None:
            log_text = (folder / "logs" / "milvus-stderr.log").read_text(errors="replace")
            raise ServerCannotRun(f"the Milvus server binary exited: {log_text[-800:]}")
        try:
            with urllib.request.urlopen(health, timeout=5) as answer:
                if b"OK" in answer.read():
                    return
        except OSError:  # not listening yet
            pass
        if time.perf_counter() - started > START_S:
            server.stop()
            raise TimeoutError(f"Milvus did not start in {START_S} s: see {folder}/logs")
        time.sleep(0.2)
