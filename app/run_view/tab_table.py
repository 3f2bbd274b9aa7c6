"""The one table of a run's tabs, in their order: each tab's stable key, its title and the
function that draws it.

Code selects a tab by its key, never by its position: the tabs' widget (key ``tab``) holds the
open tab's title, so ``st.session_state["tab"] = tab_title("inspector")`` opens the inspector at
the next redraw. A tab that shows one epoch gets the epoch picker drawn above it. What one tab
does to another is wired here too: the gallery's Inspect button opens the inspector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from app.run_view.epoch_picker import epoch_key, epoch_picker
from app.run_view.tabs import (
    accuracy,
    configuration,
    distributions,
    heatmap,
    imbalance,
    inspector,
    noise_finding,
)
from app.run_view.tabs.example_choice import open_at_story, pick_example
from gdw import Run

__all__ = ["TABS", "Tab", "tab_title"]


@dataclass(frozen=True)
class Tab:
    """One tab of a run's view.

    Attributes:
        key: its stable name in code.
        title: what the tab bar shows (and ``st.session_state["tab"]`` holds while it is open).
        draw: draws its body for a run.
        per_example: it reads the per-example files, so for a run whose files are damaged or
            that recorded no examples it shows why instead of drawing.
    """

    key: str
    title: str
    draw: Callable[[Run], None]
    per_example: bool


def _at_picked_epoch(draw: Callable[[Run, int], None]) -> Callable[[Run], None]:
    """``draw(run, epoch)`` at the epoch chosen in the epoch picker drawn above it."""
    return lambda run: draw(run, epoch_picker(run))


def _inspector(run: Run) -> None:
    """The inspector, at the epoch of the clearest story on the first look at a finished run."""
    inspector.draw(run, epoch_picker(run, inspector=True, start=open_at_story(run)))


def _noise_finding(run: Run, epoch: int) -> None:
    def open_in_inspector(index: int) -> None:
        """The gallery's Inspect button: example ``index`` in the inspector, opened at the
        gallery's epoch."""
        pick_example(index)
        st.session_state[epoch_key(run.run_id, inspector=True)] = epoch
        st.session_state["tab"] = tab_title("inspector")

    noise_finding.draw(run, epoch, open_in_inspector=open_in_inspector)


TABS = (
    Tab(
        "accuracy",
        ":material/show_chart: Accuracy",
        accuracy.draw,
        per_example=False,
    ),
    Tab(
        "inspector",
        ":material/image_search: Example inspector",
        _inspector,
        per_example=True,
    ),
    Tab(
        "distributions",
        ":material/bar_chart: Weight distributions",
        _at_picked_epoch(distributions.draw),
        per_example=True,
    ),
    Tab(
        "heatmap",
        ":material/grid_on: Heatmap",
        _at_picked_epoch(heatmap.draw),
        per_example=True,
    ),
    Tab(
        "imbalance",
        ":material/balance: Imbalance",
        _at_picked_epoch(imbalance.draw),
        per_example=True,
    ),
    Tab(
        "noise",
        ":material/label_off: Label-noise finding",
        _at_picked_epoch(_noise_finding),
        per_example=True,
    ),
    Tab(
        "configuration",
        ":material/settings: Configuration & downloads",
        configuration.draw,
        per_example=False,
    ),
)
"""A run's tabs in the order shown."""


def tab_title(key: str) -> str:
    """The title of the tab ``key``."""
    return next(tab.title for tab in TABS if tab.key == key)
