"""Ingest on Ray: Ray actors analyse files, each loading the profile's models once, on this
machine or across a cluster; the process that started them stays the only writer.

``RayPool`` is a ``Runner`` like ``workers.WorkerPool``: the ingestor hands it one file per idle
actor and commits the results in input order, so the catalog is the one a serial run writes.
Only media paths go out and records come back: every node must see the files at the paths the
driver was given (shared storage) and have mmretrieval and its models installed (one image).

Actors ask Ray for an equal share of the cluster's CPUs (their models use that many threads)
and, when the profile's models run on ``cuda`` (or ``auto`` where the cluster has GPUs), for
a share of its GPUs (at most one each). Ray is an optional extra
(``pip install 'mmretrieval[ray]'``), imported only here.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mmretrieval.adapters.base import REGISTRY, AdapterSet
from mmretrieval.analyze import MediaAnalyzer
from mmretrieval.config import Profile
from mmretrieval.devices import limit_cpu_threads
from mmretrieval.errors import ConfigError, MMRError
from mmretrieval.ingest import Processed, Task, process_task

if TYPE_CHECKING:
    import ray

log = logging.getLogger(__name__)

READY_SECONDS = 600.0  # how long actors may wait for resources and load their models
REACH_SECONDS = 5.0  # how long a cluster address may take to accept a connection


class Analyst:
    """One Ray actor's state: the models, loaded once, and the analyser around them."""

    def __init__(self, profile: Profile, threads: int, log_level: int, cwd: str):
        logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
        if os.path.isdir(cwd):  # relative paths mean what they mean to the driver
            os.chdir(cwd)
        limit_cpu_threads(threads)
        self.error: MMRError | None = None
        try:
            adapters = AdapterSet(profile)
            for name in REGISTRY:
                adapters.get(name)
            adapters.bridge()
            self.analyzer = MediaAnalyzer(profile, adapters)
        except MMRError as exc:  # a missing model: the driver raises it as its own
            self.error = exc
        except Exception as exc:
            self.error = MMRError(f"a Ray ingest actor could not load the models: {exc!r}")

    def ready(self) -> MMRError | None:
        return self.error

    def process(self, task: Task) -> Processed:
        return process_task(self.analyzer, task)


@dataclass
class _Running:
    key: int
    task: Task
    actor: Any  # a ray.actor.ActorHandle


