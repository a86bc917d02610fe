"""Load test of ``mmr serve`` on loopback: N searches from C concurrent clients, through HTTP.

Starts the real server (``python -m mmretrieval.cli serve``) in a subprocess on an index (by
default one built from ``samples/footage`` into a temp folder), then C client threads, each
with its own HTTP connection, send ``GET /search`` with queries from a varied list. Reports
errors (any non-200 or connection failure), latency p50/p95/p99/max as the client sees it and
throughput, and writes JSON. Usage:

    python benchmarks/server_load.py [--index DIR] [--requests 2000] [--clients 8] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from machine import describe

ROOT = Path(__file__).resolve().parents[1]
QUERIES = (
    "the minister talks about flood defences",
    "polls close at 10pm",
    "fire in the harbour",
    "election night results",
    "river levels rising",
    "firefighters at the scene",
    "weather warning for the coast",
    "who won the vote",
    "sandbags and flood barriers",
    "smoke over the docks",
    "counting of ballots",
    "radio news bulletin",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="index to serve (default: samples, built now)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/server_load.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mmr-load-") as scratch:
        index = args.index or _sample_index(Path(scratch) / "index")
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mmretrieval.cli",
                "serve",
                "--index",
                str(index),
                "--port",
                str(port),
            ],
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base, server)
            result = _load(base, args.requests, args.clients, args.k)
        finally:
            server.terminate()
            server.wait(timeout=30)
    result.update(index=str(args.index or "samples/footage"), machine=describe(["fastapi"]))
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out}")


def _load(base: str, requests: int, clients: int, k: int) -> dict:
    def client_run(client_no: int) -> tuple[list[float], list[str]]:
        latencies, errors = [], []
        with httpx.Client(base_url=base, timeout=60) as http:
            for i in range(client_no, requests, clients):
                query = QUERIES[i % len(QUERIES)]
                started = time.perf_counter()
                try:
                    response = http.get("/search", params={"q": query, "k": k})
                    if response.status_code != 200:
                        errors.append(f"{response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                latencies.append((time.perf_counter() - started) * 1000)
        return latencies, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client_run, range(clients)))
    wall = time.perf_counter() - started
    latencies = sorted(ms for per_client, _ in results for ms in per_client)
    errors = [e for _, per_client in results for e in per_client]
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "clients": clients,
        "errors": len(errors),
        "error_examples": errors[:5],
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(latencies[-1], 1),
        "throughput_rps": round(len(latencies) / wall, 1),
        "wall_seconds": round(wall, 1),
    }


def _sample_index(index: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mmretrieval.cli",
            "index",
            str(ROOT / "samples/footage"),
            "--index",
            str(index),
        ],
        check=True,
    )
    return index


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not answer /health within 120 s")


if __name__ == "__main__":
    main()
