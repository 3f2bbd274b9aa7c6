"""Which device a run trains on: CUDA when present, then Apple's MPS, else the CPU.

torch is imported when a device is first looked up, not with this module: the dashboard's
sidebar names the devices last, after drawing its other controls without torch.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from gdw.config import ConfigError

if TYPE_CHECKING:
    import torch

__all__ = ["available_devices", "release_cached_memory", "resolve_device"]


def available_devices() -> list[str]:
    """Device names usable on this machine, the CPU always last."""
    import torch

    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.append("mps")
    return [*found, "cpu"]


def resolve_device(name: str) -> torch.device:
    """``auto`` picks the first of :func:`available_devices`; an absent device is refused."""
    import torch

    present = available_devices()
    if name == "auto":
        return torch.device(present[0])
    if name not in present:
        raise ConfigError(
            f"device {name!r} is not available on this machine (found: {', '.join(present)}); "
            "use --device auto or cpu"
        )
    return torch.device(name)


def release_cached_memory() -> None:
    """Returns the GPU memory torch's allocator keeps cached after a run to the GPU, so that a
    long-lived process (the dashboard, a sweep) does not hold it between runs.

    Call it once the run's tensors are gone: after the run returned, or after its exception
    was handled (a live traceback keeps the run's tensors). Nothing to do when CUDA was never
    used in this process.
    """
    import torch

    if torch.cuda.is_initialized():
        gc.collect()  # tensors held only by reference cycles (modules and their hooks)
        torch.cuda.empty_cache()
