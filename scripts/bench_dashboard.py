"""Does following a run in the dashboard slow its training? Measures it.

Runs are started from the dashboard's sidebar, in a real ``streamlit run`` server driven by
Chromium through playwright, so they train in the server process, in the job manager's thread,
exactly as users run them. The page follows the run on the *Example inspector* (image, bars,
timeline, refreshed live; ``--tab`` picks another tab). Two methods:

- ``--method windows`` (default): one long run; the browser shows the app (following the run)
  and a blank page (no session) in alternate windows of ``--window`` seconds. Each epoch counts
  for the window it ended in. Reported: the median per-epoch training seconds
  (``metrics.csv``) and the wall time per epoch (which also counts the work between epochs),
  page windows over blank windows. A shared machine's drift hits both kinds of window alike.
- ``--method runs``: whole runs, alternately with the tab closed right after Start
  (``headless``) and with the tab left open (``page``); ratios of the medians over
  ``--repeats`` pairs. This is the one for the default digits run, which lasts seconds.

Scenarios: ``digits`` (the defaults: GDW, 30 epochs; a long run for ``windows``),
``synthetic10`` and ``synthetic100``: an image folder of 32x32 colour images (20,000 training
images, 10 or 100 classes, written once under --data-dir), GDW with the MLP, uniform noise
40 %, 1,000 meta examples.

    python scripts/bench_dashboard.py --scenario all --window 30 --cycles 3
    python scripts/bench_dashboard.py --method runs --scenario digits --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("GDW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def write_synthetic(
    root: Path, n_classes: int, *, n_train: int = 20_000, n_test: int = 2_000, seed: int = 0
) -> Path:
    """An image folder of class-patterned 32x32 colour PNGs (written once, then reused)."""
    from PIL import Image

    folder = root / f"synthetic{n_classes}"
    if (folder / "done").exists():
        return folder
    rng = np.random.default_rng(seed)
    patterns = rng.integers(0, 256, size=(n_classes, 4, 4, 3))
    for split, total in (("train", n_train), ("test", n_test)):
        for c in range(n_classes):
            (folder / split / f"class{c:03d}").mkdir(parents=True, exist_ok=True)
            base = np.kron(patterns[c], np.ones((8, 8, 1)))
            for i in range(total // n_classes):
                pixels = np.clip(base + rng.normal(0, 60, base.shape), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / split / f"class{c:03d}" / f"{i}.png")
    (folder / "done").write_text("ok")
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def serve(
    runs_dir: Path, log: Path, *, app_dir: Path = ROOT, timeout: float = 90.0
) -> tuple[subprocess.Popen, str]:
    """``streamlit run streamlit_app.py`` of ``app_dir`` on a free localhost port, its output in
    ``log``; returns the process and its URL once the server answers (the other scripts and the
    browser test reuse it). Raises RuntimeError if it exits or does not answer in time."""
    port = _free_port()
    with log.open("wb") as output:  # the server writes to its own copy of the file
        process = subprocess.Popen(
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
                str(runs_dir),
            ],
            cwd=app_dir,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} (see {log})")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return process, url
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"streamlit did not answer on {url} within {timeout:.0f} s (see {log})")


def _set_number(page, label: str, value: str) -> None:
    box = page.get_by_role("spinbutton", name=label)
    box.fill(value)
    box.press("Enter")
    time.sleep(1.0)


def _choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    time.sleep(1.0)


def _configure(page, scenario: dict) -> None:
    if scenario.get("data_root"):
        _choose(page, "Dataset", "imagefolder")
        box = page.get_by_role("textbox", name="Data folder")
        box.fill(str(scenario["data_root"]))
        box.press("Enter")
        time.sleep(1.0)
        _set_number(page, "Meta-set size", "1000")
        _choose(page, "Model", "MLP")
    if scenario.get("epochs"):
        _set_number(page, "Epochs", str(scenario["epochs"]))


def _wait_run(runs_dir: Path, before: set[str], timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = [
            p for p in runs_dir.glob("*") if p.name not in before and (p / "status.json").exists()
        ]
        if new:
            status = json.loads((new[0] / "status.json").read_text())
            if status["state"] in ("completed", "stopped", "failed"):
                return new[0]
        time.sleep(0.5)
    raise RuntimeError("the run did not finish in time")


def _open_and_start(playwright, url: str, scenario: dict):
    """Opens the app in Chromium, sets ``scenario`` in the sidebar and clicks Start."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1440, "height": 1800})
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_text("Class-level data weighting, live").first.wait_for()
    _configure(page, scenario)
    page.get_by_role("button", name="Start GDW", exact=True).click()
    return browser, page


