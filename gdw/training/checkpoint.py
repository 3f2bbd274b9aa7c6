"""A run's checkpoint: everything needed to continue it bit-for-bit after its last finished epoch.

``checkpoint.pt`` in the run folder holds the classifier, its optimiser, the weighting net and its
optimiser (MW-Net, GDW), the learning-rate schedule, the stepper's random generators (batch order;
augmentation, with the kind of device it drew on) with its queue of meta-batch indices (under the
key ``loop``, as checkpoints have always stored them), the recorded examples and the seconds
trained. It is replaced atomically after every epoch, so a run
keeps one checkpoint, never half of one; a completed run keeps its last, from which it can be
trained on to more epochs. It holds tensors and plain values only and is read with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import io
import math
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gdw.runs.files import FORMAT, RunReadError, atomic_write_bytes
from gdw.training.stepper import Stepper
from gdw.weighting.methods import Method

__all__ = ["CHECKPOINT", "load_checkpoint", "restore", "save_checkpoint", "training_state"]

CHECKPOINT = "checkpoint.pt"


def _parts(method: Method) -> dict[str, Any]:
    parts: dict[str, Any] = {"model": method.model, "optimizer": method.optimizer}
    for name in ("weight_net", "weight_optimizer"):
        if getattr(method, name, None) is not None:
            parts[name] = getattr(method, name)
    return parts


def training_state(
    method: Method,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    stepper: Stepper,
    *,
    epoch: int,
    recorded: np.ndarray,
    seconds: float,
) -> dict[str, Any]:
    """The state after epoch ``epoch`` (1-based) of a run, ready for :func:`save_checkpoint`."""
    return {
        "format": FORMAT,
        "epoch": epoch,
        "seconds": seconds,
        "recorded": torch.as_tensor(recorded, dtype=torch.long),
        "scheduler": scheduler.state_dict(),
        "loop": stepper.state_dict(),
        **{name: part.state_dict() for name, part in _parts(method).items()},
    }


def save_checkpoint(run_dir: Path, state: dict[str, Any]) -> None:
    """Replaces the run's ``checkpoint.pt`` with ``state`` (atomically)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(Path(run_dir) / CHECKPOINT, buffer.getvalue())


def load_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    """The run's checkpoint, or None when it has none. Raises :class:`RunReadError` naming
    ``checkpoint.pt`` when it is damaged or of a later format."""
    path = Path(run_dir) / CHECKPOINT
    if path.is_symlink() and path.resolve().parent != Path(run_dir).resolve():
        raise RunReadError(run_dir, CHECKPOINT, "is a link to a file outside the run folder")
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (
        RuntimeError,
        OSError,
        EOFError,
        ValueError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
    ) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RunReadError(run_dir, CHECKPOINT, f"cannot be read ({first[:120]})") from None
    if not isinstance(state, dict) or not isinstance(state.get("epoch"), int):
        raise RunReadError(run_dir, CHECKPOINT, "does not hold a training state")
    if int(state.get("format", 1)) > FORMAT:
        raise RunReadError(
            run_dir,
            CHECKPOINT,
            f"was written in format {state['format']}, newer than this gdw reads (up to {FORMAT})",
        )
    return state


def restore(
    state: dict[str, Any],
    method: Method,
    scheduler: torch.optim.lr_scheduler.CosineAnnealingLR,
    stepper: Stepper,
) -> None:
    """Loads ``state`` into a freshly built method, schedule and stepper of the same run.

    The schedule keeps the length it was built with: when the run now trains to another number
    of epochs than the checkpoint's schedule spans, the cosine is recomputed over the new total
    from the checkpoint's epoch on (:func:`_respan`)."""
    epochs = scheduler.T_max
    for name, part in _parts(method).items():
        part.load_state_dict(state[name])
    scheduler.load_state_dict(state["scheduler"])
    if scheduler.T_max != epochs:
        _respan(scheduler, epochs)
    stepper.load_state_dict(state["loop"], epoch=int(state["epoch"]))


def _respan(scheduler: torch.optim.lr_scheduler.CosineAnnealingLR, epochs: int) -> None:
    """Makes the cosine span ``epochs`` from the epoch it is at: the learning rate becomes the
    one a schedule over ``epochs`` has there, and each later step follows that curve. After a
    completed run (its rate at ``eta_min``, the old curve's end) the rate rises again, as at a
    warm restart."""
    scheduler.T_max = epochs
    done = scheduler.last_epoch
    for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs, strict=True):
        cosine = (1 + math.cos(math.pi * done / epochs)) / 2
        group["lr"] = scheduler.eta_min + (base - scheduler.eta_min) * cosine
