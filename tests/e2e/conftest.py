"""Real-browser tests: pytest-playwright driving Debian's chromium (browser downloads are
impossible here). Without chromium they skip visibly; in CI they must run."""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import require_tool

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE = {"width": 360, "height": 800}
# Django's live server runs in a thread; the async-unsafe guard would trip on Playwright's loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": require_tool("chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": PHONE, "locale": "id-ID"}


@pytest.fixture
def axe_check():
    """Run axe-core on the page; fail on any serious or critical violation."""
    axe = Axe()

    def check(page) -> None:
        results = axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"accessibility violations on {page.url}: {bad}"

    return check


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
