"""The command line's progress bars: the steps of one run (``gdw train``), the runs of a
sweep (``gdw sweep``). Both are training sinks, on stderr."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from gdw.sink import TrainingSink

__all__ = ["ProgressBar", "SweepProgressBar"]


class ProgressBar(TrainingSink):
    """A tqdm bar over every step of the run, with the epoch and the latest test accuracy."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.run_dir: Path | None = None

    def on_start(self, run_dir: Path, plan: dict[str, Any]) -> None:
        self.run_dir = run_dir
        self.epochs = plan["epochs"]
        first = int(plan.get("first_epoch", 1))
        self.bar = tqdm(
            total=plan["epochs"] * plan["steps"],
            unit="step",
            dynamic_ncols=True,
            initial=(first - 1) * plan["steps"],
            desc=f"epoch {first}/{self.epochs}",
            file=sys.stderr,
        )

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        assert self.bar is not None
        self.bar.update(1)

    def on_epoch(self, metrics: dict[str, float], arrays: Any) -> None:
        assert self.bar is not None
        epoch = int(metrics["epoch"])
        self.bar.set_description(f"epoch {min(epoch + 1, self.epochs)}/{self.epochs}")
        self.bar.set_postfix(test_acc=f"{metrics['test_acc']:.2%}", refresh=False)

    def on_end(self, state: str, summary: dict[str, Any], error: str | None) -> None:
        if self.bar is not None:
            self.bar.close()


class SweepProgressBar(TrainingSink):
    """One tqdm bar over the runs of a sweep: how many are done, running and failed.

    With the local backend it also shows the epoch and test accuracy of the run in progress
    (the Ray backend's runs train in other processes).
    """

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.epochs = 0
        self.done = 0
        self.failed = 0
        self.running: set[str] = set()

    def on_sweep_start(self, planned: int, finished: int, epochs: int) -> None:
        self.epochs, self.done = epochs, finished
        self.bar = tqdm(
            total=planned, initial=finished, unit="run", dynamic_ncols=True, file=sys.stderr
        )
        self._describe()

    def _describe(self) -> None:
        assert self.bar is not None
        self.bar.set_description(
            f"{self.done} done, {len(self.running)} running, {self.failed} failed"
        )

    def on_run_start(self, number: int, planned: int, name: str) -> None:
        self.running.add(name)
        self._describe()

    def on_epoch(self, metrics: dict[str, float], arrays: Any) -> None:
        assert self.bar is not None
        epoch = f"{int(metrics['epoch'])}/{self.epochs}"
        self.bar.set_postfix(epoch=epoch, test_acc=f"{metrics['test_acc']:.2%}")

    def on_run_end(self, name: str, state: str, error: str | None) -> None:
        assert self.bar is not None
        self.running.discard(name)
        if state == "completed":
            self.done += 1
        elif state == "failed":
            self.failed += 1
            self.bar.write(f"run {name} failed: {error}", file=sys.stderr)
        if state in ("completed", "failed"):
            self.bar.update(1)
        self._describe()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
