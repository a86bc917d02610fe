"""The learned bridge between two embedding spaces: CLAP vectors into the CLIP hub space and back.

CLAP (audio+text) and CLIP (image+text) were never trained together, but both embed text. The
same sentences encoded by both text towers give paired vectors; a map fitted on those pairs
carries any vector of the source space, audio included, into the target space -- connecting two
contrastive models through their shared modality, as C-MCR does (Wang et al., NeurIPS 2023).

The map per direction is affine: centre on the source mean, rotate (orthogonal Procrustes, a
semi-orthogonal matrix when the dimensions differ) or solve a ridge least-squares problem, add
the target mean. The means carry each space's offset (its "modality gap" cone), which a rotation
through the origin cannot. An optional residual MLP, trained with an alignment term plus a
symmetric InfoNCE on centred vectors (after C-MCR's pair of losses), refines each direction; it
starts at zero, so it begins exactly at the linear map. A bridge is fitted on 90% of the pairs;
``fit_stats`` reports the held-out 10%: mean cosine to the true vectors and text-to-text R@1
through the map.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mmretrieval.errors import ConfigError
from mmretrieval.models import cache_dir, cache_name

log = logging.getLogger(__name__)

FORMAT = "mmretrieval-bridge"
FORMAT_VERSION = 1
HELDOUT_FRACTION = 0.1
CORPUS = "data/bridge_sentences.txt"


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


@dataclass(frozen=True, eq=False)
class ResidualMlp:
    """``relu(x @ w1 + b1) @ w2 + b2``: a correction added to a linear map's output."""

    w1: np.ndarray  # (d_in, hidden)
    b1: np.ndarray  # (hidden,)
    w2: np.ndarray  # (hidden, d_out)
    b2: np.ndarray  # (d_out,)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2


@dataclass(frozen=True, eq=False)
class Projection:
    """One direction of a bridge: ``normalise(x @ weight + bias [+ residual(x)])``."""

    weight: np.ndarray  # (d_in, d_out) float32
    bias: np.ndarray | None = None  # (d_out,) float32
    residual: ResidualMlp | None = None

    @property
    def dims(self) -> tuple[int, int]:
        return self.weight.shape[0], self.weight.shape[1]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        single = x.ndim == 1
        x = _normalise(np.atleast_2d(x))
        if x.ndim != 2 or x.shape[1] != self.weight.shape[0]:
            raise ValueError(
                f"expected vectors of dimension {self.weight.shape[0]}, got shape {x.shape}"
            )
        y = x @ self.weight
        if self.bias is not None:
            y = y + self.bias
        if self.residual is not None:
            y = y + self.residual(x)
        y = _normalise(y).astype(np.float32, copy=False)
        return y[0] if single else y


@dataclass(frozen=True, eq=False)
class Bridge:
    """A fitted map between ``source_model``'s space and ``target_model``'s, both ways."""

    source_model: str
    target_model: str
    forward: Projection  # source -> target
    backward: Projection  # target -> source
    method: str
    fit_stats: dict[str, Any] = field(default_factory=dict)

    @property
    def source_dim(self) -> int:
        return self.forward.dims[0]

    @property
    def target_dim(self) -> int:
        return self.forward.dims[1]

    def to_target(self, x: np.ndarray) -> np.ndarray:
        """Source vectors (n, d_s) or (d_s,) -> L2-normalised float32 target vectors."""
        return self.forward(x)

    def to_source(self, y: np.ndarray) -> np.ndarray:
        """Target vectors (n, d_t) or (d_t,) -> L2-normalised float32 source vectors."""
        return self.backward(y)

    def save(self, path: str | Path) -> Path:
        """Write the bridge to one ``.npz`` (atomically); returns the path written."""
        path = Path(path)
        arrays: dict[str, np.ndarray] = {}
        for name, projection in (("forward", self.forward), ("backward", self.backward)):
            arrays[f"{name}_weight"] = projection.weight
            if projection.bias is not None:
                arrays[f"{name}_bias"] = projection.bias
            if projection.residual is not None:
                for part in ("w1", "b1", "w2", "b2"):
                    arrays[f"{name}_mlp_{part}"] = getattr(projection.residual, part)
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "source_model": self.source_model,
            "target_model": self.target_model,
            "method": self.method,
            "fit_stats": self.fit_stats,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        log.info("saved bridge %s -> %s to %s", self.source_model, self.target_model, path)
        return path


