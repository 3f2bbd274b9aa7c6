"""What the views and the inspector share: the tabs' titles and the cached chart drawer."""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st

__all__ = ["TAB_TITLES", "chart"]

TAB_TITLES = {
    "accuracy": ":material/show_chart: Accuracy",
    "inspector": ":material/image_search: Example inspector",
    "distributions": ":material/bar_chart: Weight distributions",
    "heatmap": ":material/grid_on: Heatmap",
    "imbalance": ":material/balance: Imbalance",
    "noise": ":material/label_off: Label-noise finding",
    "configuration": ":material/settings: Configuration & downloads",
}
"""A run's tabs in their order: stable key -> title. Code selects a tab by its key
(``st.session_state["tab"] = TAB_TITLES["inspector"]``), never by its position."""


def chart(key: str, signature: tuple, build: Callable[[], go.Figure]) -> None:
    """Draws the figure ``build()`` makes, rebuilt only when ``signature`` changes.

    A live fragment redraws every few seconds; most redraws show the same epochs, so the last
    figure of each chart is kept in the session and sent again instead of being rebuilt.
    """
    cache = st.session_state.setdefault("_figures", {})
    hit = cache.get(key)
    if hit is None or hit[0] != signature:
        hit = (signature, build())
        cache[key] = hit
    st.plotly_chart(hit[1], key=key)
