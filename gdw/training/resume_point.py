"""Where a stopped, failed or interrupted run continues from, or a completed one is trained on to
more epochs from: its checkpoint, checked against the run folder (see
:func:`gdw.training.trainer.resume`)."""

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
        config: the configuration to go on with: the run's own, or with another total of
            ``epochs`` (and its warm-up written down as the number of epochs it had).
        state: the checkpoint (None when none was written: the run starts over in place).
        epoch: epochs kept (0 without a checkpoint).
        seconds: seconds trained up to them.
        rows: their ``metrics.csv`` rows.
        first_planned: the epochs the run was first planned with, which its recorded examples
            were chosen for.
        new_total: the epochs the run goes on to when they differ from those ``config.json``
            plans now (``config.json`` is then changed, see
            :meth:`~gdw.runs.writer.RunWriter.change_total`); ``None``: as planned.
    """

    run: Run
    config: RunConfig
    state: dict[str, Any] | None
    epoch: int
    seconds: float
    rows: tuple[dict[str, float], ...]
    first_planned: int
    new_total: int | None


def resume_point(run_dir: str | Path, *, epochs: int | None = None) -> ResumePoint:
    """Reads what :func:`gdw.training.trainer.resume` needs. Raises ``ConfigError`` (one line,
    naming the run and what is wrong) when the folder holds no run that can be continued, or,
    given ``epochs``, none that can be trained on to that total: that needs a checkpoint and
    more epochs than are done, and a completed run may then go on too."""
    try:
        run = load_run(run_dir)
        from gdw.training.checkpoint import (
            load_checkpoint,
        )  # torch: only for a run with a checkpoint

        state = load_checkpoint(run.path)
    except RunReadError as exc:
        raise ConfigError(f"cannot resume {run_dir}: {exc.reason}") from None
    allowed = RESUMABLE if epochs is None else (*RESUMABLE, "completed")
    if run.state not in allowed:
        how = (
            "only a stopped, failed or interrupted run can be resumed, or a completed one "
            "given more epochs"
            if epochs is None
            else "only a stopped, failed, interrupted or completed run can be trained on"
        )
        raise ConfigError(f"cannot resume {run.run_id}: it is {run.state}; {how}")
    if "per_epoch" not in run.config:
        raise ConfigError(f"cannot resume {run.run_id}: it was made before runs had checkpoints")
    config = run.run_config
    if config is None:
        raise ConfigError(f"cannot resume {run.run_id}: config.json does not hold a readable run")
    epoch = 0 if state is None else int(state["epoch"])
    # metrics.csv is written before the checkpoint, so it can be one epoch ahead of it: a run
    # stopped between the two in its first epoch starts over in place. A completed run has
    # written its last checkpoint.
    if state is None and (run.epochs_done > 1 or run.state == "completed"):
        raise ConfigError(f"cannot resume {run.run_id}: its checkpoint.pt is missing")
    if epoch > run.epochs_done:
        raise ConfigError(
            f"cannot resume {run.run_id}: checkpoint.pt is at epoch {epoch}, but metrics.csv "
            f"lists {run.epochs_done}"
        )
    if epochs is not None:
        config = _trained_to(run, config, epochs)
    rows = tuple(run.metrics.iloc[:epoch].to_dict("records"))
    seconds = 0.0 if state is None else float(state.get("seconds", 0.0))
    planned = int(run.config["per_epoch"]["epochs"])
    first = run.epoch_changes[0]["from"] if run.epoch_changes else planned
    new_total = epochs if epochs not in (None, planned) else None
    return ResumePoint(run, config, state, epoch, seconds, rows, first, new_total)


def _trained_to(run: Run, config: RunConfig, epochs: int) -> RunConfig:
    """``config`` with ``epochs`` in all and the warm-up it had (which counts from the run's
    start, so a default warm-up, a fraction of the epochs, must not grow with them)."""
    done = run.epochs_done
    if epochs <= done:
        raise ConfigError(
            f"cannot train {run.run_id} on to {epochs} epochs: it has done {done}; give a "
            f"total of more than {done}"
        )
    try:
        return config.replace(epochs=epochs, warmup_epochs=config.resolved_warmup_epochs)
    except ConfigError as exc:
        raise ConfigError(f"cannot train {run.run_id} on to {epochs} epochs: {exc}") from None


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
