"""Seconds from opening the page of a freshly started server until its Start button is usable.

    python scripts/first_impression.py [--app-dir DIR] [--repeats N]

Each repeat starts ``streamlit run streamlit_app.py`` in ``--app-dir`` (default: this
repository) on a free port with an empty runs folder, waits until the server answers, opens the
page in headless Chromium (``/usr/bin/chromium`` or ``$GDW_CHROMIUM``) and waits for the
sidebar's "Start GDW" button to be visible and enabled. To compare two versions on a shared
machine, alternate them: ``--app-dir A``, ``--app-dir B``, ``--app-dir A``, ...
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench_dashboard import CHROMIUM, CHROMIUM_ARGS, ROOT, serve  # its neighbour in scripts/


def measure(app_dir: Path) -> float:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as runs:
        server, url = serve(Path(runs), Path(runs) / "streamlit.log", app_dir=app_dir, timeout=180)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.set_default_timeout(300_000)
                opened = time.monotonic()
                page.goto(url)
                start = page.get_by_role("button", name="Start GDW", exact=True)
                start.wait_for()
                while not start.is_enabled():
                    time.sleep(0.05)
                seconds = time.monotonic() - opened
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, default=ROOT)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    for _ in range(args.repeats):
        print(f"{measure(args.app_dir):.2f} s  {args.app_dir}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