class RayPool:
    """``actors`` Ray actors analysing files (``process_task``); use as a context manager.

    ``address`` is ``ray.init``'s: None for this machine's Ray (started here when none runs),
    ``auto`` for the cluster this node belongs to, ``ray://head:10001`` for a remote one. When
    Ray is already initialised in this process, that connection is used and left open.
    """

    def __init__(self, profile: Profile, actors: int, address: str | None = None):
        if actors < 1:
            raise ConfigError(f"a Ray pool needs at least 1 actor, got {actors}")
        self.profile = profile
        self.slots = actors
        self.address = address
        self._ray: Any = None
        self._started_ray = False
        self._actors: list[Any] = []
        self._running: dict[Any, _Running] = {}  # ObjectRef -> what it is the result of

    def __enter__(self) -> RayPool:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def start(self) -> None:
        """Connect to Ray, start the actors and wait until each has loaded its models."""
        ray = self._ray = _import_ray()
        if not ray.is_initialized():
            _check_reachable(self.address)
            try:
                ray.init(address=self.address, include_dashboard=False)
            except (ConnectionError, RuntimeError) as exc:
                raise MMRError(
                    f"could not start or reach Ray at {self.address or 'this machine'}: {exc}. "
                    "Check the address and that the cluster is up (ray status)"
                ) from exc
            self._started_ray = True
        elif self.address is not None:
            log.warning("Ray is already initialised here: address %s is not used", self.address)
        resources = ray.cluster_resources()
        cpus = max(1, int(resources.get("CPU", 1) // self.slots))
        gpus = _gpus_per_actor(self.profile, self.slots, resources.get("GPU", 0.0))
        actor = ray.remote(Analyst).options(num_cpus=cpus, num_gpus=gpus)
        level = logging.getLogger().getEffectiveLevel()
        self._actors = [
            actor.remote(self.profile, cpus, level, os.getcwd()) for _ in range(self.slots)
        ]
        log.info("started %d Ray ingest actors, %d CPUs and %g GPUs each", self.slots, cpus, gpus)
        pending = {a.ready.remote(): a for a in self._actors}
        ready, late = ray.wait(list(pending), num_returns=len(pending), timeout=READY_SECONDS)
        if late:
            raise MMRError(
                f"{len(late)} of {self.slots} Ray actors did not start within {READY_SECONDS:.0f}"
                f" s: each asks for {cpus} CPUs and {gpus:g} GPUs, and the cluster has "
                f"{resources.get('CPU', 0):g} CPUs and {resources.get('GPU', 0):g} GPUs. "
                "Ask for fewer actors (--workers) or add nodes"
            )
        for ref in ready:
            error = self._get(ref, "while loading its models")
            if error is not None:
                raise error

    def idle(self) -> bool:
        return len(self._running) < self.slots

    def submit(self, key: int, task: Task) -> None:
        busy = {id(r.actor) for r in self._running.values()}
        actor = next(a for a in self._actors if id(a) not in busy)
        self._running[actor.process.remote(task)] = _Running(key, task, actor)

    def results(self, block: bool) -> list[tuple[int, Processed]]:
        """Tasks finished since the last call; with ``block``, waits for at least one."""
        if not self._running:
            return []
        refs = list(self._running)
        if block:
            self._ray.wait(refs, num_returns=1)
        ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=0)
        done = []
        for ref in ready:
            running = self._running.pop(ref)
            done.append((running.key, self._get(ref, f"while indexing {running.task.path}")))
        return done

    def close(self) -> None:
        """End the actors (they hold nothing unwritten) and the connection to Ray made here
        (which also stops a Ray that ``start`` started on this machine)."""
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors, self._running = [], {}
        if self._started_ray:
            self._ray.shutdown()
            self._started_ray = False

    def _get(self, ref: ray.ObjectRef, doing: str) -> Any:
        """A finished call's value; an actor lost with its node or process raises ``MMRError``."""
        try:
            return self._ray.get(ref)
        except self._ray.exceptions.RayError as exc:
            raise MMRError(
                f"a Ray ingest actor failed {doing}: {exc}. Files committed before it stay "
                "indexed: run the same command again to resume"
            ) from exc


def _check_reachable(address: str | None) -> None:
    """Fail within seconds on a cluster address nothing listens at: ``ray.init`` retries one
    for minutes before it gives up. ``None``, ``auto`` and any address that is not
    host:port are left to ``ray.init``."""
    host, _, port = (address or "").removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_SECONDS).close()
    except OSError as exc:
        raise MMRError(
            f"could not reach Ray at {address}: {exc}. "
            "Check the address and that the cluster is up (ray status)"
        ) from exc


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            "--executor ray needs Ray, which is not installed: pip install 'mmretrieval[ray]'"
        ) from exc
    return ray


def _gpus_per_actor(profile: Profile, actors: int, cluster_gpus: float) -> float:
    """Each actor's GPU share (at most one): when a model of the profile is set to ``cuda``
    (a cluster without GPUs is then an error) or to ``auto`` on a cluster with GPUs; else 0.
    Ray hides from an actor only the GPUs other actors reserved, so one that asked for none
    would still put its ``auto`` models on a GPU, unaccounted for."""
    sections = (getattr(profile.adapters, name) for name in type(profile.adapters).model_fields)
    devices = {s.device for s in sections if s is not None and hasattr(s, "device")}
    if any(d.startswith("cuda") for d in devices) and cluster_gpus <= 0:
        raise ConfigError(
            "the profile runs models on cuda, but the Ray cluster has no GPUs: "
            "add GPU nodes, or set the models' device to cpu or auto"
        )
    if cluster_gpus <= 0 or not any(d.startswith("cuda") or d == "auto" for d in devices):
        return 0.0
    return min(1.0, cluster_gpus / actors)
