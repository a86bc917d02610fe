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
from pathlib import Path

import pytest
import uvicorn
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


@pytest.fixture(scope="module")
def server_url(indexed):
    library, _ = indexed
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(ServerSettings(index_dir=library.index_dir))
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
def page(chromium, server_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--autoplay-policy=no-user-gesture-required"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server_url)
        yield page
        browser.close()
        assert not errors, errors


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