def measure(scenario: dict, mode: str, runs_dir: Path, log: Path) -> dict:
    """Starts one run from the sidebar; ``mode`` headless closes the tab, page keeps it open."""
    from playwright.sync_api import sync_playwright

    before = {p.name for p in runs_dir.glob("*")}
    server, url = serve(runs_dir, log)
    try:
        with sync_playwright() as playwright:
            browser, page = _open_and_start(playwright, url, scenario)
            if mode == "headless":
                time.sleep(1.0)  # let the click reach the server
                browser.close()
                run_dir = _wait_run(runs_dir, before, scenario["timeout"])
            else:
                page.get_by_role("tab", name=scenario["tab"]).click()
                run_dir = _wait_run(runs_dir, before, scenario["timeout"])
                browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    metrics = pd.read_csv(run_dir / "metrics.csv")
    status = json.loads((run_dir / "status.json").read_text())
    return {
        "mode": mode,
        "run": run_dir.name,
        "state": status["state"],
        "epochs": len(metrics),
        "train_seconds": float(metrics["seconds"].sum()),
        "wall_seconds": float(status["elapsed"]),
        # Robust to a burst of load from other programs: the typical epoch after the first.
        "median_epoch_seconds": float(metrics["seconds"].iloc[1:].median()),
    }


