"""A real `atlas serve` on loopback and a headless system Chromium driven by Playwright (never `playwright install`).

Every browser test gets a fresh profile and fails on any console error or uncaught page error; on failure a
screenshot goes to tests/artifacts/ (gitignored).
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, BrowserPage, Server, chromium_missing  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Remember each phase's report on the item so fixtures can tell a failed test at teardown."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server per test module."""
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    srv = Server(tmp_path_factory.mktemp("atlas-browser"))
    yield srv
    srv.close()


@pytest.fixture()
def browser(server: Server, request: pytest.FixtureRequest) -> Iterator[BrowserPage]:
    """Headless system Chromium with a fresh profile; fails the test on console errors."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="atlas-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS, accept_downloads=True,
                viewport={"width": 1360, "height": 1000}, locale="en-US", timezone_id="UTC")
            context.set_default_timeout(20_000)
            bp = BrowserPage(context.pages[0] if context.pages else context.new_page())
            try:
                yield bp
            finally:
                failed = any(getattr(getattr(request.node, f"rep_{w}", None), "failed", False)
                             for w in ("setup", "call"))
                if failed:
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    bp.page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
                late = bp.unexpected_errors()
                context.close()
                if late and not failed:
                    pytest.fail(f"console errors during the test: {late}")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
