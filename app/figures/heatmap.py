"""The weight heatmap: a sample of a run's examples (rows, grouped by given class, then clean
before noisy) against the classes, at one epoch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from app.figures.plot_style import layout

if TYPE_CHECKING:
    from gdw import Run

__all__ = ["heatmap_figure"]


def heatmap_figure(run: Run, epoch: int, rows: np.ndarray) -> go.Figure:
    """Weights of sampled examples (rows, grouped by given class then clean/noisy) x classes."""
    instances = run.instances.iloc[rows]
    classes = run.classes
    weights = run.weights(epoch)[rows]
    given = instances["given_label"].to_numpy()
    true = instances["true_label"].to_numpy()
    noisy = instances["is_noisy"].to_numpy().astype(bool)
    # Row names carry the labels so the hover needs no per-cell text (keeps the figure small).
    names = [
        f"#{i}: given {classes[g]}, true {classes[t]}"
        for i, g, t in zip(instances["index"], given, true, strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=weights,
            x=list(classes),
            y=names,
            colorscale="RdYlBu",
            zmin=0.0,
            zmax=max(1.0, float(np.nanmax(weights, initial=1.0))),
            colorbar={"title": {"text": "weight"}},
            hovertemplate="example %{y}<br>class %{x}<br>weight %{z:.3f}<extra></extra>",
        )
    )
    keys = list(zip(given.tolist(), noisy.tolist(), strict=True))
    starts = [s for s in range(len(keys)) if s == 0 or keys[s] != keys[s - 1]]
    ticks = starts[:: max(1, len(starts) // 24)]
    fig.update_yaxes(
        type="category",
        autorange="reversed",
        tickvals=[names[s] for s in ticks],
        ticktext=[f"{classes[given[s]]} · {'noisy' if noisy[s] else 'clean'}" for s in ticks],
    )
    # One shapes list: add_hline per group re-validates every shape (quadratic, seconds).
    fig.update_layout(
        shapes=[
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": s - 0.5,
                "y1": s - 0.5,
                "line": {"color": "white", "width": 1},
            }
            for s in starts[1:]
        ]
    )
    fig = layout(
        fig,
        f"Weights of {len(rows)} sampled examples at epoch {epoch}",
        'class (the given class\'s cell is its "dog" signal)',
        "examples by given label",
        height=max(420, min(900, 6 * len(rows))),
    )
    fig.update_xaxes(type="category")
    fig.update_layout(showlegend=False)
    return fig
