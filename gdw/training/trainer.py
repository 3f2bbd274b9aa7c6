"""Training runs: :func:`run` trains one, :func:`resume` continues a stopped one (or trains a
finished one on to more epochs).

The epochs report through sinks (:class:`~gdw.sink.TrainingSink`); the first is always the run
directory (:class:`RunDirectorySink`), so everything a reader needs is on disk, never only in
memory. A run trains in the calling thread; :mod:`gdw.training.background` runs one in a thread
of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gdw.config import ConfigError, RunConfig
from gdw.runs.files import (
    EPOCH_ARRAYS,
    ArraySpec,
    RunExistsError,
    RunPathError,
    as_recorded,
)
from gdw.runs.recording import METRICS_COLUMNS, weight_statistics
from gdw.runs.story import lean, story_statistics
from gdw.runs.writer import RunWriter
from gdw.sink import TrainingSink
from gdw.training.checkpoint import restore, save_checkpoint, training_state
from gdw.training.failures import TrainingDiverged, failure_message
from gdw.training.resume_point import ResumePoint, check_same_data, resume_point
from gdw.training.session import Session, lr_schedule, prepare_session
from gdw.training.stepper import Stepper, accuracy, recorded_arrays

__all__ = ["RunDirectorySink", "resume", "run"]

_STATUS_EVERY = 1.0  # seconds between status.json updates within an epoch


class RunDirectorySink(TrainingSink):
    """Writes the run directory through a :class:`RunWriter`; status at most once a second."""

    def __init__(self, writer: RunWriter) -> None:
        self.writer = writer
        self._epochs_done = 0
        self._plan: dict[str, Any] = {}
        self._last_status = 0.0

    def on_start(self, run_dir: Path, plan: dict[str, Any]) -> None:
        self._plan = {"epochs": plan["epochs"], "steps": plan["steps"]}
        self._epochs_done = int(plan.get("first_epoch", 1)) - 1
        self.writer.write_status("running", epoch=self._epochs_done, step=0, **self._plan)

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        now = time.monotonic()
        if now - self._last_status >= _STATUS_EVERY:
            self._last_status = now
            self.writer.write_status("running", epoch=self._epochs_done, step=step, **self._plan)

    def on_epoch(self, metrics: dict[str, float], arrays: dict[str, np.ndarray]) -> None:
        extra = {name: values for name, values in arrays.items() if name != "weights"}
        self.writer.append_epoch(metrics, arrays["weights"], extra)
        self._epochs_done = int(metrics["epoch"])
        self._last_status = time.monotonic()
        self.writer.write_status("running", epoch=self._epochs_done, step=0, **self._plan)

    def on_end(self, state: str, summary: dict[str, Any], error: str | None) -> None:
        self.writer.finish(state, summary=summary, error=error)


def _summary(rows: list[dict[str, float]], seconds: float, state: str) -> dict[str, Any]:
    tests = [row["test_acc"] for row in rows]
    best = int(np.argmax(tests)) if tests else None
    return {
        "state": state,
        "epochs_done": len(rows),
        "final_test_acc": tests[-1] if tests else None,
        "best_test_acc": tests[best] if best is not None else None,
        "best_epoch": best + 1 if best is not None else None,
        "last5_test_acc": float(np.mean(tests[-5:])) if tests else None,
        "final_noise_auroc": rows[-1]["noise_auroc"] if rows else None,
        "seconds": seconds,
    }


def run(
    config: RunConfig,
    *,
    runs_dir: str | Path = "runs",
    stop_event: threading.Event | None = None,
    sinks: Sequence[TrainingSink] = (),
) -> Path:
    """Trains one run and writes its directory; returns the directory.

    Bad input (an absent device, missing data files, an impossible meta set) raises
    :class:`~gdw.config.ConfigError` or :class:`~gdw.config.DataError` before any folder is made.
    Setting ``stop_event`` ends the run within one step as ``stopped``. Any exception once the
    folder says ``running`` (copying the data to the device, a failed write, running out of GPU
    memory) ends it as ``failed`` with :func:`~gdw.training.failures.failure_message` in
    ``status.json`` and is raised again. After every epoch a checkpoint is written, from which
    :func:`resume` continues.
    """
    session = prepare_session(config)
    try:
        recorded = len(session.instances["index"])
        writer = RunWriter(
            runs_dir,
            config.name,
            stem=f"{config.method}-{config.data.dataset}",
            config=session.record,
            instances=session.instances,
            n_epochs=session.plan.epochs,
            n_classes=session.data.n_classes,
            arrays={
                name: ArraySpec((recorded,), dtype)
                for name, (dtype, per_class) in EPOCH_ARRAYS.items()
                if not per_class
            },
        )
    except (RunExistsError, RunPathError) as exc:
        raise ConfigError(str(exc)) from None
    return _train(session, writer, sinks, stop_event)


def resume(
    run_dir: str | Path,
    *,
    device: str | None = None,
    epochs: int | None = None,
    stop_event: threading.Event | None = None,
    sinks: Sequence[TrainingSink] = (),
) -> Path:
    """Continues a ``stopped``, ``failed`` or ``interrupted`` run from its last checkpoint, in
    the same folder; on the CPU it ends exactly as the run would have without the break. Given
    ``epochs``, trains the run (a ``completed`` one too) on to that many epochs in all.

    Args:
        device: where to continue (``auto``, ``cpu``, ``cuda``); ``None``: the run's own
            setting. On another kind of device than the checkpoint's the run goes on, with a
            reseeded augmentation (see :meth:`Stepper.load_state_dict`).
        epochs: the run's new total, more than its epochs done; ``None``: as planned. Its
            ``config.json`` then records the total and, in ``epochs_changed``, the change
            (:meth:`RunWriter.change_total`), once the run says ``running`` again. The
            learning rate's cosine is recomputed over the new total from the next epoch on: each
            later epoch has the rate a run planned with ``epochs`` from the start has there
            (after a completed run, whose cosine had ended at zero, the rate starts again from
            the new curve's value, like a warm restart), while the epochs done keep theirs.
            The warm-up keeps its epochs, counted from the run's start, and the recorded
            examples stay those chosen when the run started.

    Raises:
        ConfigError: the folder holds no resumable run (another state, a damaged file, no
            checkpoint while epochs are done, or data that differ from when it started),
            ``epochs`` is not more than the epochs done, or ``device`` is not on this machine.
    """
    point = resume_point(run_dir, epochs=epochs)
    config = point.config if device is None else point.config.replace(device=device)
    session = prepare_session(config, record_epochs=point.first_planned)
    check_same_data(point, session.instances)
    writer = RunWriter.reopen(point.run.path, epochs=point.epoch, elapsed=point.seconds)
    return _train(session, writer, sinks, stop_event, point=point)


def _train(
    session: Session,
    writer: RunWriter,
    sinks: Sequence[TrainingSink],
    stop_event: threading.Event | None,
    *,
    point: ResumePoint | None = None,
) -> Path:
    """Trains ``session`` into ``writer``'s folder. Everything from the moment the folder says
    ``running`` (the sinks' start, a change of the run's total, copying the data to the device,
    the restore of a checkpoint) is inside the ``try`` that marks the run ``failed`` or
    ``stopped``, so no failure leaves it saying ``running``."""
    run_dir = writer.path
    first = point.epoch + 1 if point is not None else 1
    rows = list(point.rows) if point is not None else []
    started = time.monotonic() - (point.seconds if point is not None else 0.0)
    observers: list[TrainingSink] = [RunDirectorySink(writer), *sinks]
    start_plan = {"epochs": session.plan.epochs, "steps": session.plan.steps, "run_dir": run_dir}
    state, error = "failed", None
    try:
        for sink in observers:
            sink.on_start(run_dir, {**start_plan, "first_epoch": first})
        if point is not None and point.new_total is not None:
            writer.change_total(point.config.to_dict())
        epoch_loop = _EpochLoop(session, rows, started, observers, stop_event)
        if point is not None and point.state is not None:
            restore(point.state, session.method, epoch_loop.scheduler, epoch_loop.stepper)
        state = epoch_loop.train(first, run_dir)
    except KeyboardInterrupt:
        state = "stopped"
        raise
    except Exception as exc:
        error = failure_message(exc)
        raise
    finally:
        summary = _summary(rows, time.monotonic() - started, state)
        for sink in observers:
            sink.on_end(state, summary, error)
    return run_dir


class _EpochLoop:
    """The loop over one run's epochs: each epoch's steps (by a :class:`Stepper`), checks,
    evaluation, metrics, sinks.

    Building it copies the data to the run's device. Each finished epoch's metrics are appended
    to ``rows``; ``started`` is the ``time.monotonic()`` the run's clock counts from.
    """

    def __init__(
        self,
        session: Session,
        rows: list[dict[str, float]],
        started: float,
        sinks: Sequence[TrainingSink],
        stop_event: threading.Event | None,
    ) -> None:
        plan, data, recorded = session.plan, session.data, session.recorded
        self.stepper = Stepper(
            session.method,
            data,
            batch_size=session.config.batch_size,
            device=plan.device,
            order_seed=session.order_seed,
            augment_seed=session.augment_seed,
            record=recorded.size > 0,
        )
        self.plan, self.data, self.recorded = plan, data, recorded
        self.sinks, self.stop_event = sinks, stop_event
        self.recorded_given = data.train_given.numpy()[recorded]
        self.recorded_noisy = data.is_noisy.numpy()[recorded]
        self.recorded_true = data.train_true.numpy()[recorded]
        self.test_images = data.test_images.to(plan.device)
        self.test_labels = data.test_labels.to(plan.device)
        self.scheduler = lr_schedule(session.method.optimizer, plan.epochs)
        self.rows, self.started = rows, started

    def train(self, first: int, run_dir: Path) -> str:
        """Epochs ``first`` to the last; a checkpoint after each (see
        :mod:`gdw.training.checkpoint`)."""
        for epoch in range(first, self.plan.epochs + 1):
            if not self._epoch(epoch):
                return "stopped"
            seconds = time.monotonic() - self.started
            state = training_state(
                self.stepper.method,
                self.scheduler,
                self.stepper,
                epoch=epoch,
                recorded=self.recorded,
                seconds=seconds,
            )
            save_checkpoint(run_dir, state)
        return "completed"

    def _check_finite(self, epoch: int, bad_step: int) -> None:
        if bad_step >= 0:
            global_step = (epoch - 1) * self.plan.steps + bad_step
            raise TrainingDiverged(
                f"training diverged: the loss or a weight became NaN or infinite at epoch "
                f"{epoch}, step {bad_step} (global step {global_step}); try a smaller learning rate"
            )

    def _epoch(self, epoch: int) -> bool:
        stepper, model = self.stepper, self.stepper.method.model
        lr = float(stepper.method.optimizer.param_groups[0]["lr"])
        began = last_check = time.monotonic()
        stepper.begin_epoch()
        plain = epoch <= self.plan.warmup_epochs
        for step in range(1, self.plan.steps + 1):
            if self.stop_event is not None and self.stop_event.is_set():
                return False
            stepper.step(step, plain=plain)
            if time.monotonic() - last_check >= _STATUS_EVERY:  # a sync about once a second
                last_check = time.monotonic()
                self._check_finite(epoch, stepper.first_bad_step())
            for sink in self.sinks:
                sink.on_step(epoch, step, self.plan.steps)
        totals = stepper.end_epoch()
        self._check_finite(epoch, totals.first_bad_step)
        self.scheduler.step()
        arrays = as_recorded(recorded_arrays(totals.visits, self.recorded))
        weights = arrays["weights"]
        metrics = {
            "epoch": epoch,
            "test_acc": accuracy(model, self.test_images, self.test_labels, self.data),
            "meta_acc": accuracy(model, stepper.meta_images, stepper.meta_labels, self.data),
            "train_acc_true": totals.train_acc_true,
            "train_acc_given": totals.train_acc_given,
            "loss": totals.loss,
            "lr": lr,
            "seconds": time.monotonic() - began,
            **weight_statistics(weights, self.recorded_given, self.recorded_noisy),
            **story_statistics(
                weights, arrays["instance_weights"], self.recorded_given, self.recorded_true
            ),
            "lean": lean(arrays["instance_weights"], arrays["given_prob"]),
        }
        assert tuple(metrics) == METRICS_COLUMNS, tuple(metrics)
        self.rows.append(metrics)
        for sink in self.sinks:
            sink.on_epoch(metrics, arrays)
        return True
