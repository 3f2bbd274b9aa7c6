"""The dashboard's process-wide tweaks, applied once per server process by its entry point.

Each rests on a measurement on a 2-core machine with a run training in the same process as the
page (see each function), and none is needed by the library: a notebook calling ``gdw.run()``
gets none of them.

- :func:`retain_host_memory`: glibc's malloc keeps freed memory (``gdw.host_memory``), which
  the CLI applies too; ``GDW_RETAIN_FREED_MEMORY=0`` turns it off.
- :func:`hand_over_the_gil_quickly`: a 0.2 ms GIL switch interval.
- :func:`freeze_startup_heap`: the heap of the imported libraries moved out of the garbage
  collector's way; started after the first page is drawn, not with the others, so that its
  imports do not compete with drawing the first page.

The job manager's exit hook (its runs end ``stopped`` when the server stops) lives with the
manager in :mod:`app.server.runs_folder`.
"""

from __future__ import annotations

import gc
import importlib
import sys
import threading

import streamlit as st

from gdw import retain_freed_memory_unless_disabled

__all__ = [
    "configure_process",
    "freeze_startup_heap",
    "hand_over_the_gil_quickly",
    "retain_host_memory",
]


@st.cache_resource(show_spinner=False)
def retain_host_memory() -> bool:
    """Keeps freed host memory in the process (before the job threads exist: a thread picks
    its heap at its first allocation); whether it applied."""
    return retain_freed_memory_unless_disabled()


@st.cache_resource(show_spinner=False)
def freeze_startup_heap() -> threading.Thread:
    """Keeps Streamlit's after-every-script-run ``gc.collect(2)`` from stalling training.

    Once per process, in a background thread (returned), called after a page has been drawn:
    a new user's first page does not wait for these imports and the warm-up, and the heap is
    frozen well before a run trains.

    Streamlit collects garbage after each script and fragment run. With torch, plotly and
    pandas loaded, a full collection walks about half a million objects and holds the GIL
    for about 0.3 s, during which the training thread cannot run its Python code; at a live
    page's one or two fragment runs a second, training slowed several-fold. The objects that
    exist once the libraries are imported live as long as the process, so they are moved to
    the permanent generation (``gc.freeze``), once per process, after plotly has been warmed up;
    what pages create later is collected as usual.
    """
    thread = threading.Thread(target=_warm_up_and_freeze, name="gdw-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_up_and_freeze() -> None:
    for name in (
        "sklearn.datasets",
        "sklearn.metrics",
        "sklearn.model_selection",
        "torchvision.datasets",
    ):
        try:  # imported lazily by the data sources; freeze them too
            importlib.import_module(name)
        except ImportError:
            pass
    from app.figures.plot_style import warm_up

    warm_up()
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False)
def hand_over_the_gil_quickly() -> float:
    """Lets a training thread of this process wait at most 0.2 ms for the GIL (default 5 ms).

    Between its tensor operations, which run without the GIL, a training step needs the GIL
    for a moment, dozens of times. While a page's script runs Python code, every one of those
    moments waited up to the switch interval, so a small model trained at a crawl for as long
    as a redraw lasted. On digits with a page open, wall time per epoch was 12-21% longer at
    1 or 5 ms, 7% longer at 0.2 ms. Returns the interval set.
    """
    sys.setswitchinterval(0.0002)
    return sys.getswitchinterval()


def configure_process() -> None:
    """Applies the tweaks that must come before any training thread exists, once per process
    (later calls are free); :func:`freeze_startup_heap` comes after the page."""
    retain_host_memory()
    hand_over_the_gil_quickly()
