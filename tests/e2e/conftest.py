"""Browser tests: headless Chromium (Debian's package) driving pytest-django's live server.

Playwright's own browser download is not used: CI and developers install the system
Chromium (``apt-get install chromium``). Without it these tests fail, saying so; they do not
skip, so a missing browser can never pass unnoticed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts"


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM_PATH", ""), *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    pytest.fail(
        "Chromium is not installed: the browser tests need it. Install it with "
        "`apt-get install -y chromium` (or set CHROMIUM_PATH).",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One headless Chromium per test module, stopped after it.

    Playwright's sync API keeps an event loop running in this thread while the browser is
    up. The ORM calls the tests make around it (building data, checking it, flushing the
    database after each test) are plain synchronous code, so Django's async-safety guard
    stands down for exactly as long as the browser runs, and no longer.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def new_page(chromium):
    """``new_page(width=…, height=…)``: a fresh context (own cookies) in Russian, the demo
    default; JavaScript errors on the page fail the test."""
    contexts = []
    errors: list[str] = []

    def make(width: int = 1366, height: int = 900, **options):
        context = chromium.new_context(
            viewport={"width": width, "height": height}, locale="ru-RU", **options
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
