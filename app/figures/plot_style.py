"""The dashboard's one look: its palette, its line dashes, the common layout of a figure, the
epoch axis, and the thinning of long curves. Every figure module draws with these."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "BEHIND",
    "AHEAD",
    "CLEAN",
    "DASHES",
    "EXTRA_COLORS",
    "GIVEN",
    "MAX_CURVE_POINTS",
    "NOISY",
    "OTHER",
    "TRUST",
    "curve_mode",
    "epoch_axis",
    "layout",
    "mark_warmup",
    "thin",
    "warm_up",
]

CLEAN, NOISY, GIVEN, OTHER = "#2b8a3e", "#e8590c", "#d6336c", "#4c6ef5"
"""Clean examples (and true classes), noisy ones (and wrong labels), the given class's signal
("dog"), the other classes' signals ("not bird")."""
AHEAD, BEHIND = CLEAN, "#c92a2a"
"""A paired difference that is ahead of its baseline, and one that is behind."""
TRUST = "#343a40"
"""A measure of the ranking itself (its trust), not of any class or example."""
EXTRA_COLORS = ("#f59f00", "#0ca678", "#7048e8", "#e64980", "#1098ad", "#5c940d")
"""For runs of one method drawn side by side, which its registry colour cannot tell apart."""
DASHES = ("solid", "dash", "dot", "dashdot", "longdash")
"""The line dashes that tell lines of one colour apart, in the order they are used."""

MAX_CURVE_POINTS = 400  # per line; longer curves are thinned (the browser redraws them live)


def thin(n: int) -> np.ndarray:
    """Positions of at most MAX_CURVE_POINTS evenly spaced points of ``n``, the last included."""
    if n <= MAX_CURVE_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_CURVE_POINTS).round().astype(int))


def curve_mode(n_points: int) -> str:
    # Markers help read a short curve, but each is an SVG node the browser redraws on every
    # live refresh (measured: a 4-line chart with markers costs twice as much to redraw).
    return "lines+markers" if n_points <= 15 else "lines"


def layout(
    fig: go.Figure,
    title: str,
    x: str,
    y: str,
    *,
    height: int = 360,
    legend_y: float = -0.35,
    top: int = 60,
) -> go.Figure:
    """The dashboard's common look: left-aligned title, axis titles, legend below the plot;
    ``top`` is the margin above the plot (more for figures with subplot titles)."""
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        height=height,
        margin={"l": 60, "r": 20, "t": top, "b": 50},
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "bottom", "y": legend_y, "x": 0},
    )
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y)
    return fig


def epoch_axis(fig: go.Figure, n_epochs: int) -> None:
    """Whole-number epoch ticks (no "2.5") for short runs."""
    if n_epochs <= 12:
        fig.update_xaxes(tick0=1, dtick=1)


WARMUP_SHADE = "#868e96"


def mark_warmup(fig: go.Figure, warmup_epochs: int) -> None:
    """Shades the warm-up epochs (plain training, every weight 1) and says in words that the
    weighting starts after them; nothing without a warm-up."""
    if warmup_epochs <= 0:
        return
    fig.add_vrect(
        x0=0.5,
        x1=warmup_epochs + 0.5,
        fillcolor=WARMUP_SHADE,
        opacity=0.12,
        line_width=0,
        layer="below",
        annotation_text=f"warm-up: plain training; weighting from epoch {warmup_epochs + 1}",
        annotation_position="top left",
        annotation_font_size=11,
    )


def warm_up() -> None:
    """Builds and serialises one small figure of every kind the dashboard uses, so that plotly's
    lazy imports, validators and templates are loaded once, up front, not during a live run."""
    fig = make_subplots(rows=1, cols=2, specs=[[{"secondary_y": True}, {}]])
    fig.add_trace(go.Scatter(x=[1, 2], y=[1, 2]), row=1, col=1, secondary_y=True)
    fig.add_trace(go.Bar(x=["a"], y=[1]), row=1, col=2)
    fig.add_trace(go.Heatmap(z=[[1.0, 2.0]], x=["a", "b"], y=["c"]))
    fig.add_hline(y=1.0, annotation_text="h")
    fig.add_vline(x=1.0)
    mark_warmup(fig, 1)
    fig = layout(fig, "warm-up", "x", "y")
    fig.update_layout(shapes=[{"type": "line", "x0": 0, "x1": 1, "y0": 0, "y1": 1}])
    fig.to_json()
