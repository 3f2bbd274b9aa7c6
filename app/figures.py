"""Plotly figures of a loaded run. Pure functions: no Streamlit, tested without a browser.

Every chart has a title and labelled axes and names classes, never numbers. Figures stay small
whatever the run size: histograms are binned here, heatmaps take a sample, and scatter plots
with many points use WebGL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.analysis import (
    ACCURACY_COLUMNS,
    class_weight_table,
    format_weight,
    given_weights,
    has_noise,
    method_of,
    run_label,
    signal_names,
)
from gdw import recorded_method_spec

if TYPE_CHECKING:
    from gdw import Run

__all__ = [
    "MAX_CURVE_POINTS",
    "accuracy_figure",
    "example_bars_figure",
    "example_compare_figure",
    "example_timeline_figure",
    "weight_histograms_figure",
    "weight_means_figure",
    "heatmap_figure",
    "imbalance_figure",
    "noise_auroc_figure",
    "precision_figure",
    "to_display_image",
    "warm_up",
]

CLEAN, NOISY, GIVEN, OTHER = "#2b8a3e", "#e8590c", "#d6336c", "#4c6ef5"
_DASHES = ("solid", "dash", "dot", "dashdot")
_EXTRA_COLORS = ("#f59f00", "#0ca678", "#7048e8", "#e64980", "#1098ad", "#5c940d")


MAX_CURVE_POINTS = 400  # per line; longer curves are thinned (the browser redraws them live)


def _thin(n: int) -> np.ndarray:
    """Positions of at most MAX_CURVE_POINTS evenly spaced points of ``n``, the last included."""
    if n <= MAX_CURVE_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_CURVE_POINTS).round().astype(int))


def _curve_mode(n_points: int) -> str:
    # Markers help read a short curve, but each is an SVG node the browser redraws on every
    # live refresh (measured: a 4-line chart with markers costs twice as much to redraw).
    return "lines+markers" if n_points <= 15 else "lines"


def layout(
    fig: go.Figure, title: str, x: str, y: str, *, height: int = 360, legend_y: float = -0.35
) -> go.Figure:
    """The dashboard's common look: left-aligned title, axis titles, legend below the plot."""
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "bottom", "y": legend_y, "x": 0},
    )
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y)
    return fig


def accuracy_figure(
    runs: Sequence[Run], *, columns: Sequence[str] = tuple(ACCURACY_COLUMNS)
) -> go.Figure:
    """Accuracy (%) per epoch of one or several runs overlaid: colour = run, dash = measure."""
    fig = go.Figure()
    used: dict[str, str] = {}
    for number, run in enumerate(runs):
        method = method_of(run)
        color = recorded_method_spec(method).color
        if color in used.values() or len(runs) > 3 and number >= 3:
            color = _EXTRA_COLORS[number % len(_EXTRA_COLORS)]
        used[run.run_id] = color
        if not len(run.metrics):
            continue
        metrics = run.metrics.iloc[_thin(len(run.metrics))]
        epochs = metrics["epoch"]
        for column, dash in zip(columns, _DASHES, strict=False):
            if column not in metrics:
                continue
            name = ACCURACY_COLUMNS.get(column, column)
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=100 * pd.to_numeric(metrics[column], errors="coerce"),
                    mode=_curve_mode(len(epochs)),
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
    _epoch_axis(fig, max((r.epochs_done for r in runs), default=0))
    title = "Accuracy per epoch" + (" — runs overlaid" if len(runs) > 1 else "")
    return layout(fig, title, "epoch", "accuracy (%)", height=420)


def _bar_colors(n_classes: int, given: int, true: int | None) -> list[str]:
    return [GIVEN if j == given else NOISY if j == true else OTHER for j in range(n_classes)]


def _epoch_axis(fig: go.Figure, n_epochs: int) -> None:
    """Whole-number epoch ticks (no "2.5") for short runs."""
    if n_epochs <= 12:
        fig.update_xaxes(tick0=1, dtick=1)