def windows(scenario: dict, runs_dir: Path, log: Path, *, window: float, cycles: int) -> dict:
    """One long run, followed by an open page and left alone in alternate windows.

    The browser shows the app, following the live run on ``scenario["tab"]``, for ``window``
    seconds, then a blank page (the app's session closes) for as long, ``cycles`` times. Each
    epoch counts for the window it ended in (epochs spanning a switch are dropped). Compared:
    the median per-epoch training seconds (``metrics.csv``) and the wall time per epoch
    (window length over epochs finished in it), which also counts the work between epochs.
    Machine drift hits both kinds of window alike.
    """
    from playwright.sync_api import sync_playwright

    server, url = serve(runs_dir, log)
    arrivals: list[float] = []
    switches: list[tuple[float, str]] = []
    try:
        with sync_playwright() as playwright:
            browser, page = _open_and_start(playwright, url, scenario)
            time.sleep(1.0)
            page.goto("about:blank")
            metrics = None
            while metrics is None or not arrivals:  # wait for the first epoch
                found = list(runs_dir.glob("*/metrics.csv"))
                metrics = found[0] if found else None
                if metrics is not None:
                    arrivals.extend([time.monotonic()] * len(pd.read_csv(metrics)))
                time.sleep(0.1)
            for _ in range(cycles):
                for mode in ("headless", "page"):
                    switches.append((time.monotonic(), mode))
                    if mode == "page":  # the newest run, the live one, is shown
                        page.goto(url)
                        page.get_by_role("tab", name=scenario["tab"]).click()
                    end = switches[-1][0] + window
                    while time.monotonic() < end:
                        count = len(pd.read_csv(metrics))
                        arrivals.extend([time.monotonic()] * (count - len(arrivals)))
                        time.sleep(0.1)
                    if mode == "page":
                        page.goto("about:blank")
            switches.append((time.monotonic(), "end"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    seconds = pd.read_csv(metrics)["seconds"].to_numpy()
    by_mode: dict[str, list[float]] = {"headless": [], "page": []}
    walls: dict[str, list[float]] = {"headless": [], "page": []}
    for epoch in range(2, len(arrivals)):  # the first epochs warm up
        start, end = arrivals[epoch - 1], arrivals[epoch]
        for (begin, mode), (finish, _) in zip(switches, switches[1:], strict=False):
            if begin <= start and end <= finish:
                by_mode[mode].append(float(seconds[epoch]))
                walls[mode].append(end - start)
    if not (by_mode["headless"] and by_mode["page"]):
        raise RuntimeError(
            f"no whole epoch fell inside a window ({len(arrivals)} epochs in "
            "all); use longer --window"
        )
    head, page_ = (statistics.median(by_mode[m]) for m in ("headless", "page"))
    wall_head, wall_page = (sum(walls[m]) / len(walls[m]) for m in ("headless", "page"))
    return {
        "epochs": {m: len(v) for m, v in by_mode.items()},
        "median_epoch_seconds": {"headless": head, "page": page_, "ratio": page_ / head},
        "wall_seconds_per_epoch": {
            "headless": wall_head,
            "page": wall_page,
            "ratio": wall_page / wall_head,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenario", default="all", choices=["digits", "synthetic10", "synthetic100", "all"]
    )
    parser.add_argument(
        "--method",
        default="windows",
        choices=["windows", "runs"],
        help="windows: one long run, page open and closed alternately; "
        "runs: whole runs with and without the page, alternately",
    )
    parser.add_argument("--window", type=float, default=20.0, help="seconds per window")
    parser.add_argument("--cycles", type=int, default=4, help="page/headless window pairs")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4, help="epochs of the synthetic runs")
    parser.add_argument(
        "--digits-epochs",
        type=int,
        default=None,
        help="epochs of the digits run (default: the dataset's default, 30)",
    )
    parser.add_argument(
        "--tab",
        default="Example inspector",
        help="the tab the open page shows while following the run",
    )
    parser.add_argument("--data-dir", default=str(ROOT / "test-artifacts" / "bench-data"))
    parser.add_argument("--out", default=str(ROOT / "test-artifacts" / "bench-dashboard.json"))
    args = parser.parse_args(argv)
    names = ["digits", "synthetic10", "synthetic100"] if args.scenario == "all" else [args.scenario]
    results = {}
    for name in names:
        scenario = {"timeout": 900, "tab": args.tab}
        if name == "digits" and args.digits_epochs:
            scenario["epochs"] = args.digits_epochs
        if name.startswith("synthetic"):
            scenario["data_root"] = write_synthetic(Path(args.data_dir), int(name[9:]))
            scenario["epochs"] = args.epochs
        if args.method == "windows":
            # Enough epochs to outlast the windows; the server is stopped after the last one.
            scenario["epochs"] = 4000 if name == "digits" else 150
            with tempfile.TemporaryDirectory() as tmp:
                runs_dir = Path(tmp) / "runs"
                runs_dir.mkdir()
                result = windows(
                    scenario,
                    runs_dir,
                    Path(tmp) / "server.log",
                    window=args.window,
                    cycles=args.cycles,
                )
            median, wall = result["median_epoch_seconds"], result["wall_seconds_per_epoch"]
            print(
                f"{name}: median epoch {median['headless']:.4f} s headless, "
                f"{median['page']:.4f} s with the page open: ratio {median['ratio']:.3f}; "
                f"wall per epoch {wall['headless']:.4f} s vs {wall['page']:.4f} s: ratio "
                f"{wall['ratio']:.3f} ({result['epochs']['headless']} and "
                f"{result['epochs']['page']} epochs)",
                flush=True,
            )
            results[name] = result
            continue
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            runs_dir = Path(tmp) / "runs"
            runs_dir.mkdir()
            for repeat in range(args.repeats):
                for mode in ("headless", "page"):
                    row = measure(scenario, mode, runs_dir, Path(tmp) / "server.log")
                    rows.append(row)
                    print(
                        f"{name} #{repeat + 1} {mode:8s} train {row['train_seconds']:7.2f} s "
                        f"wall {row['wall_seconds']:7.2f} s median epoch "
                        f"{row['median_epoch_seconds']:.3f} s ({row['epochs']} epochs, "
                        f"{row['state']})",
                        flush=True,
                    )
        summary = {}
        for measure_name in ("train_seconds", "wall_seconds", "median_epoch_seconds"):
            head = statistics.median(r[measure_name] for r in rows if r["mode"] == "headless")
            page = statistics.median(r[measure_name] for r in rows if r["mode"] == "page")
            summary[measure_name] = {"headless": head, "page": page, "ratio": page / head}
        results[name] = {"runs": rows, "median": summary}
        print(
            f"{name}: page/headless = {summary['train_seconds']['ratio']:.3f} (training), "
            f"{summary['wall_seconds']['ratio']:.3f} (wall), "
            f"{summary['median_epoch_seconds']['ratio']:.3f} (median epoch)",
            flush=True,
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
