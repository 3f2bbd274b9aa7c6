"""The runs folder every page shows: where it is, its job manager (one per server process) and
its runs, read through a cache.

Reads are cached by file modification times, so a page that re-reads a live run every second
only parses what changed; a finished run is parsed once. Run ids from the UI go through
``resolve_run_path`` and cannot leave the runs folder. Nothing is loaded with pickle. A damaged
run is read as far as it is intact and comes back ``unreadable`` with its reason (see
:func:`gdw.load_run`), never as an exception.
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import streamlit as st

from app.server.job_manager import JobManager
from gdw import (
    Run,
    RunPathError,
    read_listed_run,
    resolve_run_path,
    run_ids,
)

__all__ = ["all_runs", "get_run", "job_manager", "runs_dir"]

DEFAULT_RUNS_DIR = "runs"


def runs_dir(argv: list[str] | None = None) -> Path:
    """``--runs-dir DIR`` after ``streamlit run streamlit_app.py --``, else ``$GDW_RUNS_DIR``,
    else ``runs`` (relative to where the app was started)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--runs-dir")
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return Path(known.runs_dir or os.environ.get("GDW_RUNS_DIR") or DEFAULT_RUNS_DIR)


@st.cache_resource(show_spinner=False)
def _manager(folder: str) -> JobManager:
    manager = JobManager(folder)
    # When the server exits (Ctrl-C), its runs end as "stopped" with every file whole, instead
    # of dying mid-step and showing "running" for ever.
    atexit.register(manager.shutdown)
    return manager


def job_manager() -> JobManager:
    """The one job manager of this server process for the current runs folder."""
    return _manager(str(runs_dir().resolve()))


def _stamp(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, modification time and size of every file of the run folder."""
    try:
        entries = list(os.scandir(path))
    except OSError:
        return ()
    stamps = []
    for entry in entries:
        try:
            info = entry.stat()
        except OSError:
            continue
        stamps.append((entry.name, info.st_mtime_ns, info.st_size))
    return tuple(sorted(stamps))


class _RunCache:
    """Runs read, by folder, with the stamp of their files when read (process-wide, shared
    read-only); a plain dictionary, as hashing the arguments of a Streamlit cache for each of
    hundreds of runs on every page run cost more than reading a changed run."""

    def __init__(self, size: int = 4096) -> None:
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, tuple[Any, Run]] = OrderedDict()
        self._lists: dict[str, tuple[float, int, list[Run]]] = {}
        self._size = size

    def run(self, folder: Path, run_id: str, path: Path) -> Run:
        key, stamp = str(path), _stamp(path)
        with self._lock:
            cached = self._runs.get(key)
            if cached is not None and cached[0] == stamp:
                self._runs.move_to_end(key)
                return cached[1]
        # The Run's state (live, interrupted) is worked out each time it is asked for, so a
        # cached Run still notices a process that died.
        loaded = read_listed_run(folder, run_id)
        with self._lock:
            self._runs[key] = (stamp, loaded)
            while len(self._runs) > self._size:
                self._runs.popitem(last=False)
        return loaded

    def listing(self, folder: Path, make) -> list[Run]:  # type: ignore[no-untyped-def]
        """The runs of ``folder``, re-listed when a run folder came or went (the folder's
        modification time) and otherwise at most once a second: a page asks several times
        per run of its script."""
        try:
            changed = folder.stat().st_mtime_ns
        except OSError:
            changed = 0
        key, now = str(folder.resolve()), time.monotonic()
        with self._lock:
            cached = self._lists.get(key)
        if cached is not None and cached[1] == changed and now - cached[0] < LIST_EVERY:
            return cached[2]
        runs = make()
        with self._lock:
            self._lists[key] = (now, changed, runs)
        return runs


LIST_EVERY = 1.0  # seconds a listing of the runs folder is reused while no run folder came or went


@st.cache_resource(show_spinner=False)
def _run_cache() -> _RunCache:
    return _RunCache()


def get_run(run_id: str) -> Run | None:
    """The run ``run_id`` of the runs folder as it is now (``unreadable`` with its reason when
    damaged, or when it is a link leading out of the folder), or None if there is no such
    folder."""
    folder = runs_dir()
    try:
        path = resolve_run_path(folder, run_id)
    except RunPathError:
        link = isinstance(run_id, str) and not run_id.startswith(".") and "/" not in run_id
        if link and (folder / run_id).is_symlink():
            return read_listed_run(folder, run_id)
        return None
    if not path.is_dir():
        return None
    return _run_cache().run(folder, run_id, path)


def all_runs() -> list[Run]:
    """Every run, newest first, the unreadable ones too (each read only when its files
    changed)."""
    folder = runs_dir()

    def make() -> list[Run]:
        # The ids are names the library listed: a folder, or a link (resolved when read).
        runs = [
            (
                read_listed_run(folder, run_id)
                if (folder / run_id).is_symlink()
                else _run_cache().run(folder, run_id, folder / run_id)
            )
            for run_id in run_ids(folder)
        ]
        return sorted(runs, key=lambda run: run.status.get("started_at") or 0.0, reverse=True)

    return list(_run_cache().listing(folder, make))
