"""Profiles: the bundled ones load, and every kind of mistake in a profile YAML is a ConfigError
that names what is wrong."""

from __future__ import annotations

import pytest
import yaml

from mmretrieval.config import PROFILES_DIR, Profile, bundled_profiles, load_profile
from mmretrieval.errors import ConfigError


def _write(tmp_path, text: str, name: str = "mine.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bundled_offline_profile_loads_with_its_adapters():
    profile = load_profile("offline")
    assert isinstance(profile, Profile)
    assert profile.name == "offline"
    assert profile.adapters.speech is not None and profile.adapters.text is not None
    assert profile.adapters.speech.model.startswith("bundled:")
    assert profile.adapters.text.model.startswith("bundled:")
    assert profile.segment.overlap < profile.segment.window <= profile.segment.max_window


@pytest.mark.parametrize("name", bundled_profiles())
def test_every_bundled_profile_loads_by_name_and_by_path(name):
    by_name = load_profile(name)
    assert by_name == load_profile(PROFILES_DIR / f"{name}.yaml")
    assert by_name.name == name


def test_unknown_profile_name_lists_the_available_ones():
    with pytest.raises(ConfigError, match="unknown profile 'nonesuch'") as caught:
        load_profile("nonesuch")
    assert bundled_profiles(), "no bundled profiles to list"
    for name in bundled_profiles():
        assert name in str(caught.value)


def test_missing_profile_file_is_named(tmp_path):
    path = tmp_path / "gone.yaml"
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_profile(path)
    assert str(path) in str(caught.value)


def test_profile_from_a_path_takes_its_name_from_the_file(tmp_path):
    path = _write(tmp_path, "segment:\n  window: 6\n  overlap: 1\n  max_window: 9\n", "news.yaml")
    profile = load_profile(path)
    assert profile.name == "news"
    assert (profile.segment.window, profile.segment.overlap, profile.segment.max_window) == (
        6,
        1,
        9,
    )


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("segment:\n  windw: 5\n", "segment.windw", "Extra inputs"),
        ("segmnt:\n  window: 5\n", "segmnt", "Extra inputs"),
        ("adapters:\n  text:\n    batchsize: 8\n", "adapters.text.batchsize", "Extra inputs"),
        ("segment:\n  window: 5\n  overlap: 5\n", "overlap", "shorter than window"),
        ("segment:\n  window: 5\n  overlap: 7\n", "overlap", "shorter than window"),
        ("segment:\n  window: 20\n", "max_window", ">= window"),
        ("segment:\n  overlap: -1\n", "segment.overlap", "greater than or equal to 0"),
        ("adapters:\n  text: {}\n  ocr:\n    rate: -1\n", "adapters.ocr.rate", "greater than 0"),
        ("adapters:\n  text: {}\n  ocr:\n    rate: 0\n", "adapters.ocr.rate", "greater than 0"),
        ("segment:\n  window: ten\n", "segment.window", "valid number"),
        ("search:\n  fusion: average\n", "search.fusion", "weighted"),
        ("adapters:\n  speech: {}\n", "text", "needs a 'text' adapter"),
        ("adapters:\n  ocr: {}\n", "text", "needs a 'text' adapter"),
    ],
    ids=[
        "typo-key",
        "typo-section",
        "typo-nested",
        "overlap-eq-window",
        "overlap-gt-window",
        "max-lt-window",
        "negative-overlap",
        "negative-rate",
        "zero-rate",
        "not-a-number",
        "bad-choice",
        "speech-without-text",
        "ocr-without-text",
    ],
)
def test_invalid_profile_is_a_config_error_naming_the_field(tmp_path, text, field, problem):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert str(path) in message
    assert field in message and problem in message, message


@pytest.mark.parametrize(
    "text", ["segment: [1, 2\n", "segment:\n\twindow: 3\n", "a: b: c\n", "key: 'unclosed\n"]
)
def test_invalid_yaml_is_a_config_error_with_the_place(tmp_path, text):
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(text)  # the input really is broken YAML
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match="not valid YAML") as caught:
        load_profile(path)
    assert str(path) in str(caught.value) and "line" in str(caught.value)


@pytest.mark.parametrize("text", ["- segment\n- adapters\n", "just a sentence\n", "42\n"])
def test_yaml_that_is_not_a_mapping_is_a_config_error(tmp_path, text):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    assert str(path) in str(caught.value)


def test_empty_profile_file_gives_the_defaults(tmp_path):
    profile = load_profile(_write(tmp_path, "", "blank.yaml"))
    assert profile == Profile(name="blank")
