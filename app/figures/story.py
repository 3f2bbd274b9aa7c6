"""The seed's story over epochs, drawn: noisy examples' "dog", "not cat", "not bird" and clean
ones', how often the wrong signal is singled out, and which way the weighting net leans.

The figures are pure functions (no Streamlit) of the tables of :mod:`app.analysis.story_table`
and of a run's leans.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.figures.plot_style import (
    CLEAN,
    DASHES,
    GIVEN,
    NOISY,
    OTHER,
    curve_mode,
    epoch_axis,
    layout,
    mark_warmup,
)
from gdw import LEAN_CLEAR, SIGNALS, recorded_method_spec

__all__ = ["FLOOR", "lean_figure", "story_figure", "story_fractions_figure"]

FLOOR = 1e-7  # log axes: a weight at float16's floor (~6e-8) is drawn here, not dropped
_NAMES = {"given": '"dog"', "true": '"not cat"', "other": '"not bird"'}
_COLORS = {"given": GIVEN, "true": NOISY, "other": OTHER}


def _band(
    fig: go.Figure, epochs: np.ndarray, low: np.ndarray, high: np.ndarray, color: str, group: str
) -> None:
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([epochs, epochs[::-1]]),
            y=np.concatenate([high, low[::-1]]),
            mode="lines",
            fill="toself",
            fillcolor=color,
            opacity=0.15,
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
        )
    )


def _series(kind: str) -> list[tuple[str, str, str]]:
    """(group, signal, legend name) drawn for a method whose weights are of ``kind``."""
    if kind == "class":
        return [(group, signal, f"{group} {_NAMES[signal]}") for group, signal in SIGNALS]
    return [(group, "given", f"{group}: every signal (one weight)") for group in ("noisy", "clean")]


def story_figure(
    runs: Sequence[tuple[str, str, pd.DataFrame]], *, relative: bool = False, warmup: int = 0
) -> go.Figure:
    """Median and interquartile band per epoch of each story signal, for one or more runs.

    Noisy examples' "dog", "not cat", "not bird" and clean examples' "dog", "not bird" (colour
    = signal; noisy solid and banded, clean dotted). A method with one weight per example
    (MW-Net, ``mwnet-step``, ERM) shows as the one line it is per group. Several runs are
    overlaid with a dash per run, bands for the first only. Log weight axis.

    Args:
        runs: ``(legend label, weight kind, story_table(run))`` per run.
        relative: weights divided by each example's instance weight (1 = what instance
            weighting would do).
        warmup: epochs of plain training before the weighting started, shaded.
    """
    mode = "relative" if relative else "absolute"
    fig = go.Figure()
    n_epochs = 0
    for number, (label, kind, table) in enumerate(runs):
        if not len(table) or f"{mode}:noisy:given:q50" not in table:
            continue
        epochs = table["epoch"].to_numpy()
        n_epochs = max(n_epochs, len(epochs))
        for group, signal, name in _series(kind):
            prefix = f"{mode}:{group}:{signal}"
            median = table[f"{prefix}:q50"].to_numpy(dtype=float)
            if not np.isfinite(median).any():
                continue
            color = _COLORS[signal] if kind == "class" else (NOISY if group == "noisy" else CLEAN)
            legend = f"{label}: {name}" if len(runs) > 1 else name
            if number == 0 and group == "noisy":
                low = np.maximum(table[f"{prefix}:q25"].to_numpy(dtype=float), FLOOR)
                high = np.maximum(table[f"{prefix}:q75"].to_numpy(dtype=float), FLOOR)
                _band(fig, epochs, low, high, color, legend)
            dash = (
                DASHES[number % len(DASHES)]
                if len(runs) > 1
                else ("solid" if group == "noisy" else "dot")
            )
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=np.maximum(median, FLOOR),
                    name=legend,
                    legendgroup=legend,
                    mode=curve_mode(len(epochs)),
                    line={"color": color, "dash": dash, "width": 2.8 if group == "noisy" else 1.8},
                    marker={"size": 5},
                    hovertemplate=f"{legend}<br>median %{{y:.3g}}<br>epoch %{{x}}<extra></extra>",
                )
            )
    if relative:
        fig.add_hline(
            y=1.0,
            line_dash="dot",
            line_color="#868e96",
            annotation_text="1 = what instance weighting does",
            annotation_position="bottom right",
        )
    epoch_axis(fig, n_epochs)
    mark_warmup(fig, warmup)
    what = "relative to the instance weight" if relative else "absolute"
    fig = layout(
        fig,
        f"Noisy vs clean examples' signals, {what}",
        "epoch",
        (
            "median and quartiles of W / instance weight (log)"
            if relative
            else "median and quartiles of the weight (log)"
        ),
        height=460,
        legend_y=-0.45,
    )
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def story_fractions_figure(
    runs: Sequence[tuple[str, str, pd.DataFrame]], *, n_classes: int
) -> go.Figure:
    """``kept_fraction`` and ``true_class_found`` over epochs, with their chance levels.

    Args:
        runs: ``(legend label, method, story_table(run))`` per run.
        n_classes: classes of the task (chance of finding the true class: 1 / (C - 1)).
    """
    fig = go.Figure()
    n_epochs = 0
    for label, method, table in runs:
        if not len(table):
            continue
        epochs = table["epoch"].to_numpy()
        n_epochs = max(n_epochs, len(epochs))
        for column, name, dash in (
            ("kept_fraction", '"not bird" kept above "not cat"', "solid"),
            ("true_class_found", "true class cut most", "dot"),
        ):
            values = pd.to_numeric(table[column], errors="coerce")
            if values.notna().any():
                legend = f"{label}: {name}" if len(runs) > 1 else name
                fig.add_trace(
                    go.Scatter(
                        x=epochs,
                        y=100 * values,
                        name=legend,
                        mode="lines",
                        line={
                            "color": recorded_method_spec(method).color,
                            "dash": dash,
                            "width": 2.4,
                        },
                        hovertemplate=f"{legend}: %{{y:.0f}}%<br>epoch %{{x}}<extra></extra>",
                    )
                )
    if n_classes > 2:
        chance = 100 / (n_classes - 1)
        fig.add_hline(
            y=chance,
            line_dash="dot",
            line_color="#adb5bd",
            annotation_text=f"chance of finding the true class ({chance:.0f}%)",
            annotation_position="top left",
        )
    epoch_axis(fig, n_epochs)
    fig = layout(
        fig,
        "Is the wrong signal singled out?",
        "epoch",
        "% of noisy examples",
        height=460,
        legend_y=-0.45,
    )
    fig.update_yaxes(range=[0, 102])
    return fig


def lean_figure(runs: Sequence[tuple[str, str, pd.Series]], *, warmup: int = 0) -> go.Figure:
    """Which way each run's weighting net leans, epoch by epoch (:func:`gdw.lean`), over two
    bands that say in words what a lean there means.

    Args:
        runs: ``(legend label, method, lean by epoch)`` per run.
        warmup: epochs of plain training before the weighting started (no lean yet), shaded.
    """
    fig = go.Figure()
    fig.add_hrect(
        y0=-1.05,
        y1=-LEAN_CLEAR,
        fillcolor=OTHER,
        opacity=0.08,
        line_width=0,
        annotation_text="down-weights suspected labels: low weight = distrusted",
        annotation_position="bottom left",
    )
    fig.add_hrect(
        y0=LEAN_CLEAR,
        y1=1.05,
        fillcolor=NOISY,
        opacity=0.08,
        line_width=0,
        annotation_text="up-weights hard examples: low weight = easy, not distrusted",
        annotation_position="top left",
    )
    n_epochs = 0
    for label, method, series in runs:
        series = series.dropna()
        if series.empty:
            continue
        n_epochs = max(n_epochs, int(series.index.max()))
        fig.add_trace(
            go.Scatter(
                x=series.index,
                y=series.to_numpy(),
                name=label,
                mode="lines+markers",
                line={"color": recorded_method_spec(method).color, "width": 2.4},
                hovertemplate=f"{label}: lean %{{y:+.2f}}<br>epoch %{{x}}<extra></extra>",
            )
        )
    epoch_axis(fig, max(n_epochs, warmup + 1))
    mark_warmup(fig, warmup)
    fig = layout(
        fig,
        "Which way the weighting net leans",
        "epoch",
        "rank correlation of the instance weight with the loss",
        height=320,
        legend_y=-0.5,
    )
    fig.update_yaxes(range=[-1.05, 1.05], zeroline=True)
    return fig
