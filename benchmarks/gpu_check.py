"""GPU check: CLIP image-tower throughput and exact top-k search over 1M vectors, one command.

Built for a CUDA machine with no network and no hub weights: the CLIP model is a randomly
initialised full-size ViT-B/32 (``CLIPModel(CLIPConfig())``), as fast as the trained one since
throughput does not depend on weight values, and the search data are random unit vectors.
It measures

* the image tower (``get_image_features`` on 224x224 inputs) in frames/s at batch 64 and 256,
  fp32 and fp16 autocast; then ``ClipEncoder.embed_images`` on a ``save_pretrained`` folder of
  the same random model, on 398x224 uint8 frames (what ingest decodes for a 16:9 video), so
  preprocessing, host-to-device copies and normalisation count, with preprocessing alone timed
  beside it, in each ``adapters.clip.dtype`` (float32, float16, bfloat16 on CUDA; how far each
  one's vectors are from float32's is the cost of the faster choice);
* exact inner-product top-10 over 1M x 512 unit vectors for 1,000 queries, one at a time
  (QPS, p50/p95 latency) and batched: FAISS on the GPU when the installed FAISS has GPU support,
  ``torch.topk`` of a chunked matmul on the GPU always, and FAISS flat on the CPU for
  comparison (a subset of the single queries there, as each one scans 2 GB).

Without CUDA it says so and runs the CPU smoke sizes, which take well under a minute. Usage:

    python benchmarks/gpu_check.py [--out PATH]    # CUDA machine, about 2 minutes
    python benchmarks/gpu_check.py --cpu-smoke     # small sizes on the CPU: a sanity check
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from machine import describe

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
FRAME_SHAPE = (224, 398, 3)  # a 16:9 frame decoded with CLIP's shortest side, 224
SEED = 0


@dataclass(frozen=True)
class Sizes:
    batches: tuple[int, ...]
    half: bool  # fp16 autocast runs too, and ClipEncoder in float16 and bfloat16 (CUDA only)
    tower_seconds: float  # timed loop length per batch size and dtype
    tower_min_iterations: int
    encoder_frames: int
    vectors: int
    dim: int
    queries: int
    k: int
    cpu_single_queries: int  # FAISS CPU single queries (each scans the whole base)
    cpu_single_seconds: float  # ... or fewer, when this much time has gone
    batched_repeats: int
    query_chunk: int  # queries per matmul in the torch search


GPU_SIZES = Sizes(
    batches=(64, 256),
    half=True,
    tower_seconds=3.0,
    tower_min_iterations=5,
    encoder_frames=1024,
    vectors=1_000_000,
    dim=512,
    queries=1000,
    k=10,
    cpu_single_queries=100,
    cpu_single_seconds=20.0,
    batched_repeats=3,
    query_chunk=256,
)
SMOKE_SIZES = Sizes(
    batches=(4, 8),
    half=False,
    tower_seconds=0.0,
    tower_min_iterations=2,
    encoder_frames=16,
    vectors=20_000,
    dim=512,
    queries=100,
    k=10,
    cpu_single_queries=100,
    cpu_single_seconds=5.0,
    batched_repeats=2,
    query_chunk=64,
)


def optional_faiss():
    """The faiss module, or None where it is not installed (a bare GPU image)."""
    try:
        import faiss
    except ImportError:
        return None
    return faiss


def machine(device: str) -> dict[str, object]:
    import torch

    faiss = optional_faiss()
    faiss_packages = ("faiss-gpu", "faiss-gpu-cu12", "faiss-cpu")
    shared = describe(("transformers", *faiss_packages))
    versions = shared["versions"]
    info: dict[str, object] = {
        "device": device,
        **shared,
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "transformers": versions["transformers"],
        "faiss": faiss.__version__ if faiss else None,
        "faiss_package": next((p for p in faiss_packages if versions[p]), None),
        "faiss_gpus": faiss_gpus(faiss),
        "torch_threads": torch.get_num_threads(),
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
    }
    if device == "cuda":
        properties = torch.cuda.get_device_properties(0)
        info["gpu"] = properties.name
        info["gpu_memory_gb"] = round(properties.total_memory / 2**30, 1)
    return info


def faiss_gpus(faiss) -> int:
    return faiss.get_num_gpus() if faiss and hasattr(faiss, "get_num_gpus") else 0


def synchronise(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


# -- CLIP -----------------------------------------------------------------------------------


def random_clip():
    """A full-size ViT-B/32 CLIP with random weights (seeded), in eval mode, on the CPU."""
    import torch
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(SEED)
    return CLIPModel(CLIPConfig()).eval()


def tower_throughput(model, device: str, batch: int, half: bool, sizes: Sizes) -> dict:
    """Frames/s of ``get_image_features`` on random 224x224 pixel batches already on ``device``."""
    import torch

    size = model.config.vision_config.image_size
    pixels = torch.randn(batch, 3, size, size, device=device)
    autocast = torch.autocast("cuda", dtype=torch.float16) if half else nullcontext()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    with torch.inference_mode(), autocast:
        for _ in range(2):  # warm-up: kernels chosen, memory pooled
            model.get_image_features(pixel_values=pixels)
        synchronise(device)
        iterations, started = 0, time.perf_counter()
        while (
            iterations < sizes.tower_min_iterations
            or time.perf_counter() - started < sizes.tower_seconds
        ):
            model.get_image_features(pixel_values=pixels)
            iterations += 1
        synchronise(device)
        elapsed = time.perf_counter() - started
    return {
        "batch": batch,
        "dtype": "fp16 autocast" if half else "fp32",
        "iterations": iterations,
        "seconds": elapsed,
        "ms_per_batch": 1000 * elapsed / iterations,
        "frames_per_second": batch * iterations / elapsed,
        "peak_gpu_memory_mb": torch.cuda.max_memory_allocated() / 2**20
        if device == "cuda"
        else None,
    }


def save_random_clip(model, folder: Path) -> Path:
    """``model`` with a CLIPProcessor (224 px, OpenAI's normalisation) and a tiny tokenizer,
    saved the way users' checkpoints are, so ``ClipEncoder`` loads it like a hub model."""
    from transformers import CLIPImageProcessor, CLIPProcessor

    sys.path.insert(0, str(REPO / "tests"))
    from tiny_models import _clip_tokenizer  # a BPE built offline; text is not timed here

    model.save_pretrained(folder)
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(), tokenizer=_clip_tokenizer())
    processor.save_pretrained(folder)
    return folder


