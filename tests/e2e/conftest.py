"""Browser tests: the real app under ``streamlit run``, driven by Playwright in Chromium.

They need Debian's Chromium at /usr/bin/chromium (``.ci/run`` installs it); without it
every test here is skipped with a note saying so. Screenshots go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from benchmarks.serve import free_port, start_streamlit, stop

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DESCENT_LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 720}

def _chromium_missing() -> str | None:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium): browser tests skipped"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]'): browser tests skipped"
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    browser_tests = [item for item in items if here in Path(str(item.path)).resolve().parents]
    for item in browser_tests:
        item.add_marker(pytest.mark.e2e)
    reason = _chromium_missing()
    if reason is None or not browser_tests:
        return
    print(f"\n*** {reason} ***")
    skip = pytest.mark.skip(reason=reason)
    for item in browser_tests:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def app_url():
    """The app, started once for the whole browser session."""
    port = free_port()
    proc = start_streamlit(ROOT / "app.py", port)
    yield f"http://127.0.0.1:{port}"
    stop(proc)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors
    yield pg
    context.close()
