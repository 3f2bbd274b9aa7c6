"""A real browser against ``streamlit run``: start a digits run with the defaults and watch it.

Drives Debian's Chromium through the playwright package (``playwright install`` is not needed).
Screenshots go to ``test-artifacts/browser/`` (git-ignored). Skipped, with the reason, only
where no Chromium exists.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"

pytestmark = pytest.mark.browser

sys.path.insert(0, str(ROOT / "scripts"))
# The scripts' Chromium, server and measurement of the first impression.
from bench_dashboard import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402
from first_impression import seconds_until_usable  # noqa: E402


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``streamlit run streamlit_app.py -- --runs-dir TMP`` on a free localhost port."""
    process, url = serve(tmp_path / "runs", tmp_path / "streamlit.log")
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "streamlit.log", ARTIFACTS / "streamlit.log")


@pytest.fixture
def page(server: str):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (install Debian's chromium package)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1800})
        page.set_default_timeout(60_000)
        page.server_url = server  # opened by the test, which times the first impression
        yield page
        browser.close()


FAVICON_IS_THE_APPS = """() => [...document.querySelectorAll('link[rel*="icon"]')]
    .some(link => link.href.startsWith("data:image/svg+xml"))"""


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _no_exception(page) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()


def test_start_a_run_and_inspect_an_example(page) -> None:
    page.goto(page.server_url, wait_until="commit")
    seconds = seconds_until_usable(page)
    # Printed, not asserted: a timing depends on the machine (shown with pytest -s).
    print(f"\nfreshly started server: Start usable {seconds:.1f} s after opening the page")
    page.get_by_text("Class-level data weighting, live").first.wait_for()
    page.get_by_text("No runs yet").first.wait_for()
    page.wait_for_function(FAVICON_IS_THE_APPS)  # set once the whole page is drawn
    _shot(page, "01-empty")

    page.get_by_role("button", name="Start GDW", exact=True).click()
    # Accuracy curves with data: a plotted line inside the accuracy chart.
    chart = page.locator(".js-plotly-plot", has_text="Accuracy per epoch")
    chart.locator(".scatterlayer .trace path.js-line").first.wait_for(timeout=120_000)
    page.get_by_text("Epoch", exact=True).first.wait_for()
    _no_exception(page)
    _shot(page, "02-live-accuracy")

    page.get_by_role(
        "tab", name="Weight distributions"
    ).last.click()  # a redraw keeps the old bar briefly
    story = page.locator(".js-plotly-plot", has_text="Noisy vs clean examples' signals")
    story.locator(".scatterlayer .trace path.js-line").first.wait_for(timeout=60_000)
    page.locator(".js-plotly-plot", has_text="Is the wrong signal singled out").first.wait_for()
    _no_exception(page)
    _shot(page, "02b-story")

    page.get_by_role(
        "tab", name="Example inspector"
    ).last.click()  # a redraw keeps the old bar briefly
    page.get_by_text("this example's class-level weights").first.wait_for(timeout=60_000)
    page.locator('[data-testid="stImage"] img').first.wait_for()
    _no_exception(page)
    _shot(page, "03-inspector")

    # Pick another example by its index.
    box = page.get_by_label("Example by index")
    box.fill("10")
    box.press("Enter")
    page.get_by_text("training example #10").first.wait_for()
    page.get_by_text("How this example's weights evolved").first.wait_for()
    _no_exception(page)
    _shot(page, "04-example-10")

    # ... and one from the gallery of the most distrusted labels.
    page.get_by_role(
        "tab", name="Label-noise finding"
    ).last.click()  # a redraw keeps the old bar briefly
    page.get_by_role("heading", name="Most distrusted labels").first.wait_for()
    page.get_by_role("button", name="Inspect").first.click()
    page.get_by_text("this example's class-level weights").first.wait_for()
    _no_exception(page)
    _shot(page, "05-from-gallery")
