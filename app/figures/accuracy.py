"""The accuracy curves of one run or of several overlaid: colour = run, dash = measure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from app.analysis.run_tables import run_label
from app.figures.plot_style import (
    DASHES,
    EXTRA_COLORS,
    curve_mode,
    epoch_axis,
    layout,
    mark_warmup,
    thin,
)
from gdw import recorded_method_spec

if TYPE_CHECKING:
    from gdw import Run

__all__ = ["ACCURACY_COLUMNS", "accuracy_figure"]

ACCURACY_COLUMNS = {
    "test_acc": "test",
    "meta_acc": "meta (clean)",
    "train_acc_true": "train vs true labels",
    "train_acc_given": "train vs given labels",
}
"""The accuracy curves of a run (columns of ``metrics.csv``) and their names in the legend."""


def accuracy_figure(
    runs: Sequence[Run], *, columns: Sequence[str] = tuple(ACCURACY_COLUMNS)
) -> go.Figure:
    """Accuracy (%) per epoch of one or several runs overlaid: colour = run, dash = measure;
    the weighting methods' warm-up shaded."""
    fig = go.Figure()
    used: dict[str, str] = {}
    for number, run in enumerate(runs):
        color = recorded_method_spec(run.method).color
        if color in used.values() or len(runs) > 3 and number >= 3:
            color = EXTRA_COLORS[number % len(EXTRA_COLORS)]
        used[run.run_id] = color
        if not len(run.metrics):
            continue
        metrics = run.metrics.iloc[thin(len(run.metrics))]
        epochs = metrics["epoch"]
        for column, dash in zip(columns, DASHES, strict=False):
            if column not in metrics:
                continue
            name = ACCURACY_COLUMNS.get(column, column)
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=100 * pd.to_numeric(metrics[column], errors="coerce"),
                    mode=curve_mode(len(epochs)),
                    name=f"{run_label(run)}: {name}" if len(runs) > 1 else name,
                    line={
                        "color": color,
                        "dash": dash,
                        "width": 2.5 if column == "test_acc" else 1.8,
                    },
                    marker={"size": 5},
                    hovertemplate=f"{run_label(run)}<br>{name}: %{{y:.1f}}%<br>epoch %{{x}}"
                    "<extra></extra>",
                )
            )
    epoch_axis(fig, max((r.epochs_done for r in runs), default=0))
    mark_warmup(fig, max((r.warmup_epochs for r in runs), default=0))
    title = "Accuracy per epoch" + (" — runs overlaid" if len(runs) > 1 else "")
    return layout(fig, title, "epoch", "accuracy (%)", height=420)
