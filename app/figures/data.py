"""Plotly figures of a corrupted dataset, from :func:`gdw.describe`'s summary and a few images.

Pure functions: no Streamlit, so they are tested without a browser. Every chart has a title,
labelled axes, and class names on its axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures.plot_style import CLEAN, GIVEN, NOISY, layout

__all__ = ["class_counts_figure", "confusions_figure", "examples_figure", "transition_figure"]

_MAX_ANNOTATED_CLASSES = 20  # beyond this, numbers in heatmap cells are unreadable


def class_counts_figure(summary: dict[str, Any]) -> go.Figure:
    """Grouped bars per class: training examples by true class and by given label."""
    classes = summary["classes"]
    fig = go.Figure(
        [
            go.Bar(x=classes, y=summary["train_counts"], name="true class", marker_color=CLEAN),
            go.Bar(x=classes, y=summary["given_counts"], name="given label", marker_color=GIVEN),
        ]
    )
    fig = layout(fig, "Training examples per class", "class", "training examples", height=380)
    fig.update_layout(
        barmode="group",
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
    )
    fig.update_xaxes(type="category")
    return fig


def transition_figure(summary: dict[str, Any]) -> go.Figure:
    """Heatmap of training-example counts, row = true class, column = given label."""
    classes = summary["classes"]
    counts = np.asarray(summary["transition"])
    heatmap = go.Heatmap(
        z=counts,
        x=classes,
        y=classes,
        colorscale="Blues",
        colorbar={"title": {"text": "examples"}},
        hovertemplate="true %{y}, given %{x}: %{z} examples<extra></extra>",
    )
    if len(classes) <= _MAX_ANNOTATED_CLASSES:
        heatmap.update(texttemplate="%{z}")
    fig = go.Figure(heatmap)
    fig.update_xaxes(type="category", side="bottom")
    # Row 0 on top, as the matrix is read.
    fig.update_yaxes(type="category", autorange="reversed")
    title = "True class → given label (training examples)"
    return layout(fig, title, "given label", "true class", height=420)


def confusions_figure(summary: dict[str, Any]) -> go.Figure | None:
    """Horizontal bars of the most frequent wrong labels ("truck → automobile"), most on top,
    from the summary's ``confusions``; ``None`` when no label is wrong.

    The bar length is the count; the hover adds the share of the true class given that label.
    """
    confusions = summary.get("confusions") or []
    if not confusions:
        return None
    names = [f"{pair['true']} → {pair['given']}" for pair in confusions]
    fig = go.Figure(
        go.Bar(
            x=[pair["count"] for pair in confusions],
            y=names,
            orientation="h",
            marker_color=NOISY,
            customdata=[100 * pair["share"] for pair in confusions],
            texttemplate="%{x} (%{customdata:.1f}%)",
            hovertemplate="true %{y}: %{x} examples, %{customdata:.1f}% of the true class"
            "<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    height = 120 + 28 * len(confusions)
    return layout(
        fig,
        "Most frequent wrong labels (true class → given label)",
        "training examples given the wrong label",
        "true class → given label",
        height=height,
    )


def examples_figure(
    images: np.ndarray,
    given: Sequence[int],
    true: Sequence[int],
    classes: Sequence[str],
    *,
    columns: int = 8,
) -> go.Figure:
    """A grid of training images titled with their given and true labels.

    Args:
        images: uint8 ``[n, ch, H, W]`` with 1 (grey) or 3 (RGB) channels.
        given, true: the labels of each image.
        classes: class names.
        columns: images per row.

    Mislabelled examples have their title in orange.
    """
    n = len(images)
    if n == 0:
        return layout(go.Figure(), "No training examples to show", "", "", height=120)
    rows = -(-n // columns)
    titles = [
        f"given {classes[g]}" + ("" if g == t else f"<br>true {classes[t]}")
        for g, t in zip(given, true, strict=True)
    ]
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=titles,
        horizontal_spacing=0.01,
        vertical_spacing=0.12 / rows,
    )
    for i, image in enumerate(images):
        rgb = np.repeat(image, 3, axis=0) if image.shape[0] == 1 else image
        fig.add_trace(
            go.Image(z=rgb.transpose(1, 2, 0), hoverinfo="skip"),
            row=i // columns + 1,
            col=i % columns + 1,
        )
    for annotation, g, t in zip(fig.layout.annotations, given, true, strict=True):
        annotation.font = {"size": 11, "color": NOISY if g != t else "#212529"}
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    title = "Training examples (orange: label changed)"
    return layout(fig, title, "", "", height=110 + 150 * rows, top=90)
