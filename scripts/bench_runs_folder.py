"""How long the server takes for the Runs page and for opening a run, with 300 runs in the folder.

Generates ``--runs`` finished run folders in the real format (written by ``RunWriter``: digits
sizes by default, 1,337 recorded examples x 10 classes x 30 epochs, a few damaged), then times,
on the server side (Streamlit's AppTest runs the page script in this process, no browser):

- ``list_runs``: the library's listing of every run (every file read and checked);
- the Runs page: its first run (nothing cached yet) and the next one (the reads cached by the
  files' modification times);
- opening a run on the Train & explore page (accuracy tab): a few runs chosen at random, each
  opened for the first time.

    python scripts/bench_runs_folder.py                # 300 runs in a temporary folder
    python scripts/bench_runs_folder.py --runs 1000 --open 10

Prints one JSON object of seconds (median and max where repeated).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gdw import DataConfig, RunConfig, list_runs  # noqa: E402
from gdw.runs.recording import METRICS_COLUMNS  # noqa: E402
from gdw.runs.writer import RunWriter  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def make_runs(folder: Path, count: int, *, examples: int, classes: int, epochs: int) -> None:
    rng = np.random.default_rng(0)
    for number in range(count):
        method = ("gdw", "mwnet", "erm")[number % 3]
        config = RunConfig(
            method=method,
            epochs=epochs,
            data=DataConfig(noise="uniform", noise_rate=0.4, seed=number // 3),
        )
        given = rng.integers(0, classes, examples)
        noisy = rng.random(examples) < 0.4
        writer = RunWriter(
            folder,
            f"run-{number:04d}-{method}",
            config={
                "config": config.to_dict(),
                "classes": [str(c) for c in range(classes)],
                "resolved": {"epochs": epochs},
            },
            instances={
                "index": np.arange(examples),
                "given_label": given,
                "true_label": np.where(noisy, (given + 1) % classes, given),
                "is_noisy": noisy.astype(np.int8),
            },
            n_epochs=epochs,
            n_classes=classes,
        )
        for epoch in range(1, epochs + 1):
            numbers = {c: float(rng.random()) for c in METRICS_COLUMNS[1:]}  # all but the epoch
            metrics = {"epoch": epoch, **numbers}
            writer.append_epoch(metrics, rng.random((examples, classes)).astype(np.float16))
        writer.finish("completed", summary={"final_test_acc": 0.9})
    # A few damaged ones, as a real folder may hold.
    (folder / "run-0001-mwnet" / "metrics.csv").write_text("epoch,test_acc\n1,oops\n")
    (folder / "run-0002-erm" / "config.json").write_bytes(b"\xff")


def timed(action) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--open", type=int, default=5, help="runs opened, each for the first time")
    parser.add_argument("--examples", type=int, default=1337)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "runs"
        make_runs(
            folder, args.runs, examples=args.examples, classes=args.classes, epochs=args.epochs
        )
        os.environ["GDW_RUNS_DIR"] = str(folder)
        listing = [timed(lambda: list_runs(folder, include_unreadable=True)) for _ in range(3)]

        def runs_script() -> None:
            from app.pages.navigation import runs_page

            runs_page()

        page = AppTest.from_function(runs_script, default_timeout=120)
        cold = timed(page.run)
        assert not page.exception, [e.value for e in page.exception]
        assert len(page.dataframe[0].value) == args.runs
        warm = [timed(page.run) for _ in range(3)]
        app = AppTest.from_file(APP, default_timeout=120)
        app.run()  # the app's own first run: imports, the empty caches of its resources
        ids = sorted(p.name for p in folder.iterdir())
        chosen = np.random.default_rng(1).choice(ids[3:], size=args.open, replace=False)
        opened = []
        for run_id in chosen:
            app.session_state["run_id"] = str(run_id)
            opened.append(timed(app.run))
            assert not app.exception, [e.value for e in app.exception]
    print(
        json.dumps(
            {
                "runs": args.runs,
                "list_runs_median": statistics.median(listing),
                "runs_page_first": cold,
                "runs_page_next_median": statistics.median(warm),
                "open_run_median": statistics.median(opened),
                "open_run_max": max(opened),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
