"""Where a stopped, failed or interrupted run continues from: its checkpoint, checked against
the run folder (see :func:`gdw.training.trainer.resume`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gdw.config import ConfigError, RunConfig
from gdw.runs.files import RunReadError
from gdw.runs.reader import Run, load_run
from gdw.runs.state import RESUMABLE

__all__ = ["ResumePoint", "check_same_data", "is_resumable", "resume_point"]


@dataclass(frozen=True)
class ResumePoint:
    """A run and the state after its last checkpointed epoch.

    Attributes:
        run: the run folder as read now.
        config: its configuration.
        state: the checkpoint (None when none was written: the run starts over in place).
        epoch: epochs kept (0 without a checkpoint).
        seconds: seconds trained up to them.
        rows: their ``metrics.csv`` rows.
    """

    run: Run
    config: RunConfig
    state: dict[str, Any] | None
    epoch: int
    seconds: float
    rows: tuple[dict[str, float], ...]


def resume_point(run_dir: str | Path) -> ResumePoint:
    """Reads what :func:`gdw.training.trainer.resume` needs. Raises ``ConfigError`` (one line,
    naming the run and what is wrong) when the folder holds no run that can be continued."""
    try:
        run = load_run(run_dir)
        from gdw.training.checkpoint import (
            load_checkpoint,
        )  # torch: only for a run with a checkpoint

        state = load_checkpoint(run.path)
    except RunReadError as exc:
        raise ConfigError(f"cannot resume {run_dir}: {exc.reason}") from None
    if run.state not in RESUMABLE:
        raise ConfigError(
            f"cannot resume {run.run_id}: it is {run.state}; only a stopped, failed or "
            "interrupted run can be resumed"
        )
    if "per_epoch" not in run.config:
        raise ConfigError(f"cannot resume {run.run_id}: it was made before runs had checkpoints")
    config = run.run_config
    if config is None:
        raise ConfigError(f"cannot resume {run.run_id}: config.json does not hold a readable run")
    epoch = 0 if state is None else int(state["epoch"])
    # metrics.csv is written before the checkpoint, so it can be one epoch ahead of it: a run
    # stopped between the two in its first epoch starts over in place.
    if state is None and run.epochs_done > 1:
        raise ConfigError(f"cannot resume {run.run_id}: its checkpoint.pt is missing")
    if epoch > run.epochs_done:
        raise ConfigError(
            f"cannot resume {run.run_id}: checkpoint.pt is at epoch {epoch}, but metrics.csv "
            f"lists {run.epochs_done}"
        )
    rows = tuple(run.metrics.iloc[:epoch].to_dict("records"))
    seconds = 0.0 if state is None else float(state.get("seconds", 0.0))
    return ResumePoint(run, config, state, epoch, seconds, rows)


def check_same_data(point: ResumePoint, instances: Mapping[str, np.ndarray]) -> None:
    """Refuses to continue on data other than the run's own (changed dataset files, another
    library version choosing other examples)."""
    table = point.run.instances
    same = len(table) == len(instances["index"]) and all(
        np.array_equal(table[column].to_numpy(), np.asarray(instances[column]))
        for column in ("index", "given_label", "true_label")
    )
    if point.state is not None:
        same = same and np.array_equal(point.state["recorded"].numpy(), instances["index"])
    if not same:
        raise ConfigError(
            f"cannot resume {point.run.run_id}: its data differ from when it started (the "
            "recorded examples or their labels changed); train it again"
        )


def is_resumable(run_dir: str | Path, config: RunConfig) -> bool:
    """True when ``run_dir`` holds a run of ``config`` (the same configuration but for where
    it runs) that :func:`gdw.training.trainer.resume` can continue: from its checkpoint, or,
    when it stopped before its first epoch ended, from the start in the same folder (there is
    nothing to keep, so nothing is set aside)."""
    try:
        point = resume_point(run_dir)
    except ConfigError:
        return False
    ignored = ("device", "data_root", "download")

    def what(record: dict[str, Any]) -> dict[str, Any]:
        flat = {k: v for k, v in record.items() if k not in ignored and k != "data"}
        data = {k: v for k, v in record.get("data", {}).items() if k not in ignored}
        return {**flat, "data": data}

    return what(point.config.to_dict()) == what(config.to_dict())
