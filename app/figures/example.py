"""Plotly figures of one training example: its class-level weights at an epoch, over the
epochs, and in the runs compared; and its image, scaled up for display. Pure functions: no
Streamlit, tested without a browser."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from app.analysis.weights import format_weight, signal_names
from app.figures.plot_style import EXTRA_COLORS, GIVEN, NOISY, OTHER, epoch_axis, layout, thin
from gdw import recorded_method_spec

__all__ = [
    "example_bars_figure",
    "example_compare_figure",
    "example_timeline_figure",
    "to_display_image",
]


def _bar_colors(n_classes: int, given: int, true: int | None) -> list[str]:
    return [GIVEN if j == given else NOISY if j == true else OTHER for j in range(n_classes)]


def example_bars_figure(
    classes: Sequence[str],
    given: int,
    weights: np.ndarray,
    *,
    epoch: int,
    method: str,
    true: int | None = None,
    instance_weight: float | None = None,
    relative: bool = False,
) -> go.Figure:
    """One example's class-level weights at one epoch, as bars named "dog", "not cat", ...

    Three colours: the given class's bar ("dog") pink, for a mislabelled example (``true``
    differs from ``given``) the wrong "not <true class>" bar orange, the other classes blue.
    The instance weight it started from is a reference line.

    Args:
        weights: the example's weights [C].
        instance_weight: its instance weight (``None``: not recorded).
        relative: bars as weights divided by the instance weight (which must be above 0); the
            reference line is then 1.
    """
    names = signal_names(classes, given)
    wrong = true if true is not None and true != given else None
    relative = relative and instance_weight is not None and instance_weight > 0
    values = np.asarray(weights, dtype=float) / instance_weight if relative else weights
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
    if instance_weight is not None and kind != "ones":
        reference = 1.0 if relative else float(instance_weight)
        fig.add_hline(
            y=reference,
            line_dash="dash",
            line_color="#212529",
            annotation_text="instance weight of this example ("
            f"{format_weight(float(instance_weight))})",
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
    fig = layout(fig, title, "class-level signal", "W / instance weight" if relative else "weight")
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
    keep = thin(n_epochs)
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
            else {"color": NOISY, "width": 3.0, "dash": "dash"}
            if j == wrong
            else {"width": 1.6}
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
    epoch_axis(fig, n_epochs)
    if epoch is not None:
        fig.add_vline(x=epoch, line_dash="dot", line_color="#495057")
    shown = "" if len(columns) == len(classes) else f" ({len(columns)} of {len(classes)} shown)"
    fig = layout(fig, f"How this example's weights evolved{shown}", "epoch", "weight")
    fig.update_layout(legend={"orientation": "v", "y": 1, "x": 1.02, "yanchor": "top"})
    fig.update_layout(margin={"r": 120})
    return fig


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
            else (EXTRA_COLORS[number % len(EXTRA_COLORS)])
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
