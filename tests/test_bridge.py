"""The CLAP -> CLIP bridge: a planted map must be recovered, saved, reloaded and checked."""

from __future__ import annotations

import numpy as np
import pytest

from mmretrieval.adapters.bridge import (
    Bridge,
    bridge_corpus,
    default_bridge_path,
    fit_bridge,
    load_bridge,
)
from mmretrieval.errors import ConfigError

N, D_S, D_T = 2000, 48, 32
HELD = slice(1800, None)  # fresh vectors the fit never saw


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _planted(
    d_s: int, d_t: int, kind: str, seed: int = 0, offset: float = 0.0, noise: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """Unit source vectors and their images under a random planted map, plus noise.

    ``offset`` gives both sides a shared mean direction (a cone, like real embeddings).
    """
    rng = np.random.default_rng(seed)
    x = _unit(rng.standard_normal((N, d_s)) + offset * rng.standard_normal(d_s))
    if kind == "orthogonal":
        q, _ = np.linalg.qr(rng.standard_normal((d_s, d_s)))
        planted = q[:, :d_t]
    else:  # general full-rank
        planted = rng.standard_normal((d_s, d_t)) / np.sqrt(d_s)
    y = x @ planted + offset * 0.3 * rng.standard_normal(d_t)
    y = _unit(y + noise * rng.standard_normal((N, d_t)) / np.sqrt(d_t))
    return x, y


def _fit(x: np.ndarray, y: np.ndarray, **kwargs) -> Bridge:
    return fit_bridge(x[:1800], y[:1800], "clap-a", "clip-b", **kwargs)


def _mean_cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.sum(a * b, axis=1)))


@pytest.fixture
def one_thread():
    """The MLP's matrices are tiny: one thread is fastest, and not slowed by a busy machine."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("offset", [0.0, 1.0])
def test_procrustes_recovers_a_planted_semi_orthogonal_map(offset: float) -> None:
    x, y = _planted(D_S, D_T, "orthogonal", offset=offset)
    bridge = _fit(x, y)
    mapped = bridge.to_target(x[HELD])
    assert mapped.dtype == np.float32 and mapped.shape == (200, D_T)
    np.testing.assert_allclose(np.linalg.norm(mapped, axis=1), 1.0, atol=1e-5)
    assert _mean_cos(mapped, y[HELD]) > 0.99
    stats = bridge.fit_stats
    assert stats["n_pairs"] == 1800 and stats["n_heldout"] == 180
    assert stats["heldout_cos_to_target"] > 0.99 and stats["heldout_r1_to_target"] > 0.95


def test_procrustes_same_dims_round_trips() -> None:
    x, y = _planted(D_S, D_S, "orthogonal", offset=1.0)
    bridge = _fit(x, y)
    assert _mean_cos(bridge.to_target(x[HELD]), y[HELD]) > 0.99
    assert _mean_cos(bridge.to_source(y[HELD]), x[HELD]) > 0.99
    assert _mean_cos(bridge.to_source(bridge.to_target(x[HELD])), x[HELD]) > 0.99
    one = bridge.to_target(x[0])  # a single vector in, a single vector out
    assert one.shape == (D_S,) and one.dtype == np.float32


def test_lstsq_recovers_a_general_map() -> None:
    x, y = _planted(D_S, D_T, "general", offset=1.0)
    bridge = _fit(x, y, method="lstsq")
    assert bridge.method == "lstsq"
    assert _mean_cos(bridge.to_target(x[HELD]), y[HELD]) > 0.99


def test_mlp_keeps_a_linear_map_and_is_seeded(one_thread: None) -> None:
    x, y = _planted(D_S, D_T, "general", offset=1.0)
    kwargs = {"method": "lstsq", "mlp_epochs": 3, "mlp_hidden": 64, "seed": 7}
    bridge = _fit(x, y, **kwargs)
    assert bridge.method == "lstsq+mlp" and bridge.forward.residual is not None
    assert _mean_cos(bridge.to_target(x[HELD]), y[HELD]) > 0.99
    again = _fit(x, y, **kwargs)
    np.testing.assert_array_equal(bridge.to_target(x[HELD]), again.to_target(x[HELD]))
    np.testing.assert_array_equal(bridge.to_source(y[HELD]), again.to_source(y[HELD]))


def test_save_load_round_trip(tmp_path, one_thread: None) -> None:
    x, y = _planted(D_S, D_T, "orthogonal")
    bridge = _fit(x, y, mlp_epochs=1, mlp_hidden=16)
    path = bridge.save(tmp_path / "sub" / "bridge.npz")
    loaded = load_bridge(path, "clap-a", "clip-b")
    np.testing.assert_array_equal(loaded.to_target(x[HELD]), bridge.to_target(x[HELD]))
    np.testing.assert_array_equal(loaded.to_source(y[HELD]), bridge.to_source(y[HELD]))
    assert loaded.method == bridge.method and loaded.fit_stats == bridge.fit_stats
    assert (loaded.source_dim, loaded.target_dim) == (D_S, D_T)


def test_load_rejects_other_models_missing_and_corrupt_files(tmp_path) -> None:
    x, y = _planted(D_S, D_T, "orthogonal")
    path = _fit(x, y).save(tmp_path / "bridge.npz")
    with pytest.raises(ConfigError) as excinfo:
        load_bridge(path, "clap-c", "clip-d", profile="default")
    message = str(excinfo.value)
    assert "clap-a -> clip-b" in message and "clap-c -> clip-d" in message
    assert "mmr bridge fit --profile default" in message

    with pytest.raises(ConfigError, match="no bridge"):
        load_bridge(tmp_path / "absent.npz", "clap-a", "clip-b")

    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ConfigError, match="cannot be read"):
        load_bridge(corrupt, "clap-a", "clip-b")
    garbage = tmp_path / "garbage.npz"
    garbage.write_text("not a bridge")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_bridge(garbage, "clap-a", "clip-b")


def test_default_path_is_keyed_by_both_models(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MMR_CACHE", str(tmp_path))
    path = default_bridge_path("laion/clap-htsat-unfused", "openai/clip-vit-base-patch32")
    assert path.parent == tmp_path / "bridges" and path.suffix == ".npz"
    assert path.name == "laion-clap-htsat-unfused__openai-clip-vit-base-patch32.npz"
    assert default_bridge_path("laion/clap-htsat-unfused", "other/clip") != path


def test_bridge_corpus_is_sizeable() -> None:
    sentences = bridge_corpus()
    assert len(sentences) == len(set(sentences)) > 1000
    assert all(s.strip() and not s.startswith("#") for s in sentences)
