"""The weights study's figure: how the weighting nets start, and per epoch the lean, the noise
AUROC of the instance weight and the test accuracy of some runs.

Drawn by ``python scripts/weight_study.py SWEEP_DIR... --figure FILE.png`` from its rows
(:func:`weight_study.run_rows` with a window of one epoch), which imports this module with the
package and ``scripts/`` on its path; docs/weights-study.md shows the figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["initial_curves", "mechanism_figure", "save_figure"]


def initial_curves(kind: str, seeds: range, losses: np.ndarray) -> list[np.ndarray]:
    """The instance weight that a freshly built weighting net of ``kind`` gives to ``losses``,
    for each seed (the nets' starting points; the paper's starts with a slope of random sign)."""
    import torch

    from gdw.weighting.weight_net import build_weight_net

    curves = []
    for seed in seeds:
        torch.manual_seed(seed)
        net = build_weight_net(kind)
        with torch.no_grad():
            curves.append(net(torch.as_tensor(losses, dtype=torch.float32)).numpy())
    return curves


def mechanism_figure(rows: pd.DataFrame, runs: list[str]) -> go.Figure:
    """The mechanism in four panels: the paper's and the default weighting net as they start
    (the instance weight against the loss, 10 seeds); then per epoch, for each run: the lean of
    its weighting net, the AUROC of its instance weight against the label errors, and its test
    accuracy."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=2,
        cols=2,
        vertical_spacing=0.14,
        subplot_titles=(
            "the weighting nets as they start (10 seeds): instance weight against the loss",
            "lean: rank correlation of the instance weight with the loss, per epoch",
            "AUROC of the instance weight against the label errors, per epoch",
            "test accuracy, per epoch",
        ),
    )
    losses = np.linspace(0.0, 8.0, 81)
    for kind, dash in (("paper", "solid"), ("monotone", "dot")):
        for number, curve in enumerate(initial_curves(kind, range(10), losses)):
            figure.add_trace(
                go.Scatter(
                    x=losses,
                    y=curve / curve.mean() if kind == "paper" else curve,
                    mode="lines",
                    line={
                        "dash": dash,
                        "width": 1,
                        "color": "#d6336c" if kind == "paper" else "#1c7ed6",
                    },
                    name=f"{kind} net at initialisation"
                    + (" (÷ its mean)" if kind == "paper" else ""),
                    legendgroup=kind,
                    showlegend=number == 0,
                ),
                row=1,
                col=1,
            )
    instance = rows[rows["score"] == "instance_weight"]
    palette = ("#d6336c", "#1c7ed6", "#f08c00", "#37b24d", "#7048e8", "#868e96")
    for number, name in enumerate(runs):
        run_rows_ = instance[instance["run"] == name].sort_values("epoch")
        if run_rows_.empty:
            continue
        first = run_rows_.iloc[0]
        label = (
            f"{first['method']}, {first['dataset']} ({first['model']}), {first['setting']}, "
            f"seed {first['seed']}"
        )
        for column, (row, col) in (("lean", (1, 2)), ("auroc", (2, 1)), ("test_acc", (2, 2))):
            figure.add_trace(
                go.Scatter(
                    x=run_rows_["epoch"],
                    y=run_rows_[column],
                    mode="lines+markers",
                    line={"color": palette[number % len(palette)]},
                    name=label,
                    legendgroup=name,
                    showlegend=column == "lean",
                ),
                row=row,
                col=col,
            )
    figure.update_xaxes(title_text="loss", row=1, col=1)
    figure.update_yaxes(title_text="instance weight (relative)", row=1, col=1)
    figure.update_yaxes(range=[-1.05, 1.05], row=1, col=2)
    figure.update_yaxes(range=[0, 1], row=2, col=1)
    for row, col in ((1, 2), (2, 1), (2, 2)):
        figure.update_xaxes(title_text="epoch", row=row, col=col)
    figure.update_layout(
        width=1200, height=820, template="plotly_white", legend={"y": -0.12, "orientation": "h"}
    )
    return figure


def save_figure(figure: go.Figure, path: Path) -> None:
    """Writes ``figure`` to ``path``: HTML as it is, PNG drawn by Debian's Chromium (the one the
    browser test uses) from that HTML, so no other renderer need be installed."""
    html = figure.to_html(include_plotlyjs=True, full_html=True)
    if path.suffix == ".html":
        path.write_text(html)
        return
    from bench_dashboard import CHROMIUM, CHROMIUM_ARGS  # its neighbour in scripts/
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(
            viewport={"width": figure.layout.width, "height": figure.layout.height}
        )
        page.set_content(html, wait_until="load")
        page.locator(".plotly-graph-div").wait_for()
        page.screenshot(path=str(path), full_page=True)
        browser.close()
