"""The dashboard's navigation: train and explore, the list of runs, sweeps and the data.

``streamlit_app.py`` only sets the page up and runs ``st.navigation(pages())``. Each page's
body, the ``render`` function of its module in :mod:`app.pages`, is imported when the page is
shown. On a freshly started server, a session's first
training page draws only its sidebar and title, and the rest LOAD_AFTER seconds later, when the
browser asks for it: the rest imports torch and the charting code, which takes seconds and
holds the GIL for long stretches, during which the server can neither run the sidebar's script
nor send the browser the scripts of its widgets, so the controls waited for the imports. How
long the Start button takes to become usable is measured by ``scripts/first_impression.py``.
"""

from __future__ import annotations

import sys

import streamlit as st

import gdw
from app.sidebar.new_run import device_ui, new_run_ui

__all__ = [
    "LOAD_AFTER",
    "data_page",
    "drawn_light",
    "experiments_page",
    "pages",
    "runs_page",
    "train_page",
]

TITLE = "Class-level data weighting, live"
TRAIN_PAGE = "Train & explore"
LOAD_AFTER = 2.5  # seconds the browser gets to draw a cold server's first page
_SEEN = "training_page_seen"
_WAITING = "training_page_waiting"  # a light first page is drawn; its fragment loads the rest


def drawn_light(page: st.Page) -> bool:
    """Whether ``page``, chosen by ``st.navigation`` and about to run, is a cold server's first
    training page, drawn without its body at first: nothing slow may come before it or start
    right after it (its imports come LOAD_AFTER seconds later)."""
    return page.title == TRAIN_PAGE and _light_first_draw()


def _light_first_draw() -> bool:
    """A session's first training page in a process that has not imported the page's body."""
    return not st.session_state.get(_SEEN) and "app.pages.train" not in sys.modules


def pages() -> list[st.Page]:
    """The navigation: train & explore (default), runs, experiments (sweeps), data."""
    return [
        st.Page(
            train_page,
            title=TRAIN_PAGE,
            icon=":material/model_training:",
            url_path="train",
            default=True,
        ),
        st.Page(runs_page, title="Runs", icon=":material/folder_open:", url_path="runs"),
        st.Page(
            experiments_page,
            title="Experiments",
            icon=":material/science:",
            url_path="experiments",
        ),
        st.Page(data_page, title="Data", icon=":material/image:", url_path="data"),
    ]


def train_page() -> None:
    """Sidebar: a new run (its device list, which needs torch, drawn last). Main: jobs, the run
    being looked at, its charts."""
    light = _light_first_draw()
    st.session_state[_SEEN] = True
    config, action, device_slot = new_run_ui()
    st.title(TITLE)
    if light:
        st.caption(":material/hourglass_top: Loading the runs and the charts…")
        st.fragment(_load_the_rest, run_every=LOAD_AFTER)()
        device_ui(device_slot, None)
        st.session_state[_WAITING] = True
        return
    st.session_state.pop(_WAITING, None)
    from app.pages import train

    train.render(config, action)
    device_ui(device_slot, gdw.available_devices())


def _load_the_rest() -> None:
    """Re-run by the browser LOAD_AFTER seconds after a cold first page (its first run, inside
    that page's script, does nothing): imports the page's body, then redraws the whole page."""
    if st.session_state.get(_WAITING):
        import app.pages.train  # noqa: F401  (the seconds of imports this page was drawn without)

        st.rerun()


def runs_page() -> None:
    """Every run of the runs folder, live or old, with its state and accuracy. A run chosen
    opens on the training page, whose body is imported with this one: the page switched to is
    then drawn whole at once, not light (see :func:`drawn_light`)."""
    from app.pages import runs, train  # noqa: F401  (train: imported for the switch to it)

    runs.render(train_page=pages()[0])


def experiments_page() -> None:
    """Sweeps: their tables, paired comparisons and live progress."""
    from app.pages import experiments

    experiments.render(experiments.default_root())


def data_page() -> None:
    """What a training run is given: the corrupted data, its counts and examples."""
    from app.pages import data

    data.render()