def clip_encoder() -> tuple[type, type, str]:
    """``ClipEncoder``, its ``ClipConfig`` and how they were loaded, from this checkout.

    ``import mmretrieval`` loads the whole library (PyAV, FAISS, rapidfuzz...), which a bare
    GPU image may lack; the CLIP adapter itself needs only transformers, pydantic and PyYAML.
    So where the package does not import, its modules are loaded without its ``__init__``.
    """
    try:
        from mmretrieval.adapters.clip import ClipEncoder
        from mmretrieval.config import ClipConfig

        how = "package"
    except ImportError as exc:
        how = f"adapter modules alone: mmretrieval does not import ({exc})"
        print(f"  note: {how}")
        for name in [n for n in sys.modules if n == "mmretrieval" or n.startswith("mmretrieval.")]:
            del sys.modules[name]
        package = types.ModuleType("mmretrieval")
        package.__path__ = [str(REPO / "mmretrieval")]
        sys.modules["mmretrieval"] = package
        from mmretrieval.adapters.clip import ClipEncoder
        from mmretrieval.config import ClipConfig
    return ClipEncoder, ClipConfig, how


def encoder_throughput(folder: Path, device: str, sizes: Sizes) -> list[dict]:
    """Frames/s of ``ClipEncoder.embed_images`` (preprocessing included), and of preprocessing
    alone, on ``sizes.encoder_frames`` frames per batch size and dtype; each dtype's vectors
    compared with float32's (the lowest cosine)."""
    encoder_class, config_class, how = clip_encoder()
    rng = np.random.default_rng(SEED)
    distinct = [rng.integers(0, 256, FRAME_SHAPE, dtype=np.uint8) for _ in range(16)]
    frames = [distinct[i % len(distinct)] for i in range(sizes.encoder_frames)]
    dtypes = ("float32", "float16", "bfloat16") if sizes.half else ("float32",)
    rows: list[dict] = []
    exact = None
    for dtype in dtypes:
        started = time.perf_counter()
        encoder = encoder_class(config_class(model=str(folder), device=device, dtype=dtype))
        load_seconds = time.perf_counter() - started
        found = encoder_rows(encoder, frames, device, sizes)
        vectors = encoder.embed_images(distinct)
        exact = vectors if exact is None else exact
        for row in found:
            row["dtype"] = str(encoder.dtype).removeprefix("torch.")
            row["load_seconds"] = load_seconds
            row["import"] = how
            row["min_cosine_to_float32"] = float(np.min(np.sum(vectors * exact, axis=1)))
        rows += found
        del encoder
        if device == "cuda":
            import torch

            torch.cuda.empty_cache()
    return rows


