"""A sweep folder as a sweep keeps it: one sweep at a time, its grid on record, its results
rewritten after every run, and the lost attempts moved aside.

The folder ``DIR`` holds:

- ``sweep.json``: the grid (methods, settings, seeds and the shared training configuration). A
  rerun with the same grid resumes; a rerun with a different one is refused.
- ``runs/<method>-<setting>-seed<S>/``: one normal run directory per run.
- ``results.csv``: one row per finished or failed run (see
  :data:`gdw.sweeps.results.RESULT_COLUMNS`), rewritten atomically after every run, so an
  interrupted sweep leaves a whole file.
- ``summary.md``: mean ± standard deviation per method and setting, and the paired
  comparisons of GDW with MW-Net and with ERM (see :mod:`gdw.sweeps.stats`).
- ``unfinished/``: run folders of half-written runs that cannot be continued (a missing
  checkpoint after its first epochs, a damaged file, another configuration), moved aside on
  resume before the run is done again (never mixed with a new one). A stopped, failed or
  interrupted run is continued from its checkpoint instead, or started over in its folder when
  it stopped before its first checkpoint (nothing to keep).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from gdw.config import ConfigError, RunConfig
from gdw.runs.files import RunPathError, atomic_write_bytes, atomic_write_json
from gdw.runs.reader import load_run
from gdw.sweeps.results import RESULT_COLUMNS
from gdw.sweeps.spec import SweepSpec, run_identity
from gdw.sweeps.stats import summary_markdown

__all__ = ["claim", "failed_row", "finished_row", "locked", "move_aside", "write_results"]


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Refuses a second process on the same sweep folder (where ``fcntl`` exists)."""
    try:
        import fcntl
    except ImportError:  # not on Windows: no lock
        yield
        return
    with open(out / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"another sweep is running in {out}; wait for it or stop it"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def claim(out: Path, spec: SweepSpec, command: str | None) -> str | None:
    """Writes ``sweep.json``, or checks that the one there describes ``spec``; returns the
    command line on record."""
    path = out / "sweep.json"
    if path.exists():
        record = json.loads(path.read_text())
        differences = spec.differences(SweepSpec.from_dict(record["spec"]))
        if differences:
            how = (
                f"run: {record['command']}"
                if record.get("command")
                else f"rerun with the flags in {path.name}"
            )
            raise ConfigError(
                f"{out} holds a sweep with other settings: {'; '.join(differences)}; to continue "
                f"it, {how}; or choose another --out"
            )
        return record.get("command") or command
    if any(child.name != ".lock" for child in out.iterdir()):
        raise ConfigError(f"{out} is not empty and holds no sweep.json; choose another --out")
    record = {"spec": spec.to_dict(), "command": command, "created": datetime.now().isoformat()}
    atomic_write_json(path, record)
    return command


def finished_row(out: Path, config: RunConfig) -> dict[str, Any] | None:
    """The results row of ``config``'s run, if its folder holds that run, completed."""
    try:
        loaded = load_run(out / "runs" / config.name)
    except (RunPathError, ValueError, OSError):
        return None
    if loaded.state != "completed" or not loaded.summary or loaded.metrics.empty:
        return None
    # Read back as a RunConfig, so that a run recorded before a field existed has its default.
    if loaded.run_config is None:
        return None
    if run_identity(loaded.run_config) != run_identity(config):
        return None  # a run of something else under this name: redo it
    summary, data = loaded.summary, config.data

    def percent(value: Any) -> float:
        return float("nan") if value is None else 100.0 * float(value)

    auroc = summary.get("final_noise_auroc")
    return {
        "method": config.method,
        "dataset": data.dataset,
        "noise": data.noise,
        "noise_rate": data.noise_rate,
        "imbalance": data.imbalance,
        "human_labels": data.human_labels or "",
        "seed": data.seed,
        "final_acc": percent(summary.get("last5_test_acc")),
        "best_acc": percent(summary.get("best_test_acc")),
        "noise_auroc": float("nan") if auroc is None else float(auroc),
        "seconds": float(summary.get("seconds") or float("nan")),
        "meta_acc": 100.0 * float(loaded.metrics["meta_acc"].tail(5).mean()),
        "run": config.name,
        "state": "completed",
        "error": None,
    }


def failed_row(config: RunConfig, error: str) -> dict[str, Any]:
    """The results row of a run that raised: what it was, no numbers."""
    data = config.data
    what = {"method": config.method, "dataset": data.dataset, "noise": data.noise}
    where = {"noise_rate": data.noise_rate, "imbalance": data.imbalance, "seed": data.seed}
    where["human_labels"] = data.human_labels or ""
    return {**what, **where, "run": config.name, "state": "failed", "error": error}


def move_aside(out: Path, name: str) -> str:
    """Moves an unfinished run folder to ``unfinished/``; returns its new name."""
    aside = out / "unfinished"
    aside.mkdir(exist_ok=True)
    target, number = aside / name, 1
    while target.exists():
        number += 1
        target = aside / f"{name}-{number}"
    shutil.move(str(out / "runs" / name), target)
    return target.name


def write_results(
    out: Path,
    spec: SweepSpec,
    planned: list[RunConfig],
    rows: dict[str, dict[str, Any]],
    failed: dict[str, str],
    command: str | None,
) -> None:
    ordered = [
        rows[config.name] if config.name in rows else failed_row(config, failed[config.name])
        for config in planned
        if config.name in rows or config.name in failed
    ]
    table = pd.DataFrame(ordered, columns=list(RESULT_COLUMNS))
    atomic_write_bytes(out / "results.csv", table.to_csv(index=False, float_format="%.6g").encode())
    finished = table[table["state"] == "completed"]
    text = summary_markdown(
        finished, spec=spec.to_dict(), planned=len(planned), failed=failed, command=command
    )
    atomic_write_bytes(out / "summary.md", text.encode())