def example_bars_figure(
    classes: Sequence[str],
    given: int,
    weights: np.ndarray,
    *,
    epoch: int,
    method: str,
    true: int | None = None,
    base_weight: float | None = None,
    relative: bool = False,
) -> go.Figure:
    """One example's class-level weights at one epoch, as bars named "dog", "not cat", ...

    Three colours: the given class's bar ("dog") pink, for a mislabelled example (``true``
    differs from ``given``) the wrong "not <true class>" bar orange, the other classes blue.
    The instance weight ``v0`` it started from is a reference line ("MW-Net-style weight").

    Args:
        weights: the example's weights [C].
        base_weight: its first-stage instance weight ``v0`` (``None``: not recorded).
        relative: bars as ``W / v0`` (needs ``base_weight > 0``); the reference line is then 1.
    """
    names = signal_names(classes, given)
    wrong = true if true is not None and true != given else None
    relative = relative and base_weight is not None and base_weight > 0
    values = np.asarray(weights, dtype=float) / base_weight if relative else weights
    fig = go.Figure(
        go.Bar(
            x=names,
            y=values,
            marker_color=_bar_colors(len(classes), given, wrong),
            text=[format_weight(float(w)) for w in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{y:.3g}<extra></extra>",
        )
    )
    kind = recorded_method_spec(method).weight_kind
    if base_weight is not None and kind != "ones":
        reference = 1.0 if relative else float(base_weight)
        fig.add_hline(
            y=reference,
            line_dash="dash",
            line_color="#212529",
            annotation_text="MW-Net-style weight for this example (v0 = "
            f"{format_weight(float(base_weight))})",
            annotation_position="top left",
            annotation_bgcolor="rgba(255,255,255,0.85)",
        )
    if not relative:
        fig.add_hline(
            y=1.0,
            line_dash="dot",
            line_color="#adb5bd",
            annotation_text="ERM weight 1",
            annotation_position="top right",
        )
    what = {
        "class": "class-level weights",
        "instance": "instance weight (one for all signals)",
        "ones": "weights (ERM: all 1)",
    }[kind]
    title = f"Epoch {epoch}: this example's {what}" + (" ÷ its instance weight" if relative else "")
    fig = layout(fig, title, "class-level signal", "W / v0" if relative else "weight")
    top = float(np.nanmax(values)) if len(values) else 1.0
    fig.update_yaxes(range=[0, max(1.15, top * 1.15)])
    fig.update_layout(showlegend=False, bargap=0.25)
    if len(classes) > 20:
        fig.update_xaxes(tickangle=-60)
    return fig


def example_timeline_figure(
    classes: Sequence[str],
    given: int,
    weights: np.ndarray,
    *,
    epoch: int | None = None,
    true: int | None = None,
    max_lines: int = 11,
) -> go.Figure:
    """One example's class-level weights over epochs, one line per signal.

    With many classes, only the given class (and, for a mislabelled example, its true class)
    and the signals that moved most are drawn.

    Args:
        weights: [epochs, C] for this example.
    """
    names = signal_names(classes, given)
    n_epochs = weights.shape[0]
    keep = _thin(n_epochs)
    epochs = keep + 1
    columns = list(range(len(classes)))
    wrong = true if true is not None and true != given else None
    if len(columns) > max_lines:
        spread = np.abs(weights - 1.0).mean(axis=0)
        spread[given] = np.inf
        if wrong is not None:
            spread[wrong] = np.inf
        columns = sorted(np.argsort(-spread)[:max_lines].tolist())
    fig = go.Figure()
    for number, j in enumerate(columns):
        style = (
            {"color": GIVEN, "width": 3.5}
            if j == given
            else {"color": NOISY, "width": 3.0, "dash": "dash"} if j == wrong else {"width": 1.6}
        )
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=weights[keep, j],
                name=names[j],
                mode="lines+markers" if len(epochs) < 3 else "lines",
                line=style,
                hovertemplate=f"{names[j]}: %{{y:.3f}}<br>epoch %{{x}}<extra></extra>",
                legendrank=0 if j == given else 1 if j == wrong else 10 + number,
            )
        )
    _epoch_axis(fig, n_epochs)
    if epoch is not None:
        fig.add_vline(x=epoch, line_dash="dot", line_color="#495057")
    shown = "" if len(columns) == len(classes) else f" ({len(columns)} of {len(classes)} shown)"
    fig = layout(fig, f"How this example's weights evolved{shown}", "epoch", "weight")
    fig.update_layout(legend={"orientation": "v", "y": 1, "x": 1.02, "yanchor": "top"})
    fig.update_layout(margin={"r": 120})
    return fig