def encoder_rows(encoder, frames: list[np.ndarray], device: str, sizes: Sizes) -> list[dict]:
    """One row per batch size: end-to-end and preprocessing-only frames/s of one encoder."""
    image_processor = encoder.processor.image_processor
    rows = []
    for batch in sizes.batches:
        encoder.batch_size = batch
        encoder.embed_images(frames[:batch])  # warm-up
        synchronise(device)
        started = time.perf_counter()
        vectors = encoder.embed_images(frames)
        synchronise(device)
        total = time.perf_counter() - started
        started = time.perf_counter()
        for start in range(0, len(frames), batch):
            image_processor(
                images=frames[start : start + batch],
                input_data_format="channels_last",
                return_tensors="pt",
            )
        preprocess = time.perf_counter() - started
        rows.append(
            {
                "batch": batch,
                "frames": len(frames),
                "frame_shape": list(FRAME_SHAPE),
                "dim": int(vectors.shape[1]),
                "seconds": total,
                "frames_per_second": len(frames) / total,
                "preprocess_seconds": preprocess,
                "preprocess_frames_per_second": len(frames) / preprocess,
                "preprocess_share": preprocess / total,
            }
        )
    for row in rows:
        row["image_processor"] = type(image_processor).__name__
    return rows


# -- search ---------------------------------------------------------------------------------


