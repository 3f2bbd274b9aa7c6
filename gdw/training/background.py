"""A training run in a background thread: :func:`start` returns a :class:`RunHandle` at once.

The thread only trains and writes the run folder (:func:`gdw.training.trainer.run`); whoever
started it follows the run by reading that folder, and can ask it to stop.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gdw.config import RunConfig
from gdw.sink import TrainingSink
from gdw.training.device import release_cached_memory
from gdw.training.failures import failure_message
from gdw.training.trainer import resume, run

__all__ = ["RunHandle", "start"]


class RunHandle:
    """A run training in a daemon thread (see :func:`start`)."""

    def __init__(
        self,
        config: RunConfig,
        runs_dir: str | Path,
        sinks: Sequence[TrainingSink],
        resume_dir: str | Path | None = None,
        epochs: int | None = None,
    ) -> None:
        self.config = config
        self.resume_dir = resume_dir
        self.epochs = epochs
        self.run_dir: Path | None = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._started = threading.Event()
        handle = self

        class _Notify(TrainingSink):
            def on_start(self, run_dir: Path, plan: dict[str, Any]) -> None:
                handle.run_dir = run_dir
                handle._started.set()

        self._thread = threading.Thread(
            target=self._main,
            args=(runs_dir, [_Notify(), *sinks]),
            daemon=True,
            name=f"gdw-run-{config.method}",
        )
        self._thread.start()

    def _main(self, runs_dir: str | Path, sinks: list[TrainingSink]) -> None:
        try:
            if self.resume_dir is not None:
                resume(self.resume_dir, epochs=self.epochs, stop_event=self._stop, sinks=sinks)
            else:
                run(self.config, runs_dir=runs_dir, stop_event=self._stop, sinks=sinks)
        except Exception as exc:  # the run directory already says failed; keep the message
            self.error = failure_message(exc)
        finally:
            release_cached_memory()  # the run and its exception are gone by now
            self._started.set()

    def wait_started(self, timeout: float | None = None) -> bool:
        """Waits until the run folder exists (or the run failed before making one)."""
        return self._started.wait(timeout)

    def stop(self) -> None:
        """Asks the run to stop; it ends as ``stopped`` within one step."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Waits for the thread; True when it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()


def start(
    config: RunConfig,
    *,
    runs_dir: str | Path = "runs",
    sinks: Sequence[TrainingSink] = (),
    resume: str | Path | None = None,
    epochs: int | None = None,
) -> RunHandle:
    """Starts :func:`run` (or, given ``resume``, :func:`resume` of that run folder, whose
    configuration ``config`` is, to ``epochs`` in all if given) in a daemon thread and returns
    its handle at once."""
    return RunHandle(config, runs_dir, sinks, resume, epochs)