def _hist(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(values[np.isfinite(values)], bins=edges)
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def weight_histograms_figure(run: Run, epoch: int, *, bins: int = 40) -> go.Figure:
    """Distributions at one epoch of the given-class weight and of the other-class weights,
    clean vs noisy examples (fractions per bin, binned here so the figure stays small)."""
    instances = run.instances
    weights = run.weights(epoch)
    given = instances["given_label"].to_numpy()
    noisy = instances["is_noisy"].to_numpy().astype(bool)
    target = given_weights(weights, given)
    mask = np.ones_like(weights, dtype=bool)
    mask[np.arange(len(given)), given] = False
    high = max(1.0, float(np.nanmax(weights))) if weights.size else 1.0
    edges = np.linspace(0.0, high * 1.0001, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    groups = (
        [("noisy", noisy, NOISY), ("clean", ~noisy, CLEAN)]
        if noisy.any()
        else [("all examples", ~noisy, CLEAN)]
    )
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            'given-class signal ("dog")',
            'other-class signals ("not cat", "not bird")',
        ),
    )
    for col, pick in ((1, "target"), (2, "other")):
        for name, rows, color in groups:
            if pick == "target":
                values = target[rows]
            else:
                values = weights[rows][mask[rows]] if weights.shape[1] > 1 else np.array([])
            fig.add_trace(
                go.Bar(
                    x=centers,
                    y=_hist(values, edges),
                    name=name,
                    marker_color=color,
                    opacity=0.6,
                    showlegend=col == 1,
                    legendgroup=name,
                    hovertemplate=f"{name}<br>weight %{{x:.2f}}: %{{y:.1%}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig = layout(fig, f"Weight distributions at epoch {epoch}", "weight", "fraction of signals")
    fig.update_layout(barmode="overlay", bargap=0.02, legend={"y": -0.3})
    fig.update_xaxes(title_text="weight")
    fig.update_yaxes(title_text="fraction", col=2)
    return fig


def weight_means_figure(metrics: pd.DataFrame) -> go.Figure:
    """Mean target-class and other-class weights of clean and noisy examples over epochs."""
    series = [
        ("w_target_clean", "given class, clean", CLEAN, "solid"),
        ("w_target_noisy", "given class, noisy", NOISY, "solid"),
        ("w_other_clean", "other classes, clean", CLEAN, "dot"),
        ("w_other_noisy", "other classes, noisy", NOISY, "dot"),
    ]
    fig = go.Figure()
    n_epochs = len(metrics)
    metrics = metrics.iloc[_thin(n_epochs)]
    for column, name, color, dash in series:
        if column not in metrics:
            continue
        values = pd.to_numeric(metrics[column], errors="coerce")
        if values.notna().any():
            fig.add_trace(
                go.Scatter(
                    x=metrics["epoch"],
                    y=values,
                    name=name,
                    mode="lines",
                    line={"color": color, "dash": dash, "width": 2.2},
                )
            )
    _epoch_axis(fig, n_epochs)
    return layout(fig, "Mean weights over epochs", "epoch", "mean weight")


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


def imbalance_figure(run: Run, epoch: int) -> go.Figure:
    """Mean weights per class against class size: do tail classes get more weight?"""
    table = class_weight_table(run, epoch)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=table["class"], y=table["size"], name="class size (examples)", marker_color="#dee2e6"
        ),
        secondary_y=True,
    )
    fig.add_trace(
        go.Scatter(
            x=table["class"],
            y=table["target"],
            mode="lines+markers",
            name='"is this class" weight of its examples',
            line={"color": GIVEN, "width": 2.5},
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=table["class"],
            y=table["not_class"],
            mode="lines+markers",
            name='"not this class" weight of the other examples',
            line={"color": OTHER, "width": 2.5, "dash": "dot"},
        ),
        secondary_y=False,
    )
    fig = layout(
        fig,
        f"Head vs tail: mean weight per class at epoch {epoch}",
        "class (largest first)",
        "mean weight",
        height=420,
    )
    fig.update_yaxes(title_text="training examples", secondary_y=True, showgrid=False)
    fig.update_yaxes(title_text="mean weight", secondary_y=False, rangemode="tozero")
    fig.update_xaxes(type="category")
    return fig


