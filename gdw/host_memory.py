"""Keep freed host memory in the process instead of handing it back to the OS at every step.

A training step on the CPU allocates and frees megabytes of activations, and a GDW step holds
three passes' worth at once (the real forward kept for two backwards, the meta pass, the
forward-mode pass). glibc's malloc returns large freed blocks to the operating system (its
trim and mmap thresholds, and whole per-thread heaps), so the next step faults the same pages
back in, zero-filled by the kernel: thousands of page faults per small-CNN GDW step here,
about a quarter of the step. Raising the thresholds, and sending threads started afterwards to
the main heap (whose top is what the trim threshold governs), stops that; memory stays bounded
by the peak of a step. Threads that allocated before the call keep their own heaps. Elsewhere
than glibc this does nothing.

The library never applies it by itself (it retunes the whole process): the entry points do,
``python -m gdw ...`` and the dashboard, through :func:`retain_freed_memory_unless_disabled`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

__all__ = ["DISABLE_VARIABLE", "retain_freed_memory", "retain_freed_memory_unless_disabled"]

DISABLE_VARIABLE = "GDW_RETAIN_FREED_MEMORY"
"""Set to ``0`` to keep glibc's defaults in ``gdw`` commands and the dashboard."""

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_TRIM_THRESHOLD = 256 << 20  # freed memory kept at the top of the heap
_MMAP_THRESHOLD = 32 << 20  # blocks below this come from the heap (glibc's largest allowed)


@functools.cache
def retain_freed_memory() -> bool:
    """Tunes glibc's malloc once per process; returns whether it applied.

    Call it before starting a training thread: threads pick their heap at their first
    allocation.
    """
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all(
        mallopt(option, value) == 1
        for option, value in (
            (_M_TRIM_THRESHOLD, _TRIM_THRESHOLD),
            (_M_MMAP_THRESHOLD, _MMAP_THRESHOLD),
            (_M_ARENA_MAX, 1),
        )
    )


def retain_freed_memory_unless_disabled() -> bool:
    """:func:`retain_freed_memory`, unless the environment sets ``GDW_RETAIN_FREED_MEMORY=0``."""
    if os.environ.get(DISABLE_VARIABLE, "").strip() == "0":
        return False
    return retain_freed_memory()
