"""The tabs' chart drawer: a figure is rebuilt only when what it shows changed."""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st

__all__ = ["chart"]


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
