"""The web page in headless Chromium (Debian's, driven by Playwright): search, see cards, play.

A screenshot of the result page is saved to ``artifacts/`` (or ``$MMR_ARTIFACTS``). Chromium is
found on PATH, or at ``$MMR_CHROMIUM``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from people_media import people_profile
from playwright.sync_api import sync_playwright

from mmretrieval.server.app import ServerSettings, create_app

ARTIFACTS = Path(os.environ.get("MMR_ARTIFACTS", Path(__file__).parents[1] / "artifacts"))


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium. Without it the browser tests fail (never skip), and only they do:
    collection still succeeds, so other tests run on a machine that lacks it."""
    named = os.environ.get("MMR_CHROMIUM")
    if named:
        found, looked = shutil.which(named), f"MMR_CHROMIUM={named} is not an executable"
    else:
        found = shutil.which("chromium") or shutil.which("chromium-browser")
        looked = "neither chromium nor chromium-browser is on PATH"
    if found is None:
        pytest.fail(
            f"chromium is missing ({looked}): run scripts/install_system_deps.sh", pytrace=False
        )
    return found


@contextmanager
def _serving(index_dir: Path, profile=None) -> Iterator[str]:
    """The URL of the real server over ``index_dir``, on a free port, while in the block."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(ServerSettings(index_dir=index_dir, profile=profile))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def server_url(indexed):
    library, _ = indexed
    with _serving(library.index_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--autoplay-policy=no-user-gesture-required"]
        )
        yield browser
        browser.close()


@contextmanager
def _opened(browser, url: str):
    """A page of ``url``; the page's script must raise no error meanwhile."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    yield page
    page.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def page(browser, server_url):
    with _opened(browser, server_url) as page:
        yield page


def test_search_play_and_keyboard(page, corpus):
    page.wait_for_selector("#index-stats:has-text('4 files')")
    page.fill("#q", "ferry crossings cancelled")
    page.keyboard.press("Enter")
    first = page.locator(".card").first
    first.wait_for()
    assert "harbour.mkv" in first.inner_text()
    assert page.locator(".card mark").count() > 0  # the matched words are highlighted
    assert page.locator(".card .evidence li").count() > 0
    start, end = float(first.get_attribute("data-start")), float(first.get_attribute("data-end"))
    page.wait_for_function(  # thumbnails loaded
        "() => [...document.querySelectorAll('.card img')].every(i => i.complete && i.naturalWidth)"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-results.png"), full_page=True)

    first.click()
    page.wait_for_function(
        "([start, end]) => { const v = document.getElementById('video');"
        " return v.readyState >= 2 && !v.seeking && v.currentTime > start + 0.2"
        " && v.currentTime < end; }",
        arg=[start, end],
        timeout=30_000,
    )
    current = page.evaluate("document.getElementById('video').currentTime")
    assert start <= current <= end
    assert page.locator("#player-texts li").count() > 0
    shots = page.locator("#player-shots")
    shots.wait_for()  # shown once the clip's details say the file has shots
    assert shots.get_attribute("href").startswith("/shotlist/")
    page.screenshot(path=str(ARTIFACTS / "player.png"))

    # Keyboard: "/" focuses the search box; arrows move between cards; Escape pauses.
    page.keyboard.press("Escape")
    assert page.evaluate("document.getElementById('video').paused")
    page.locator(".card").first.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.clipId") == page.locator(
        ".card"
    ).nth(1).get_attribute("data-clip-id")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"


def test_the_language_filter(page):
    page.click("#filters summary")
    page.fill("#f-lang", "de")
    page.fill("#q", "ferry crossings cancelled")
    page.keyboard.press("Enter")
    page.wait_for_selector("#status:has-text('0 hits')")
    page.fill("#f-lang", "DE, en")
    page.press("#q", "Enter")  # the filter fields are outside the search form
    page.locator(".card").first.wait_for()
    assert "harbour.mkv" in page.locator(".card").first.inner_text()
    page.fill("#f-lang", "")


def test_query_file_and_error_message(page, corpus):
    page.set_input_files("#file", str(corpus["podcast"].path))
    page.wait_for_selector("#status:has-text('podcast.wav')")
    assert "podcast.wav" in page.locator(".card").first.inner_text()
    page.set_input_files(
        "#file", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}]
    )
    page.wait_for_selector("#error:has-text('audio/*')")


def test_find_a_person_by_voice(browser, page, people_indexed, voices):
    page.wait_for_selector("#index-stats:has-text('4 files')")
    assert page.locator("#people").is_hidden()  # an offline index holds no voices or faces
    with (
        _serving(people_indexed.index_dir, people_profile()) as url,
        _opened(browser, url) as people,
    ):
        people.wait_for_selector("#people summary")  # shown: the index holds voices and faces
        people.click("#people summary")
        assert people.locator("#voice").is_enabled() and people.locator("#face").is_enabled()
        people.set_input_files("#voice", str(voices / "other_words_by_a.wav"))
        people.wait_for_selector("#status:has-text('the voice in other_words_by_a.wav')")
        first = people.locator(".card").first
        assert first.locator(".name").inner_text() == "a.wav"
        speaker = first.locator(".speaker").inner_text()
        assert speaker.startswith("speaks: voice:")
        assert people.locator(".card .speaker").nth(1).inner_text() != speaker  # b.wav's voice
        assert "voice" in first.locator(".evidence").inner_text()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        people.screenshot(path=str(ARTIFACTS / "voice-search.png"), full_page=True)
