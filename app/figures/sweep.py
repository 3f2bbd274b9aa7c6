"""Plotly figures and display tables of a sweep. Pure functions: no Streamlit.

They take the per-setting table of a sweep (``SweepResults.table()``: one row per setting and
method with ``mean`` and ``std`` of the test accuracy over seeds) or its paired comparison
(``SweepResults.paired()``), never the run folders.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.figures.plot_style import AHEAD, BEHIND, DASHES, layout
from gdw import method_label, recorded_method_spec

__all__ = [
    "accuracy_display",
    "difference_figure",
    "imbalance_figure",
    "noise_figure",
    "noise_types",
    "paired_display",
]

_VERDICT_COLORS = {"ahead": AHEAD, "behind": BEHIND}
ACCURACY_AXIS = "test accuracy (%), mean of last 5 epochs"


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    return layout(fig, title, x, y, height=380, legend_y=-0.4)


def _cell(mean: float, std: float, seeds: int) -> str:
    if not np.isfinite(mean):
        return "–"
    spread = f" ± {std:.1f}" if np.isfinite(std) else ""
    return f"{mean:.1f}{spread}" + (f" (n={seeds})" if seeds < 2 else "")


def accuracy_display(table: pd.DataFrame) -> pd.DataFrame:
    """One row per setting, one column per method, cells ``"mean ± sd"`` (percent)."""
    if table.empty:
        return pd.DataFrame()
    cells = table.assign(
        cell=[_cell(m, s, n) for m, s, n in zip(table["mean"], table["std"], table["seeds"])],
        column=table["method"].map(method_label),
    )
    wide = cells.pivot(index="setting", columns="column", values="cell").rename_axis(columns=None)
    columns = [method_label(m) for m in dict.fromkeys(table["method"])]
    return wide.reindex(index=list(dict.fromkeys(table["setting"])), columns=columns)


def paired_display(paired: pd.DataFrame) -> pd.DataFrame:
    """The paired comparison as readable columns (differences in percentage points)."""

    def signed(value: float) -> str:
        return "–" if not np.isfinite(value) else f"{value:+.2f}"

    return pd.DataFrame(
        {
            "setting": paired["setting"],
            "seeds": paired["seeds"],
            "mean difference": [signed(v) for v in paired["mean_diff"]],
            "sd of differences": [
                "–" if not np.isfinite(v) else f"{v:.2f}" for v in paired["std_diff"]
            ],
            "95% interval": [
                f"[{signed(lo)}, {signed(hi)}]" for lo, hi in zip(paired["low"], paired["high"])
            ],
            "p (paired t)": ["–" if not np.isfinite(p) else f"{p:.2g}" for p in paired["p_value"]],
            "verdict": paired["verdict"],
        }
    )


def noise_types(table: pd.DataFrame) -> list[str]:
    """The noise types of the sweep's noisy settings that have a rate to plot against, in
    order of appearance (human noise has label sets, not rates: the table shows them)."""
    return [n for n in dict.fromkeys(table.get("noise", [])) if n not in ("none", "human")]


def _trace(
    fig: go.Figure, rows: pd.DataFrame, x: np.ndarray, method: str, name: str, dash: str, hover: str
) -> None:
    fig.add_trace(
        go.Scatter(
            x=x,
            y=rows["mean"],
            mode="lines+markers",
            name=name,
            line={"color": recorded_method_spec(method).color, "dash": dash},
            error_y={"type": "data", "array": rows["std"].fillna(0.0), "visible": True},
            customdata=np.stack([rows["std"].fillna(0.0), rows["seeds"]], axis=1),
            hovertemplate=f"{name}<br>{hover}<br>%{{y:.1f}} ± %{{customdata[0]:.1f}}% "
            "over %{customdata[1]} seeds<extra></extra>",
        )
    )


def noise_figure(table: pd.DataFrame, *, noise: str) -> go.Figure:
    """Accuracy against the rate of ``noise`` per method; error bars: sd over seeds.

    The clean setting of the same imbalance is the point at rate 0. With several imbalance
    factors, each has its own line style.
    """
    rows = table[(table["noise"] == noise) | (table["noise"] == "none")]
    groups = [
        f
        for f in dict.fromkeys(rows["imbalance"])
        if ((rows["imbalance"] == f) & (rows["noise"] == noise)).any()
    ]
    fig = go.Figure()
    for number, imbalance in enumerate(groups):
        part = rows[rows["imbalance"] == imbalance]
        for method in dict.fromkeys(table["method"]):
            line = part[part["method"] == method].sort_values("noise_rate")
            if line.empty:
                continue
            name = method_label(method) + (
                "" if len(groups) == 1 else f" · imbalance {imbalance:g}"
            )
            _trace(
                fig,
                line,
                line["noise_rate"].to_numpy() * 100,
                method,
                name,
                DASHES[number % len(DASHES)],
                "noise rate %{x:g}%",
            )
    fig.update_xaxes(ticksuffix="%")
    return _layout(
        fig,
        f"Test accuracy against {noise} noise rate (mean ± sd over seeds)",
        f"{noise} noise rate",
        ACCURACY_AXIS,
    )


def imbalance_figure(table: pd.DataFrame) -> go.Figure | None:
    """Accuracy against the imbalance factor per method (log axis, more imbalanced to the
    right); one line style per noise setting. ``None`` when no noise setting has two factors."""
    columns = ["noise", "noise_rate", "human_labels"]
    table = table.assign(human_labels=table.get("human_labels", ""))
    keys = table[columns].drop_duplicates().itertuples(index=False, name=None)
    groups = []
    for noise, rate, labels in keys:
        part = table[
            (table["noise"] == noise)
            & (table["noise_rate"] == rate)
            & (table["human_labels"] == labels)
        ]
        if part["imbalance"].nunique() >= 2:
            groups.append(
                (
                    part,
                    part["setting"].iloc[0].split(" + ")[0] if noise != "none" else "clean labels",
                )
            )
    if not groups:
        return None
    fig = go.Figure()
    for number, (part, noise_name) in enumerate(groups):
        for method in dict.fromkeys(table["method"]):
            line = part[part["method"] == method].sort_values("imbalance", ascending=False)
            if line.empty:
                continue
            name = method_label(method) + ("" if len(groups) == 1 else f" · {noise_name}")
            _trace(
                fig,
                line,
                line["imbalance"].to_numpy(),
                method,
                name,
                DASHES[number % len(DASHES)],
                "imbalance %{x:g}",
            )
    factors = sorted(set(table["imbalance"]), reverse=True)
    fig.update_xaxes(
        type="log",
        autorange="reversed",
        tickvals=factors,
        ticktext=[f"{factor:g}" for factor in factors],
    )
    return _layout(
        fig,
        "Test accuracy against class imbalance (mean ± sd over seeds)",
        "imbalance factor n_min / n_max (log scale; more imbalanced to the right)",
        ACCURACY_AXIS,
    )


def difference_figure(paired: pd.DataFrame, *, method: str, baseline: str) -> go.Figure:
    """Per setting, the mean paired difference ``method - baseline`` with its 95% interval;
    green when the interval is above 0, red when below, grey when it includes 0."""
    colors = [
        next((c for word, c in _VERDICT_COLORS.items() if word in verdict), "#868e96")
        for verdict in paired["verdict"]
    ]
    fig = go.Figure(
        go.Scatter(
            x=paired["setting"],
            y=paired["mean_diff"],
            mode="markers",
            marker={"color": colors, "size": 10},
            name=f"{method_label(method)} − {method_label(baseline)}",
            error_y={
                "type": "data",
                "symmetric": False,
                "visible": True,
                "array": (paired["high"] - paired["mean_diff"]).fillna(0.0),
                "arrayminus": (paired["mean_diff"] - paired["low"]).fillna(0.0),
            },
            customdata=np.stack([paired["seeds"], paired["verdict"]], axis=1),
            hovertemplate="%{x}: %{y:+.2f} points over %{customdata[0]} seeds<br>"
            "%{customdata[1]}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line={"color": "#495057", "width": 1})
    return _layout(
        fig,
        f"{method_label(method)} minus {method_label(baseline)}, paired by seed (95% interval)",
        "setting",
        "difference in test accuracy (points)",
    )
