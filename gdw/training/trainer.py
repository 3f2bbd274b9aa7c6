"""Training runs: synchronously (:func:`run`) or in a background thread (:func:`start`).

The loop reports through sinks (:class:`TrainingSink`); the first is always the run directory
(:class:`RunDirectorySink`), so everything a reader needs is on disk, never only in memory.
"""

from __future__ import annotations

import importlib.metadata
import math
import platform
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gdw.config import ConfigError, RunConfig
from gdw.data.dataset import NoisyDataset, describe, load_dataset
from gdw.runs.reader import EPOCH_ARRAYS, ArraySpec, RunExistsError, RunPathError, RunWriter
from gdw.runs.recording import choose_recorded, weight_statistics
from gdw.runs.story import lean, story_statistics
from gdw.sink import TrainingSink
from gdw.training.checkpoint import restore, save_checkpoint, training_state
from gdw.training.device import resolve_device
from gdw.training.loop import TrainingLoop, accuracy, recorded_arrays
from gdw.training.methods import Method, build_method
from gdw.training.models import build_model, build_weight_net, resolve_model_name
from gdw.training.resume_point import ResumePoint, check_same_data, resume_point

__all__ = [
    "AUTO_FORMULATION",
    "RunDirectorySink",
    "RunHandle",
    "TrainingDiverged",
    "TrainingSink",
    "resume",
    "run",
    "start",
]

AUTO_FORMULATION = {
    "mlp": "jvp",
    "cnn": "jvp",
    "lenet": "jvp",
    "resnet8": "jvp",
    "resnet14": "jvp",
    "resnet32": "jvp",
}
"""The faster exact meta-gradient per model, as measured by ``python -m gdw bench
--meta-gradient {jvp,double-backward}`` on 2 CPU cores: on the MLP the two are even (GDW about
2.9x an ERM step); with BatchNorm the double backward is slower (small CNN 4.0x vs 3.4x,
ResNet-32 4.9x vs 3.8x), as differentiating BatchNorm's backward costs more than a forward-mode
pass through it."""

_STATUS_EVERY = 1.0  # seconds between status.json updates within an epoch


class TrainingDiverged(RuntimeError):
    """A loss or weight became NaN or infinite."""


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


@dataclass(frozen=True)
class _Plan:
    device: torch.device
    model: str
    epochs: int
    outer_lr: float | None
    formulation: str
    steps: int


def _plan(config: RunConfig, data: NoisyDataset, device: torch.device) -> _Plan:
    model = resolve_model_name(config.model, config.data.dataset)
    if model != "mlp" and min(data.image_shape[1:]) < 8:
        raise ConfigError(
            f"model {model!r} needs images of at least 8x8 pixels, got "
            f"{data.image_shape[1]}x{data.image_shape[2]}; use --model mlp"
        )
    formulation = config.meta_gradient
    if formulation == "auto":
        formulation = AUTO_FORMULATION[model]
    return _Plan(
        device=device,
        model=model,
        epochs=config.resolved_epochs,
        outer_lr=config.resolved_outer_lr(data.n_classes),
        formulation=formulation,
        steps=math.ceil(data.train_given.numel() / config.batch_size),  # the loop's batches
    )


def _build_method(config: RunConfig, plan: _Plan, data: NoisyDataset, seed: int) -> Method:
    with torch.random.fork_rng(devices=[]):  # seeded weights without touching the global RNG
        torch.manual_seed(seed)
        model = build_model(plan.model, image_shape=data.image_shape, n_classes=data.n_classes)
        weight_net = build_weight_net(config.weight_net)
    return build_method(
        config,
        model.to(plan.device).train(),
        weight_net.to(plan.device),
        n_classes=data.n_classes,
        formulation=plan.formulation,
    )


def _versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        # The installed version, without importing torchvision (seconds: it loads torch._dynamo).
        "torchvision": importlib.metadata.version("torchvision"),
        "numpy": np.__version__,
    }


def _sources(data: NoisyDataset) -> np.ndarray:
    """Where each training example came from: its file relative to the data root, or its index
    in the source training split."""
    if data.train_sources:
        return np.asarray(data.train_sources, dtype=object)
    return data.train_source_index.numpy()


def _canaries(data: NoisyDataset) -> np.ndarray:
    canary = data.train_canary.numpy()
    return canary if canary.size else np.zeros(data.train_given.numel(), dtype=bool)


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


