"""Seconds from opening the page of a freshly started server until its Start button is usable.

    python scripts/first_impression.py [--app-dir DIR ...] [--baseline] [--repeats N]

Each repeat starts ``streamlit run streamlit_app.py`` in an ``--app-dir`` (default: this
repository) on a free port with an empty runs folder, waits until the server answers, opens the
page in a new headless Chromium (``/usr/bin/chromium`` or ``$GDW_CHROMIUM``), so nothing is
cached, and waits for the sidebar's "Start GDW" button to be drawn, visible and enabled. The
time is the page's own clock (``performance.now()``, zero when the navigation starts), read on
the first animation frame that shows the button usable, so the polling of the driver adds
nothing. Several ``--app-dir`` are measured in turn, A B A B ..., so that a shared machine's
drift hits them alike; the medians and ranges are printed at the end. ``--baseline`` adds,
in the same rotation, a Streamlit page with nothing but that button and a title (and this
repository's ``.streamlit/config.toml``): the floor a Streamlit page has on the machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from bench_dashboard import CHROMIUM, CHROMIUM_ARGS, ROOT, serve  # its neighbour in scripts/

USABLE = """() => {
  const start = [...document.querySelectorAll('[data-testid="stSidebar"] button')]
    .find(button => button.textContent.trim().endsWith("Start GDW"));
  return start && !start.disabled && start.checkVisibility() ? performance.now() : null;
}"""


BASELINE_APP = """import streamlit as st

st.sidebar.button("Start GDW", type="primary", icon=":material/play_arrow:", width="stretch")
st.title("Class-level data weighting, live")
"""


def write_baseline(folder: Path) -> Path:
    """A one-button Streamlit app in ``folder``, configured like this repository's."""
    (folder / "streamlit_app.py").write_text(BASELINE_APP)
    shutil.copytree(ROOT / ".streamlit", folder / ".streamlit")
    return folder


def seconds_until_usable(page) -> float:
    """Seconds, by the page's clock, from the navigation's start until Start is usable, for a
    playwright ``page`` just sent to the app (``page.goto(url, wait_until="commit")``); the
    browser test prints it too."""
    return page.wait_for_function(USABLE, polling="raf", timeout=300_000).json_value() / 1000


def measure(app_dir: Path) -> float:
    """Seconds, by the page's clock, from navigation start to a usable Start button."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as runs:
        server, url = serve(Path(runs), Path(runs) / "streamlit.log", app_dir=app_dir, timeout=180)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(url, wait_until="commit")
                seconds = seconds_until_usable(page)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, action="append", help="repeatable; default: .")
    parser.add_argument("--baseline", action="store_true", help="also a one-button page")
    parser.add_argument("--repeats", type=int, default=1, help="measurements of each app dir")
    args = parser.parse_args()
    app_dirs = args.app_dir or [ROOT]
    missing = [str(d) for d in app_dirs if not (d / "streamlit_app.py").is_file()]
    if missing:
        parser.error(f"no streamlit_app.py in {', '.join(missing)}: pass an app's folder")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, not {args.repeats}")
    if not Path(CHROMIUM).is_file():
        parser.error(f"no Chromium at {CHROMIUM}: install it or set GDW_CHROMIUM")
    labels = {app_dir: str(app_dir) for app_dir in app_dirs}
    with tempfile.TemporaryDirectory(prefix="one-button-") as scratch:
        if args.baseline:
            labels[write_baseline(Path(scratch))] = "one-button page"
        seconds: dict[Path, list[float]] = {app_dir: [] for app_dir in labels}
        for _ in range(args.repeats):
            for app_dir, times in seconds.items():
                times.append(measure(app_dir))
                print(f"{times[-1]:.2f} s  {labels[app_dir]}", flush=True)
    if args.repeats > 1:
        for app_dir, times in seconds.items():
            print(
                f"median {statistics.median(times):.2f} s, {min(times):.2f}-{max(times):.2f} s "
                f"over {len(times)}  {labels[app_dir]}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
