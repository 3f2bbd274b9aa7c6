"""What a training run reports to: :class:`TrainingSink`, the base of every progress receiver.

Apart from the trainer (:mod:`gdw.training.trainer`) so that code which only receives progress (a
sweep's driver on Ray, the command line's progress bars) does not import torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["TrainingSink"]


class TrainingSink:
    """Receives a run's progress. Subclass and override what you need; all default to no-ops."""

    def on_start(self, run_dir: Path, plan: dict[str, Any]) -> None:
        """The run folder exists; ``plan`` holds ``epochs``, ``steps`` (per epoch),
        ``first_epoch`` (above 1 for a resumed run) and more."""

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        """Step ``step`` (1-based) of ``steps`` of epoch ``epoch`` (1-based) is done."""

    def on_epoch(self, metrics: dict[str, float], arrays: dict[str, np.ndarray]) -> None:
        """Epoch ``metrics["epoch"]`` is done; ``arrays`` hold what its visits gave the recorded
        examples (see :data:`gdw.runs.files.EPOCH_ARRAYS`: ``weights`` [recorded, C] and more)."""

    def on_end(self, state: str, summary: dict[str, Any], error: str | None) -> None:
        """The run ended as ``completed``, ``stopped`` or ``failed``."""