@dataclass(frozen=True)
class _Session:
    """Everything a run trains with, built from its configuration alone (so a resumed run
    rebuilds exactly what it had)."""

    config: RunConfig
    data: NoisyDataset
    plan: _Plan
    recorded: np.ndarray
    method: Method
    record: dict[str, Any]
    instances: dict[str, np.ndarray]
    order_seed: int
    augment_seed: int


def _prepare(config: RunConfig) -> _Session:
    device = resolve_device(config.device)
    data = load_dataset(config.data)
    plan = _plan(config, data, device)
    init_seed, order_seed, augment_seed, record_seed = np.random.SeedSequence(
        [config.seed, 1]
    ).generate_state(4)
    is_noisy = data.is_noisy.numpy()
    recorded = choose_recorded(
        is_noisy,
        n_classes=data.n_classes,
        epochs=plan.epochs,
        limit=config.record_limit,
        rng=np.random.default_rng(record_seed),
    )
    method = _build_method(config, plan, data, int(init_seed))
    record = {
        "config": config.to_dict(),
        "resolved": {
            "epochs": plan.epochs,
            "outer_lr": plan.outer_lr,
            "model": plan.model,
            "num_meta": int(data.meta_labels.numel()),
            "meta_gradient": plan.formulation,
            "device": str(device),
            "steps_per_epoch": plan.steps,
        },
        "versions": _versions(),
        "classes": list(data.classes),
        "data_summary": describe(data),
        "recording": {
            "recorded": int(recorded.size),
            "total": int(is_noisy.size),
            "subset": bool(recorded.size < is_noisy.size),
            "note": (
                "every noisy example plus a seeded sample of clean ones"
                if recorded.size < is_noisy.size
                else "every training example"
            ),
        },
    }
    given_np, true_np = data.train_given.numpy(), data.train_true.numpy()
    instances = {
        "index": recorded,
        "given_label": given_np[recorded],
        "true_label": true_np[recorded],
        "is_noisy": is_noisy[recorded].astype(np.int8),
        "source": _sources(data)[recorded],
        "is_canary": _canaries(data)[recorded].astype(np.int8),
    }
    return _Session(
        config, data, plan, recorded, method, record, instances, int(order_seed), int(augment_seed)
    )


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
    Setting ``stop_event`` ends the run within one step as ``stopped``. Any exception during
    training (a failed write included) ends it as ``failed`` with the message in
    ``status.json`` and is raised again. After every epoch a checkpoint is written, from which
    :func:`resume` continues.
    """
    session = _prepare(config)
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
    stop_event: threading.Event | None = None,
    sinks: Sequence[TrainingSink] = (),
) -> Path:
    """Continues a ``stopped``, ``failed`` or ``interrupted`` run from its last checkpoint, in
    the same folder; on the CPU it ends exactly as the run would have without the break.

    Raises:
        ConfigError: the folder holds no resumable run (another state, a damaged file, no
            checkpoint while epochs are done, or data that differ from when it started).
    """
    point = resume_point(run_dir)
    session = _prepare(point.config)
    check_same_data(point, session.instances)
    writer = RunWriter.reopen(point.run.path, epochs=point.epoch, elapsed=point.seconds)
    return _train(session, writer, sinks, stop_event, point=point)


def _train(
    session: _Session,
    writer: RunWriter,
    sinks: Sequence[TrainingSink],
    stop_event: threading.Event | None,
    *,
    point: ResumePoint | None = None,
) -> Path:
    config, plan, data, recorded = session.config, session.plan, session.data, session.recorded
    run_dir = writer.path
    first = point.epoch + 1 if point is not None else 1
    observers: list[TrainingSink] = [RunDirectorySink(writer), *sinks]
    start_plan = {"epochs": plan.epochs, "steps": plan.steps, "run_dir": run_dir}
    for sink in observers:
        sink.on_start(run_dir, {**start_plan, "first_epoch": first})
    loop = TrainingLoop(
        session.method,
        data,
        batch_size=config.batch_size,
        device=plan.device,
        order_seed=session.order_seed,
        augment_seed=session.augment_seed,
        record=recorded.size > 0,
    )
    epochs = _Epochs(loop, plan, data, recorded, observers, stop_event)
    if point is not None and point.state is not None:
        restore(point.state, session.method, epochs.scheduler, loop)
        epochs.rows = list(point.rows)
        epochs.started -= point.seconds
    state, error = "failed", None
    try:
        state = epochs.train(first, run_dir)
    except KeyboardInterrupt:
        state = "stopped"
        raise
    except Exception as exc:
        error = (
            f"{type(exc).__name__}: {exc}" if not isinstance(exc, TrainingDiverged) else str(exc)
        )
        raise
    finally:
        summary = _summary(epochs.rows, time.monotonic() - epochs.started, state)
        for sink in observers:
            sink.on_end(state, summary, error)
    return run_dir


class _Epochs:
    """The epoch loop of one run: steps, checks, evaluation, metrics, sinks."""

    def __init__(
        self,
        loop: TrainingLoop,
        plan: _Plan,
        data: NoisyDataset,
        recorded: np.ndarray,
        sinks: Sequence[TrainingSink],
        stop_event: threading.Event | None,
    ) -> None:
        self.loop, self.plan, self.data, self.recorded = loop, plan, data, recorded
        self.sinks, self.stop_event = sinks, stop_event
        self.recorded_given = data.train_given.numpy()[recorded]
        self.recorded_noisy = data.is_noisy.numpy()[recorded]
        self.recorded_true = data.train_true.numpy()[recorded]
        self.test_images = data.test_images.to(plan.device)
        self.test_labels = data.test_labels.to(plan.device)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            loop.method.optimizer, T_max=plan.epochs
        )
        self.rows: list[dict[str, float]] = []
        self.started = time.monotonic()

    def train(self, first: int, run_dir: Path) -> str:
        """Epochs ``first`` to the last; a checkpoint after each (see
        :mod:`gdw.training.checkpoint`)."""
        for epoch in range(first, self.plan.epochs + 1):
            if not self._epoch(epoch):
                return "stopped"
            seconds = time.monotonic() - self.started
            state = training_state(
                self.loop.method,
                self.scheduler,
                self.loop,
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
        loop, model = self.loop, self.loop.method.model
        lr = float(loop.method.optimizer.param_groups[0]["lr"])
        began = last_check = time.monotonic()
        loop.begin_epoch()
        for step in range(1, self.plan.steps + 1):
            if self.stop_event is not None and self.stop_event.is_set():
                return False
            loop.step(step)
            if time.monotonic() - last_check >= _STATUS_EVERY:  # a sync about once a second
                last_check = time.monotonic()
                self._check_finite(epoch, loop.first_bad_step())
            for sink in self.sinks:
                sink.on_step(epoch, step, self.plan.steps)
        totals = loop.end_epoch()
        self._check_finite(epoch, totals.first_bad_step)
        self.scheduler.step()
        arrays = recorded_arrays(totals.visits, self.recorded)
        weights = arrays["weights"]
        metrics = {
            "epoch": epoch,
            "test_acc": accuracy(model, self.test_images, self.test_labels, self.data),
            "meta_acc": accuracy(model, loop.meta_images, loop.meta_labels, self.data),
            "train_acc_true": totals.train_acc_true,
            "train_acc_given": totals.train_acc_given,
            "loss": totals.loss,
            "lr": lr,
            "seconds": time.monotonic() - began,
            **weight_statistics(weights, self.recorded_given, self.recorded_noisy),
            **story_statistics(
                weights, arrays["base_weights"], self.recorded_given, self.recorded_true
            ),
            "lean": lean(arrays["base_weights"], arrays["given_prob"]),
        }
        self.rows.append(metrics)
        for sink in self.sinks:
            sink.on_epoch(metrics, arrays)
        return True


class RunHandle:
    """A run training in a daemon thread (see :func:`start`)."""

    def __init__(
        self,
        config: RunConfig,
        runs_dir: str | Path,
        sinks: Sequence[TrainingSink],
        resume_dir: str | Path | None = None,
    ) -> None:
        self.config = config
        self.resume_dir = resume_dir
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
                resume(self.resume_dir, stop_event=self._stop, sinks=sinks)
            else:
                run(self.config, runs_dir=runs_dir, stop_event=self._stop, sinks=sinks)
        except Exception as exc:  # the run directory already says failed; keep the message
            self.error = str(exc)
        finally:
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
) -> RunHandle:
    """Starts :func:`run` (or, given ``resume``, :func:`resume` of that run folder, whose
    configuration ``config`` is) in a daemon thread and returns its handle at once."""
    return RunHandle(config, runs_dir, sinks, resume)
