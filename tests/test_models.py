"""Model specs resolve to folders on disk, or fail with a message that says what to do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mmretrieval.errors import ModelMissingError
from mmretrieval.models import BUNDLED, resolve
from mmretrieval.testing.synth import Scene, make_audio

_BESIDE_PYTHON = Path(sys.executable).with_name("mmr")
MMR = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else shutil.which("mmr")


@pytest.mark.parametrize("name", ["tiny.en", "all-MiniLM-L6-v2"])
def test_bundled_models_resolve_to_folders_with_files(name):
    path = resolve(f"bundled:{name}")
    assert path.is_dir()
    assert any(p.is_file() for p in path.rglob("*")), f"{path} holds no files"


def test_unknown_bundled_name_lists_the_known_ones():
    with pytest.raises(ModelMissingError, match="no bundled model named 'large-v9'") as caught:
        resolve("bundled:large-v9")
    for name in BUNDLED:
        assert name in str(caught.value)


def test_existing_local_folder_resolves_to_itself(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"\0")
    assert resolve(str(tmp_path)) == tmp_path


@pytest.mark.parametrize("spec", ["/nowhere/at/all/model", "./models/whisper", "a/b/c"])
def test_missing_local_folder_is_named(spec):
    with pytest.raises(ModelMissingError, match="does not exist") as caught:
        resolve(spec)
    assert spec in str(caught.value)


_RESOLVE_IN_CHILD = """
import json, sys
from mmretrieval.errors import ModelMissingError
from mmretrieval.models import resolve
try:
    print(json.dumps({"path": str(resolve(sys.argv[1]))}))
except ModelMissingError as exc:
    print(json.dumps({"error": str(exc)}))
"""


def test_uncached_hub_model_offline_names_the_model_and_both_remedies(tmp_path, monkeypatch):
    # huggingface_hub reads HF_HUB_OFFLINE and HF_HOME when it is imported, and this process has
    # imported it already, so resolve runs in a fresh interpreter that sees the settings.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE"):
        monkeypatch.delenv(name, raising=False)
    repo_id = "mmretrieval-tests/no-such-model"
    # The timeout only turns a hang (a download attempt despite offline mode) into a failure.
    child = subprocess.run(
        [sys.executable, "-c", _RESOLVE_IN_CHILD, repo_id],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert "error" in result, f"resolved to {result.get('path')}"
    message = result["error"]
    assert repo_id in message
    assert "HF_HOME" in message and "cache" in message  # remedy 1: bring the cache over
    assert "profile" in message and "path" in message  # remedy 2: point at a local folder
    assert not (tmp_path / "hf" / "hub" / "models--mmretrieval-tests--no-such-model").exists()


def test_index_names_every_missing_model_of_the_profile_at_once(tmp_path):
    """The default profile's hub models are absent from an empty cache: one error names all of
    them with `mmr models pull` beside the cache and folder remedies, before any index exists."""
    media = make_audio(tmp_path / "media" / "hello.wav", [Scene(speech="Good evening.")])
    assert media
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "COLUMNS": "200"}
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE"):
        env.pop(name, None)
    result = subprocess.run(
        [MMR, "index", str(tmp_path / "media"), "--index", str(tmp_path / "idx")]
        + ["--profile", "default"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1, result.stderr
    message = errors[0]
    for model in (
        "Systran/faster-whisper-small",
        "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
        "openai/clip-vit-base-patch32",
        "laion/clap-htsat-unfused",
    ):
        assert model in message
    assert "4 model(s)" in message
    assert "rapidocr" not in message  # the OCR models ship in its wheel: present
    assert "`mmr models pull default`" in message
    assert "HF_HOME" in message and "cache" in message
    assert "folder" in message and "path" in message
    assert not (tmp_path / "idx").exists()