def _fit_hint(profile: str | None) -> str:
    command = f"mmr bridge fit --profile {profile}" if profile else "mmr bridge fit"
    return f"run `{command}` to fit one for this profile's models"


def load_bridge(
    path: str | Path, source_model: str, target_model: str, profile: str | None = None
) -> Bridge:
    """Read a bridge saved by ``Bridge.save``; it must have been fitted for these two models.

    Raises ``ConfigError`` when the file is missing, unreadable, of another format version, or
    was fitted for other models. ``profile`` only names the profile in the message.
    """
    path = Path(path)
    wanted = f"{source_model} -> {target_model}"
    if not path.is_file():
        raise ConfigError(f"no bridge at {path} for {wanted}: {_fit_hint(profile)}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            arrays = {key: npz[key] for key in npz.files if key != "meta"}
        if meta.get("format") != FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}, expected {FORMAT!r}")
        if meta.get("version") != FORMAT_VERSION:
            raise ValueError(f"format version {meta.get('version')}, expected {FORMAT_VERSION}")
        fitted = f"{meta['source_model']} -> {meta['target_model']}"
    except Exception as e:  # zip, json, key and shape errors all mean "not a usable bridge"
        raise ConfigError(
            f"bridge {path} cannot be read ({type(e).__name__}: {e}); delete it and "
            f"{_fit_hint(profile)}"
        ) from e
    if (meta["source_model"], meta["target_model"]) != (source_model, target_model):
        raise ConfigError(
            f"bridge {path} was fitted for {fitted}; this profile uses {wanted}: "
            f"{_fit_hint(profile)}"
        )
    try:
        forward, backward = (_projection(arrays, name) for name in ("forward", "backward"))
        if forward.dims != backward.dims[::-1]:
            raise ValueError(f"forward is {forward.dims}, backward is {backward.dims}")
    except (KeyError, ValueError) as e:
        raise ConfigError(
            f"bridge {path} is corrupt ({e}); delete it and {_fit_hint(profile)}"
        ) from e
    return Bridge(
        source_model=source_model,
        target_model=target_model,
        forward=forward,
        backward=backward,
        method=str(meta.get("method", "")),
        fit_stats=dict(meta.get("fit_stats") or {}),
    )


def _projection(arrays: dict[str, np.ndarray], name: str) -> Projection:
    def get(key: str) -> np.ndarray | None:
        value = arrays.get(f"{name}_{key}")
        return None if value is None else _frozen(value)

    weight = get("weight")
    if weight is None or weight.ndim != 2:
        raise KeyError(f"{name}_weight missing or not a matrix")
    bias = get("bias")
    if bias is not None and bias.shape != (weight.shape[1],):
        raise ValueError(f"{name}_bias has shape {bias.shape}, expected ({weight.shape[1]},)")
    parts = [get(f"mlp_{part}") for part in ("w1", "b1", "w2", "b2")]
    residual = None
    if all(p is not None for p in parts):
        residual = ResidualMlp(*parts)  # type: ignore[arg-type]
        if residual.w1.shape[0] != weight.shape[0] or residual.w2.shape[1] != weight.shape[1]:
            raise ValueError(f"{name} residual MLP does not match the linear map's dimensions")
    return Projection(weight, bias, residual)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float32)  # a private copy nobody else can write to
    if not np.all(np.isfinite(a)):
        raise ValueError("non-finite values")
    a.setflags(write=False)
    return a


