"""A run's progress in numbers and words: fraction done, elapsed time and ETA from its status
and metrics, and seconds written as a clock. Pure functions: no Streamlit."""

from __future__ import annotations

import math
import time
from typing import Any

import pandas as pd

__all__ = ["format_seconds", "progress_of"]


def progress_of(
    status: dict[str, Any], metrics: pd.DataFrame, *, now: float | None = None
) -> dict[str, Any]:
    """Progress of a run from its status and metrics: fraction done, elapsed and ETA (seconds).

    The ETA uses the mean duration of finished epochs when there are any, else the elapsed
    time over the fraction done; it is ``None`` when nothing can be estimated yet.
    """
    now = time.time() if now is None else now
    state = status.get("state", "unknown")
    epochs = int(status.get("epochs") or 0)
    epoch = int(status.get("epoch") or 0)
    step, steps = int(status.get("step") or 0), int(status.get("steps") or 0)
    within = step / steps if steps and epoch < epochs else 0.0
    fraction = min(1.0, (epoch + within) / epochs) if epochs else 0.0
    if state == "running" and status.get("started_at"):
        elapsed = max(0.0, now - float(status["started_at"]))
    else:
        elapsed = float(status.get("elapsed") or 0.0)
    eta = None
    if state == "running" and epochs:
        if "seconds" in metrics and len(metrics):
            per_epoch = float(pd.to_numeric(metrics["seconds"], errors="coerce").tail(5).mean())
            if math.isfinite(per_epoch):
                eta = max(0.0, (epochs - epoch - within) * per_epoch)
        if eta is None and fraction > 0:
            eta = elapsed * (1 - fraction) / fraction
    return {
        "state": state,
        "epoch": epoch,
        "epochs": epochs,
        "step": step,
        "steps": steps,
        "fraction": fraction,
        "elapsed": elapsed,
        "eta": eta,
    }


def format_seconds(seconds: float | None) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``; ``None`` -> ``–``."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
