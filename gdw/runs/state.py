"""A run's state: the one its ``status.json`` says, or ``interrupted`` when the process that
trains it is gone.

A run writes ``running`` while it trains (with its process id, host and a heartbeat) and one of
``completed``, ``stopped`` or ``failed`` at the end. A ``running`` run whose process died shows
as ``interrupted``: at once on the host that ran it (its process id is gone), elsewhere once its
heartbeat is older than :data:`HEARTBEAT_TIMEOUT`.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gdw.runs.checks import FileProblem, read_json_object
from gdw.runs.files import WRITTEN_STATES

__all__ = [
    "HEARTBEAT_TIMEOUT",
    "RESUMABLE",
    "STATES",
    "live_state",
    "process_start",
    "status_state",
]

STATES = (*WRITTEN_STATES, "interrupted", "unreadable")
"""Every state a reader reports: the four a run writes, ``interrupted`` (its process died while
it said ``running``) and ``unreadable`` (a file is damaged; :attr:`Run.problems` says which)."""

RESUMABLE = ("stopped", "failed", "interrupted")
"""The states a run can be continued from (``gdw train --resume``)."""

HEARTBEAT_TIMEOUT = 300.0
"""Seconds without a status update after which a ``running`` run of another host (or one that
recorded no process) counts as ``interrupted``; a live run updates its status every second while
it steps."""


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), or None: with the
    pid it tells a live run's process from a later one that reuses its number."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        pass
    except (OverflowError, ValueError):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True
    if state in ("Z", "X"):  # a zombie: dead, not yet reaped
        return False
    return started is None or process_start(pid) in (None, started)


def live_state(status: Mapping[str, Any], *, now: float | None = None) -> str:
    """The state of a run from its ``status.json``: ``interrupted`` instead of ``running`` when
    the process that wrote it is gone (same host) or silent for :data:`HEARTBEAT_TIMEOUT`."""
    state = str(status.get("state", "unknown"))
    if state != "running":
        return state
    pid, host = status.get("pid"), status.get("host")
    if isinstance(pid, int) and host == socket.gethostname():
        return "running" if _alive(pid, status.get("pid_start")) else "interrupted"
    now = time.time() if now is None else now
    beat = status.get("updated_at")
    silent = not isinstance(beat, (int, float)) or now - float(beat) > HEARTBEAT_TIMEOUT
    return "interrupted" if silent else "running"


def status_state(run_dir: str | Path) -> str:
    """A run folder's state from its ``status.json`` alone (:func:`live_state`), read as
    defensively as :func:`load_run` reads it: ``unreadable`` when it is missing or damaged. For
    a quick look at many folders (a live sweep), where reading whole runs would cost too much."""
    try:
        record = read_json_object(Path(run_dir), "status.json")
    except FileProblem:
        return "unreadable"
    return live_state(record or {})