def fit_bridge(
    source: np.ndarray,
    target: np.ndarray,
    source_model: str,
    target_model: str,
    method: Literal["procrustes", "lstsq"] = "procrustes",
    mlp_epochs: int = 0,
    seed: int = 0,
    *,
    ridge: float = 1e-3,
    mlp_hidden: int = 512,
) -> Bridge:
    """Fit a bridge on paired embeddings of the same sentences, (n, d_s) and (n, d_t).

    ``procrustes``: centred, scaled orthogonal Procrustes (semi-orthogonal when d_s != d_t);
    the backward map is the scaled transpose. ``lstsq``: centred ridge regression, each
    direction solved on its own (``ridge`` is relative to the mean feature variance).
    ``mlp_epochs > 0`` adds a residual MLP per direction (torch, CPU, seeded). 10% of the pairs
    (chosen by ``seed``) are held out and reported in ``fit_stats``.
    """
    x = _normalise(np.asarray(source, dtype=np.float64))
    y = _normalise(np.asarray(target, dtype=np.float64))
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"expected paired (n, d) arrays, got {x.shape} and {y.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"a bridge needs at least 2 sentence pairs, got {x.shape[0]}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("embeddings contain NaN or inf")
    if method not in ("procrustes", "lstsq"):
        raise ValueError(f"method must be 'procrustes' or 'lstsq', got {method!r}")

    n = x.shape[0]
    order = np.random.default_rng(seed).permutation(n)
    n_held = int(n * HELDOUT_FRACTION) if n >= 20 else 0
    held, train = order[:n_held], order[n_held:]
    xt, yt = x[train], y[train]

    if method == "procrustes":
        forward, backward = _procrustes(xt, yt)
    else:
        forward, backward = _ridge(xt, yt, ridge), _ridge(yt, xt, ridge)

    stats: dict[str, Any] = {
        "n_pairs": n,
        "n_train": len(train),
        "n_heldout": n_held,
        "source_dim": x.shape[1],
        "target_dim": y.shape[1],
        "mlp_epochs": mlp_epochs,
        "seed": seed,
    }
    if mlp_epochs > 0:
        if n_held:
            stats.update(_heldout_stats(forward, backward, x[held], y[held], suffix="_linear"))
        forward = _with_residual(forward, xt, yt, mlp_epochs, mlp_hidden, seed)
        backward = _with_residual(backward, yt, xt, mlp_epochs, mlp_hidden, seed + 1)
    if n_held:
        stats.update(_heldout_stats(forward, backward, x[held], y[held]))
    name = method + ("+mlp" if mlp_epochs > 0 else "")
    log.info("fitted %s bridge %s -> %s: %s", name, source_model, target_model, stats)
    return Bridge(source_model, target_model, forward, backward, name, stats)


def _affine(weight: np.ndarray, mean_in: np.ndarray, mean_out: np.ndarray) -> Projection:
    """``(x - mean_in) @ weight + mean_out`` as one weight and bias."""
    return Projection(_frozen(weight), _frozen(mean_out - mean_in @ weight))


def _procrustes(x: np.ndarray, y: np.ndarray) -> tuple[Projection, Projection]:
    mx, my = x.mean(0), y.mean(0)
    xc, yc = x - mx, y - my
    u, s, vt = np.linalg.svd(xc.T @ yc, full_matrices=False)
    rotation = u @ vt  # (d_s, d_t), orthonormal columns or rows
    # the scale of each direction balances the rotated spread against the target mean
    scale_forward = s.sum() / max(np.sum(xc * xc), 1e-12)
    scale_backward = s.sum() / max(np.sum(yc * yc), 1e-12)
    return (
        _affine(scale_forward * rotation, mx, my),
        _affine(scale_backward * rotation.T, my, mx),
    )


def _ridge(x: np.ndarray, y: np.ndarray, ridge: float) -> Projection:
    mx, my = x.mean(0), y.mean(0)
    xc, yc = x - mx, y - my
    gram = xc.T @ xc
    lam = ridge * max(np.trace(gram) / gram.shape[0], 1e-12)
    weight = np.linalg.solve(gram + lam * np.eye(gram.shape[0]), xc.T @ yc)
    return _affine(weight, mx, my)


