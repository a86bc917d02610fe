"""Whisper base from two package halves: joined once, checked against its size and SHA-256."""

from __future__ import annotations

import hashlib

import pytest

from mmretrieval.errors import ModelMissingError
from mmretrieval.whisper_base import VERIFIED, assemble


def halves(tmp_path):
    first, second = tmp_path / "model.bin.part1", tmp_path / "model.bin.part2"
    first.write_bytes(bytes(range(256)) * 40)
    second.write_bytes(b"second half" * 300)
    config = tmp_path / "config.json"
    config.write_text("{}")
    whole = first.read_bytes() + second.read_bytes()
    return [first, second], [config], len(whole), hashlib.sha256(whole).hexdigest()


def test_halves_join_into_a_checked_folder(tmp_path):
    parts, side, size, digest = halves(tmp_path)
    folder = assemble(parts, side, tmp_path / "cache" / "whisper-base", size, digest)
    assert (folder / "model.bin").read_bytes() == parts[0].read_bytes() + parts[1].read_bytes()
    assert (folder / "config.json").read_text() == "{}"
    assert (folder / VERIFIED).read_text().split() == [str(size), digest]
    assert sorted(p.name for p in folder.parent.iterdir()) == ["whisper-base"]


def test_a_wrong_half_is_refused_and_leaves_nothing(tmp_path):
    parts, side, size, digest = halves(tmp_path)
    parts[1].write_bytes(b"tampered" * 300)
    with pytest.raises(ModelMissingError, match="SHA-256"):
        assemble(parts, side, tmp_path / "cache" / "whisper-base", size, digest)
    assert list((tmp_path / "cache").iterdir()) == []