def unit_vectors(count: int, dim: int, seed: int) -> np.ndarray:
    """(count, dim) float32 rows, Gaussian directions normalised to length 1."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, dim), dtype=np.float32)
    for start in range(0, count, 100_000):
        chunk = rng.standard_normal((min(100_000, count - start), dim), dtype=np.float32)
        out[start : start + len(chunk)] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def latency_stats(seconds: list[float]) -> dict:
    return {
        "queries": len(seconds),
        "qps": len(seconds) / sum(seconds),
        "p50_ms": 1000 * statistics.median(seconds),
        "p95_ms": 1000 * float(np.percentile(seconds, 95)),
    }


def measure_search(
    name: str,
    search: Callable[[np.ndarray], np.ndarray],
    queries: np.ndarray,
    sizes: Sizes,
    single_limit: int | None = None,
    single_seconds: float | None = None,
) -> tuple[dict, np.ndarray]:
    """Single queries (QPS, p50/p95) and the whole query set at once; ``search`` returns ids."""
    search(queries[:2])  # warm-up
    times: list[float] = []
    budget_started = time.perf_counter()
    for query in queries[: single_limit or len(queries)]:
        started = time.perf_counter()
        search(query[None])
        times.append(time.perf_counter() - started)
        if single_seconds and time.perf_counter() - budget_started > single_seconds:
            break
    batched: list[float] = []
    for _ in range(sizes.batched_repeats):
        started = time.perf_counter()
        ids = search(queries)
        batched.append(time.perf_counter() - started)
    batch_seconds = statistics.median(batched)
    result = {
        "method": name,
        "single": latency_stats(times),
        "batched": {
            "queries": len(queries),
            "seconds": batch_seconds,
            "qps": len(queries) / batch_seconds,
            "ms_per_query": 1000 * batch_seconds / len(queries),
        },
    }
    return result, ids


def torch_search(base: np.ndarray, device: str, sizes: Sizes) -> Callable[[np.ndarray], np.ndarray]:
    """Exact top-k on ``device``: the base stays there, queries go in chunks of matmul + topk."""
    import torch

    matrix = torch.from_numpy(base).to(device)

    def search(queries: np.ndarray) -> np.ndarray:
        found = []
        with torch.inference_mode():
            on_device = torch.from_numpy(queries).to(device)
            for start in range(0, len(on_device), sizes.query_chunk):
                scores = on_device[start : start + sizes.query_chunk] @ matrix.T
                found.append(torch.topk(scores, sizes.k, dim=1).indices)
            return torch.cat(found).cpu().numpy()  # the copy back waits for the GPU

    return search


def faiss_search(index, k: int) -> Callable[[np.ndarray], np.ndarray]:
    def search(queries: np.ndarray) -> np.ndarray:
        return index.search(queries, k)[1]

    return search


def search_checks(device: str, sizes: Sizes) -> tuple[list[dict], list[str]]:
    faiss = optional_faiss()
    notes: list[str] = []
    started = time.perf_counter()
    base = unit_vectors(sizes.vectors, sizes.dim, SEED)
    queries = unit_vectors(sizes.queries, sizes.dim, SEED + 1)
    print(
        f"  {sizes.vectors:,} x {sizes.dim} vectors made in {time.perf_counter() - started:.1f} s"
    )
    results: list[dict] = []
    ids: dict[str, np.ndarray] = {}

    if faiss is None:
        notes.append("faiss is not installed: FAISS rows skipped, torch search only")
        print(f"  note: {notes[-1]}")
    else:
        cpu_index = faiss.IndexFlatIP(sizes.dim)
        cpu_index.add(base)

    if device == "cuda" and faiss_gpus(faiss) > 0:
        resources = faiss.StandardGpuResources()
        gpu_index = faiss.index_cpu_to_gpu(resources, 0, cpu_index)
        result, ids["faiss-gpu"] = measure_search(
            "faiss GPU IndexFlatIP", faiss_search(gpu_index, sizes.k), queries, sizes
        )
        results.append(result)
        print_search(result)
        del gpu_index, resources
    elif device == "cuda" and faiss is not None:
        notes.append(
            f"the installed FAISS ({faiss.__version__}) has no GPU support "
            "(faiss.get_num_gpus() == 0): GPU search measured with torch.topk only"
        )
        print(f"  note: {notes[-1]}")

    result, ids["torch"] = measure_search(
        f"torch matmul + topk ({device}, fp32, {sizes.query_chunk} queries a chunk)",
        torch_search(base, device, sizes),
        queries,
        sizes,
    )
    results.append(result)
    print_search(result)
    if device == "cuda":
        import torch

        torch.cuda.empty_cache()

    if faiss is None:
        return results, notes
    result, ids["faiss-cpu"] = measure_search(
        f"faiss CPU IndexFlatIP ({faiss.omp_get_max_threads()} threads)",
        faiss_search(cpu_index, sizes.k),
        queries,
        sizes,
        single_limit=sizes.cpu_single_queries,
        single_seconds=sizes.cpu_single_seconds,
    )
    results.append(result)
    print_search(result)

    reference = ids["faiss-cpu"]
    for result, found in zip(results, ids.values(), strict=True):
        same = [len(set(a) & set(b)) / sizes.k for a, b in zip(found, reference, strict=True)]
        result["top_k_agreement_with_faiss_cpu"] = float(np.mean(same))
    agreement = ", ".join(
        f"{name} {r['top_k_agreement_with_faiss_cpu']:.3f}"
        for name, r in zip(ids, results, strict=True)
    )
    print(f"  top-{sizes.k} ids shared with faiss CPU (exact): {agreement}")
    return results, notes


def print_search(result: dict) -> None:
    single, batched = result["single"], result["batched"]
    print(
        f"  {result['method']}\n"
        f"    single: {single['queries']} queries, {single['qps']:,.0f} QPS, "
        f"p50 {single['p50_ms']:.2f} ms, p95 {single['p95_ms']:.2f} ms\n"
        f"    batched: {batched['queries']} queries in {1000 * batched['seconds']:.1f} ms, "
        f"{batched['qps']:,.0f} QPS ({batched['ms_per_query']:.3f} ms a query)",
        flush=True,
    )


# -- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cpu-smoke", action="store_true", help="small sizes on the CPU, even if CUDA is there"
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))  # mmretrieval from this checkout, installed or not

    import torch

    started = time.perf_counter()
    cuda = torch.cuda.is_available()
    smoke = args.cpu_smoke or not cuda
    device = "cpu" if smoke else "cuda"
    sizes = SMOKE_SIZES if smoke else GPU_SIZES
    notes: list[str] = []
    if not cuda:
        notes.append(
            f"CUDA is not available (torch {torch.__version__}, CUDA build "
            f"{torch.version.cuda or 'none'}): ran the CPU smoke sizes only, no GPU numbers"
        )
    elif smoke:
        notes.append("--cpu-smoke: ran the CPU smoke sizes only, no GPU numbers")
    notes.append(
        "CLIP is a randomly initialised full-size ViT-B/32 (CLIPModel(CLIPConfig())): "
        "throughput does not depend on weight values"
    )
    for note in notes:
        print(f"note: {note}")
    out = args.out or RESULTS / ("gpu_check_cpu_smoke.json" if smoke else "gpu_check.json")
    info = machine(device)
    if device == "cuda":
        print(f"GPU {info['gpu']} ({info['gpu_memory_gb']} GB), torch {torch.__version__}")

    print("CLIP image tower (get_image_features, 224x224):", flush=True)
    model = random_clip().to(device)
    tower = []
    for half in (False, True) if sizes.half else (False,):
        for batch in sizes.batches:
            row = tower_throughput(model, device, batch, half, sizes)
            tower.append(row)
            print(
                f"  batch {batch:>4} {row['dtype']:<13} {row['frames_per_second']:>9,.0f} "
                f"frames/s ({row['ms_per_batch']:.1f} ms a batch)",
                flush=True,
            )

    print(f"ClipEncoder.embed_images on {FRAME_SHAPE[1]}x{FRAME_SHAPE[0]} uint8 frames:")
    with tempfile.TemporaryDirectory(prefix="mmr-gpu-check-") as folder:
        save_random_clip(model.cpu(), Path(folder))
        del model
        if device == "cuda":
            torch.cuda.empty_cache()
        try:
            encoder = encoder_throughput(Path(folder), device, sizes)
        except ImportError as exc:
            encoder = []
            notes.append(f"ClipEncoder rows skipped: {exc} (carry the missing package's wheel)")
            print(f"  note: {notes[-1]}")
    for row in encoder:
        print(
            f"  batch {row['batch']:>4} {row['dtype']:<8} {row['frames_per_second']:>9,.0f} "
            f"frames/s end to end; preprocessing alone "
            f"{row['preprocess_frames_per_second']:,.0f} frames/s ({row['preprocess_share']:.0%} "
            f"of the time, {row['image_processor']}); lowest cosine to float32 "
            f"{row['min_cosine_to_float32']:.5f}",
            flush=True,
        )

    print(f"exact top-{sizes.k} search, {sizes.queries} queries:", flush=True)
    search, search_notes = search_checks(device, sizes)
    notes.extend(search_notes)

    result = {
        "mode": "cpu-smoke" if smoke else "gpu",
        "machine": info,
        "sizes": asdict(sizes),
        "notes": notes,
        "clip_tower": tower,
        "clip_encoder": encoder,
        "search": search,
        "wall_seconds": time.perf_counter() - started,
    }
    print(f"done in {result['wall_seconds']:.0f} s")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
