"""What runs in a Ray worker: one run of a sweep, and the probe that checks a node can write
the sweep's folder (:mod:`gdw.sweeps.ray_backend` submits them)."""

from __future__ import annotations

import signal
import socket
import threading
from pathlib import Path

from gdw.config import RunConfig
from gdw.host_memory import retain_freed_memory_unless_disabled
from gdw.sweeps.running import RunEvent, run_one

__all__ = ["run_task", "write_probe"]


def run_task(out: str, config: RunConfig, threads: int) -> RunEvent:
    """The body of one run's Ray task, in a worker: set up as `gdw sweep` sets up its own
    process (torch threads, the allocator tuning), so both backends give the same numbers."""
    import torch

    torch.set_num_threads(threads)
    retain_freed_memory_unless_disabled()
    _take_keyboard_interrupts()
    return run_one(Path(out), config)


def _take_keyboard_interrupts() -> None:
    """Lets ``ray.cancel`` stop this worker's run: it interrupts the task's thread as Ctrl-C
    does, which does nothing where SIGINT is ignored, and a worker inherits that from a driver
    started in the background (``nohup``, ``&``, some CI runners); the run then went on after
    the sweep was stopped, and ended killed instead of "stopped"."""
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):
        signal.signal(signal.SIGINT, signal.default_int_handler)


def write_probe(out: str, token: str) -> str:
    """Writes ``out/.ray-probe-<token>`` with this worker's host name; returns the name."""
    host = socket.gethostname()
    (Path(out) / f".ray-probe-{token}").write_text(host)
    return host