def noise_auroc_figure(run: Run) -> go.Figure:
    """noise_auroc over epochs: how well low weights pick out the mislabelled examples."""
    fig = go.Figure()
    n_epochs = len(run.metrics)
    metrics = run.metrics.iloc[_thin(n_epochs)]
    if "noise_auroc" in metrics and len(metrics):
        values = pd.to_numeric(metrics["noise_auroc"], errors="coerce")
        if values.notna().any():
            fig.add_trace(
                go.Scatter(
                    x=metrics["epoch"],
                    y=values,
                    mode=_curve_mode(n_epochs),
                    name="noise AUROC",
                    line={"color": GIVEN, "width": 2.5},
                )
            )
    fig.add_hline(
        y=0.5,
        line_dash="dot",
        line_color="#868e96",
        annotation_text="chance (0.5)",
        annotation_position="bottom right",
    )
    _epoch_axis(fig, n_epochs)
    title = "Finding label noise: AUROC of low weights" + ("" if has_noise(run) else " — n/a")
    fig = layout(fig, title, "epoch", "AUROC")
    fig.update_yaxes(range=[0.0, 1.02])
    return fig


def precision_figure(table: pd.DataFrame, *, epoch: int) -> go.Figure:
    """Precision of the k lowest-weighted given-class signals against the known noise."""
    fig = go.Figure()
    if len(table):
        fig.add_trace(
            go.Scatter(
                x=table["k"],
                y=100 * table["precision"],
                mode="lines+markers",
                name="precision",
                line={"color": NOISY, "width": 2.5},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=table["k"],
                y=100 * table["chance"],
                mode="lines",
                name="chance (noise rate)",
                line={"color": "#868e96", "dash": "dot"},
            )
        )
    fig = layout(
        fig,
        f"Precision of the k most distrusted labels at epoch {epoch}",
        "k lowest given-class weights",
        "precision (% truly mislabelled)",
    )
    fig.update_yaxes(range=[0, 102])
    return fig


def warm_up() -> None:
    """Builds and serialises one small figure of every kind used here, so that plotly's lazy
    imports, validators and templates are loaded once, up front, not during a live run."""
    fig = make_subplots(rows=1, cols=2, specs=[[{"secondary_y": True}, {}]])
    fig.add_trace(go.Scatter(x=[1, 2], y=[1, 2]), row=1, col=1, secondary_y=True)
    fig.add_trace(go.Bar(x=["a"], y=[1]), row=1, col=2)
    fig.add_trace(go.Heatmap(z=[[1.0, 2.0]], x=["a", "b"], y=["c"]))
    fig.add_hline(y=1.0, annotation_text="h")
    fig.add_vline(x=1.0)
    fig = layout(fig, "warm-up", "x", "y")
    fig.update_layout(shapes=[{"type": "line", "x0": 0, "x1": 1, "y0": 0, "y1": 1}])
    fig.to_json()


def to_display_image(image: np.ndarray, *, size: int = 160) -> np.ndarray:
    """An image [ch, H, W] (uint8 or float) as uint8 [H', W'] or [H', W', 3], scaled up by
    nearest neighbour so that small images (8x8 digits) stay crisp."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = array.astype(np.float32)
        low, high = float(array.min()), float(array.max())
        array = ((array - low) / (high - low) * 255 if high > low else array * 0).astype(np.uint8)
    if array.ndim == 3 and array.shape[0] in (1, 3):
        array = array[0] if array.shape[0] == 1 else np.transpose(array, (1, 2, 0))
    factor = max(1, size // max(array.shape[:2]))
    return np.repeat(np.repeat(array, factor, axis=0), factor, axis=1)


def example_compare_figure(
    classes: Sequence[str],
    given: int,
    weights_by_run: dict[str, tuple[str, np.ndarray]],
    *,
    epoch: int,
) -> go.Figure:
    """The same example's weights in several runs (GDW vs MW-Net vs ERM), as grouped bars.

    Args:
        weights_by_run: legend label -> (method, weights [C]).
    """
    names = signal_names(classes, given)
    fig = go.Figure()
    methods = [method for method, _ in weights_by_run.values()]
    for number, (label, (method, weights)) in enumerate(weights_by_run.items()):
        color = (
            recorded_method_spec(method).color
            if methods.count(method) == 1
            else (_EXTRA_COLORS[number % len(_EXTRA_COLORS)])
        )
        fig.add_trace(
            go.Bar(
                x=names,
                y=weights,
                name=label,
                marker_color=color,
                hovertemplate=f"{label}<br>%{{x}}: %{{y:.3f}}<extra></extra>",
            )
        )
    fig = layout(
        fig,
        f"The same example in the compared runs (epoch {epoch})",
        "class-level signal",
        "weight",
    )
    fig.update_layout(barmode="group", bargap=0.2)
    return fig
