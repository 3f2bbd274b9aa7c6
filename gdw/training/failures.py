"""What a failed run says: one line, the same in ``status.json``, the command line and the
dashboard, with advice where there is some.

This module imports no torch: the command line reports failures with it, and a torch error can
only reach a process that has loaded torch.
"""

from __future__ import annotations

import sys

from gdw.config import ConfigError, DataError

__all__ = ["OUT_OF_GPU_MEMORY", "TrainingDiverged", "failure_message"]

OUT_OF_GPU_MEMORY = "out of GPU memory: try a smaller --batch-size or --device cpu"
"""What a run that ran out of GPU memory says, instead of CUDA's many lines about its
allocator: the two changes that make the run fit."""


class TrainingDiverged(RuntimeError):
    """A loss or weight became NaN or infinite."""


def failure_message(error: BaseException) -> str:
    """The line that says why a run failed with ``error``."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(error, torch.OutOfMemoryError):
        return OUT_OF_GPU_MEMORY
    if isinstance(error, (ConfigError, DataError, TrainingDiverged)):
        return str(error)  # written for the user already: what is wrong and what to do
    return f"{type(error).__name__}: {error}"
