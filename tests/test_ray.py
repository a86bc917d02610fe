"""Ingest on Ray (``executor="ray"``) resumes an interrupted run into exactly the catalog an
uninterrupted Ray run writes, without duplicates, and reports a corrupt file and goes on. One
local Ray for the module (starting one takes a while on 2 cores); real models in real Ray
actors. (Against the serial catalog only the files are compared: on some CPUs, an AMD EPYC
here, the actors' speech recognition writes a few words otherwise than the serial run's.)"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator

import numpy as np
import pytest
import ray
from test_parallel_ingest import MMR, _assert_same_catalog, _tables

from mmretrieval import ConfigError, Library, Profile, load_profile
from mmretrieval.ingest import FileOutcome
from mmretrieval.ray_pool import _gpus_per_actor
from mmretrieval.testing.synth import Scene, make_audio


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Ray in this process; its address lets another process's driver join it."""
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=150 * 2**20)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def _actors_gone() -> bool:
    """Whether every actor of a run has ended, however the run ended: all CPUs are free again
    (an ended actor hands them back to Ray within moments)."""
    for _ in range(100):
        if ray.available_resources().get("CPU") == ray.cluster_resources()["CPU"]:
            return True
        time.sleep(0.1)
    return False


def test_interrupted_then_resumed_on_ray_is_the_uninterrupted_catalog(
    cluster, indexed, corpus_dir, tmp_path
):
    serial, serial_report = indexed
    whole = tmp_path / "whole"
    with Library(whole, profile="offline") as library:
        library.add([corpus_dir], workers=2, executor="ray")
    index = tmp_path / "idx"

    def ctrl_c(outcome: FileOutcome) -> None:
        if outcome.status == "indexed":  # the first file, just committed
            raise KeyboardInterrupt

    with Library(index, profile="offline") as library:
        with pytest.raises(KeyboardInterrupt):
            library.add([corpus_dir], workers=2, executor="ray", on_file=ctrl_c)
    assert _actors_gone()
    interrupted = _tables(index)["files"]
    assert 1 <= len(interrupted) < len(serial_report.outcomes)

    with Library(index, profile="offline") as library:
        report = library.add([corpus_dir], workers=2, executor="ray")
        assert report.count("unchanged") == len(interrupted)
        assert report.count("indexed") == len(serial_report.outcomes) - len(interrupted)
        _assert_same_catalog(index, whole)
        assert sorted(f.path for f in library.catalog.files()) == sorted(
            f.path for f in serial.catalog.files()
        )
        query = "ferry crossings cancelled by strong winds"
        with Library(whole) as uninterrupted:
            found, expected = (lib.search(text=query, k=5) for lib in (library, uninterrupted))
        assert [(h.path, h.start, h.end) for h in found] == [
            (h.path, h.start, h.end) for h in expected
        ]
        assert [h.score for h in found] == pytest.approx([h.score for h in expected], abs=1e-5)
    assert report.stage_seconds["asr"] > 0
    assert _actors_gone()


def test_cli_joins_a_running_cluster_and_skips_a_corrupt_file(cluster, tmp_path):
    folder = tmp_path / "media"
    make_audio(folder / "a_market.wav", [Scene(speech="Share prices rose sharply on Friday.")])
    (folder / "b_noise.mp4").write_bytes(np.random.default_rng(7).bytes(4096))
    make_audio(folder / "c_traffic.wav", [Scene(speech="The bridge is closed for repairs.")])
    index = tmp_path / "idx"
    command = [MMR, "index", str(folder), "--index", str(index), "--json"]
    command += ["--executor", "ray", "--ray-address", cluster, "--workers", "2"]
    result = subprocess.run(
        command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600
    )
    assert result.returncode == 3, result.stderr  # some files failed
    report = json.loads(result.stdout)
    assert (report["indexed"], report["failed"]) == (2, 1)
    assert [f["path"] for f in report["failures"]] == [str(folder / "b_noise.mp4")]
    assert "not a readable media file" in report["failures"][0]["error"]
    with Library(index) as library:
        hits = library.search(text="the bridge is closed", k=1)
    assert [h.path for h in hits] == [str(folder / "c_traffic.wav")]
    assert _actors_gone()


def test_cli_fails_fast_on_a_cluster_address_nothing_listens_at(tmp_path):
    folder = tmp_path / "media"
    make_audio(folder / "a_market.wav", [Scene(speech="Share prices rose sharply on Friday.")])
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [MMR, "index", str(folder), "--index", str(tmp_path / "idx")]
    command += ["--executor", "ray", "--ray-address", f"127.0.0.1:{port}"]
    # ray.init alone retries such an address for minutes; the probe answers in seconds
    result = subprocess.run(
        command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120
    )
    assert result.returncode != 0
    assert f"could not reach Ray at 127.0.0.1:{port}" in result.stderr


def _on(profile: Profile, device: str) -> Profile:
    """``profile`` with every model that has a device setting set to ``device``."""
    sections = {
        name: section.model_copy(update={"device": device})
        for name, section in profile.adapters
        if section is not None and hasattr(section, "device")
    }
    return profile.model_copy(update={"adapters": profile.adapters.model_copy(update=sections)})


def test_actors_ask_for_gpus_only_when_the_models_would_use_them():
    offline = load_profile("offline")
    assert _gpus_per_actor(_on(offline, "cpu"), actors=2, cluster_gpus=4) == 0
    assert _gpus_per_actor(_on(offline, "auto"), actors=2, cluster_gpus=0) == 0
    assert _gpus_per_actor(_on(offline, "auto"), actors=2, cluster_gpus=1) == 0.5
    assert _gpus_per_actor(_on(offline, "cuda"), actors=2, cluster_gpus=4) == 1
    with pytest.raises(ConfigError, match="cluster has no GPUs"):
        _gpus_per_actor(_on(offline, "cuda"), actors=2, cluster_gpus=0)
