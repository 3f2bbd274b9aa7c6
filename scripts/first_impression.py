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
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"no answer from {url}")


def measure(app_dir: Path) -> float:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    with tempfile.TemporaryDirectory() as runs:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "streamlit_app.py",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--",
                "--runs-dir",
                runs,
            ],
            cwd=app_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://localhost:{port}"
            _wait_healthy(url)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=os.environ.get("GDW_CHROMIUM", "/usr/bin/chromium"),
                    args=["--headless", "--no-sandbox", "--disable-gpu"],
                )
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