def _heldout_stats(
    forward: Projection, backward: Projection, x: np.ndarray, y: np.ndarray, suffix: str = ""
) -> dict[str, float]:
    out: dict[str, float] = {}
    for direction, projection, inputs, truth in (
        ("to_target", forward, x, y),
        ("to_source", backward, y, x),
    ):
        mapped = projection(inputs.astype(np.float32)).astype(np.float64)
        sims = mapped @ truth.T
        out[f"heldout_cos_{direction}{suffix}"] = round(float(np.mean(np.diag(sims))), 5)
        hits = np.argmax(sims, axis=1) == np.arange(len(truth))
        out[f"heldout_r1_{direction}{suffix}"] = round(float(np.mean(hits)), 5)
    return out


def _with_residual(
    linear: Projection, x: np.ndarray, y: np.ndarray, epochs: int, hidden: int, seed: int
) -> Projection:
    """Train a zero-initialised residual MLP on top of ``linear``.

    Loss: alignment (1 - cosine to the true vector) plus a symmetric InfoNCE over the batch.
    The InfoNCE compares *centred* vectors: on raw ones it pushes outputs off the target
    space's mean direction (the cone every embedding shares), which keeps R@1 but wrecks the
    cosine to real target vectors that the hub space's pooling and search rely on.
    """
    import torch
    from torch.nn.functional import cross_entropy, normalize

    g = torch.Generator().manual_seed(seed)
    xs = torch.from_numpy(x.astype(np.float32))
    ys = torch.from_numpy(y.astype(np.float32))
    centre = ys.mean(0)
    ys_centred = normalize(ys - centre, dim=1)
    base = torch.from_numpy(_pre_norm(linear, x))
    d_in, d_out = linear.dims
    w1 = (torch.randn(d_in, hidden, generator=g) * (2.0 / d_in) ** 0.5).requires_grad_()
    b1 = torch.zeros(hidden, requires_grad=True)
    w2 = torch.zeros(hidden, d_out, requires_grad=True)  # starts exactly at the linear map
    b2 = torch.zeros(d_out, requires_grad=True)
    params = [w1, b1, w2, b2]
    optimiser = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)
    temperature, batch = 0.05, 256
    for _ in range(epochs):
        for idx in torch.randperm(len(xs), generator=g).split(batch):
            out = normalize(base[idx] + torch.relu(xs[idx] @ w1 + b1) @ w2 + b2, dim=1)
            align = (1.0 - (out * ys[idx]).sum(1)).mean()
            logits = normalize(out - centre, dim=1) @ ys_centred[idx].T / temperature
            labels = torch.arange(len(idx))
            nce = (cross_entropy(logits, labels) + cross_entropy(logits.T, labels)) / 2
            optimiser.zero_grad()
            (align + nce).backward()
            optimiser.step()
    parts = [_frozen(p.detach().numpy()) for p in params]
    return Projection(linear.weight, linear.bias, ResidualMlp(*parts))


def _pre_norm(linear: Projection, x: np.ndarray) -> np.ndarray:
    """The linear map's output before normalisation (the residual is added there)."""
    y = x.astype(np.float32) @ linear.weight
    return (y + linear.bias if linear.bias is not None else y).astype(np.float32)


def default_bridge_path(source_model: str, target_model: str) -> Path:
    """Where ``mmr bridge fit`` writes the bridge for these models by default.

    ``$MMR_CACHE/bridges/<source>__<target>.npz`` (``~/.cache/mmretrieval`` without
    ``MMR_CACHE``): keyed by the models, so a profile with other models never picks it up.
    """
    return cache_dir("bridges") / f"{cache_name(source_model)}__{cache_name(target_model)}.npz"


def bridge_corpus() -> list[str]:
    """The shipped sentences a bridge is fitted on: distinct, in file order, comments dropped."""
    text = resources.files("mmretrieval").joinpath(CORPUS).read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return list(dict.fromkeys(line for line in lines if line and not line.startswith("#")))
