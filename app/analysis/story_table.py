"""The seed's story in numbers, epoch by epoch: the quartiles of noisy and clean examples'
"dog", "not cat" and "not bird" weights, and how often the wrong signal is singled out.

Medians with interquartile bands need every example's weights, not the medians of
``metrics.csv``, so :func:`story_table` reads each epoch's arrays once and keeps a few numbers
per epoch (a finished epoch never changes): a live page re-reads only the new epochs. The
figures of :mod:`app.figures.story` draw these tables.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gdw import signal_quartiles, story_statistics

if TYPE_CHECKING:
    from gdw import Run

__all__ = ["has_story", "story_table"]

_CACHE: OrderedDict[tuple, dict[str, float]] = OrderedDict()
_CACHE_SIZE = 20_000  # epochs kept (a few dozen numbers each)
_LOCK = threading.Lock()


def _epoch_row(run: Run, epoch: int) -> dict[str, float]:
    instances = run.instances
    given = instances["given_label"].to_numpy()
    true = instances["true_label"].to_numpy()
    weights = run.weights(epoch)
    has_instance_weights = run.has_array("instance_weights")
    instance_weights = (
        run.instance_weights(epoch)
        if has_instance_weights
        else np.ones(len(given), dtype=np.float32)
    )
    row: dict[str, float] = {"epoch": float(epoch)}
    for mode, relative in (("absolute", False), ("relative", True)):
        if relative and not has_instance_weights:
            continue
        quartiles = signal_quartiles(weights, instance_weights, given, true, relative=relative)
        for (group, signal), values in quartiles.items():
            for name, value in zip(("q25", "q50", "q75"), values, strict=True):
                row[f"{mode}:{group}:{signal}:{name}"] = value
    statistics = story_statistics(weights, instance_weights, given, true)
    row["kept_fraction"] = statistics["kept_fraction"]
    row["true_class_found"] = statistics["true_class_found"]
    return row


def story_table(run: Run) -> pd.DataFrame:
    """One row per finished epoch: quartiles of every story signal, absolute and relative to
    the instance weight, and the run's ``kept_fraction``, ``true_class_found``.

    Columns ``"{absolute|relative}:{noisy|clean}:{given|true|other}:{q25|q50|q75}"`` (no
    relative columns for a run that recorded no instance weights). Each epoch is computed once
    per process.
    """
    started = run.status.get("started_at")
    rows = []
    for epoch in range(1, run.epochs_done + 1):
        key = (str(run.path), started, epoch)
        with _LOCK:
            row = _CACHE.get(key)
        if row is None:
            row = _epoch_row(run, epoch)
            with _LOCK:
                _CACHE[key] = row
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.popitem(last=False)
        rows.append(row)
    table = pd.DataFrame(rows)
    metrics = run.metrics
    for column in ("kept_fraction", "true_class_found"):  # the float32 values, when recorded
        if column in metrics and len(metrics) == len(table):
            table[column] = pd.to_numeric(metrics[column], errors="coerce").to_numpy()
    return table


def has_story(table: pd.DataFrame) -> bool:
    """Whether the table has a finite noisy median to show (a run with label noise)."""
    column = "absolute:noisy:given:q50"
    return column in table and bool(np.isfinite(table[column].to_numpy(dtype=float)).any())
