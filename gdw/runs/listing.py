"""The runs folder: which of its names hold a run, and every run as a listing shows it.

Listing never raises: a damaged run, or a link leading out of the runs folder, is listed as
``unreadable`` with its reason, and never affects another run.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gdw.runs.files import RunPathError, is_run_id, resolve_run_path
from gdw.runs.reader import Run, load_run

__all__ = ["list_runs", "read_listed_run", "run_ids"]

_RUN_FILES = ("config.json", "status.json", "metrics.csv", "instances.csv", "weights.npy")


def read_listed_run(runs_dir: str | Path, run_id: str) -> Run:
    """Run ``run_id`` of ``runs_dir`` as a listing shows it; never raises: a damaged run, or a
    link leading out of the runs folder, comes back ``unreadable`` with its reason."""
    plain = Path(runs_dir, str(run_id))
    try:  # a folder (not a link) with an allowed name lies inside; only links are resolved
        ok = is_run_id(str(run_id)) and not plain.is_symlink()
        path = plain if ok else resolve_run_path(runs_dir, run_id)
    except RunPathError as exc:
        problem = (
            "is a link to a folder outside the runs folder"
            if (Path(runs_dir, str(run_id)).is_symlink())
            else str(exc)
        )
        return Run(
            Path(runs_dir, str(run_id)), {}, {}, pd.DataFrame(), None, problems={"": problem}
        )
    try:
        return load_run(path, strict=False)
    except (OSError, ValueError) as exc:  # a folder vanishing while read, a file system error
        return Run(path, {}, {}, pd.DataFrame(), None, problems={"": f"cannot be read ({exc})"})


def run_ids(runs_dir: str | Path) -> list[str]:
    """Names in ``runs_dir`` that hold a run, or what is left of one: a name
    :func:`resolve_run_path` could accept (never a hidden staging folder) that is a folder
    holding any run file, or a link (reported unreadable when it leads out of the folder)."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    ids = []
    for child in root.iterdir():
        if child.name.startswith(".") or not is_run_id(child.name):
            continue
        if child.is_symlink():  # kept: a link out of the folder is reported unreadable
            ids.append(child.name)
        elif child.is_dir() and any((child / name).exists() for name in _RUN_FILES):
            ids.append(child.name)
    return ids


def list_runs(runs_dir: str | Path, *, include_unreadable: bool = False) -> list[Run]:
    """Every run in ``runs_dir``, newest first; never raises. Damaged runs are left out, or
    with ``include_unreadable`` listed with state ``unreadable`` and their :attr:`Run.reason`."""
    runs = [read_listed_run(runs_dir, run_id) for run_id in run_ids(runs_dir)]
    if not include_unreadable:
        runs = [run for run in runs if not run.problems]
    return sorted(runs, key=lambda run: float(run.status.get("started_at") or 0.0), reverse=True)
