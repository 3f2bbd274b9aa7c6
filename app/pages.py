"""The dashboard's navigation: train and explore, the list of runs, sweeps and the data.

``streamlit_app.py`` only sets the page up and runs ``st.navigation(pages())``. Each page's
body is imported when the page is shown, and the training page draws its sidebar before
importing the rest: on a cold server, importing torch, pandas and plotly takes seconds, and a
new user's first page should be usable before they are loaded.
"""

from __future__ import annotations

import streamlit as st

import gdw
from app.sidebar import new_run_ui

__all__ = ["data_page", "experiments_page", "pages", "runs_page", "train_page"]


def pages() -> list[st.Page]:
    """The navigation: train & explore (default), runs, experiments (sweeps), data."""
    return [
        st.Page(
            train_page,
            title="Train & explore",
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
    """Sidebar: a new run (drawn first; its device list, which needs torch, last). Main: jobs,
    the run being looked at, its charts."""
    config, action = new_run_ui(devices=gdw.available_devices)
    from app.run_pages import train_body

    train_body(config, action)


def runs_page() -> None:
    """Every run of the runs folder, live or old, with its state and accuracy."""
    from app.run_pages import runs_body

    runs_body()


def experiments_page() -> None:
    """Sweeps: their tables, paired comparisons and live progress."""
    from app import experiments

    experiments.page()


def data_page() -> None:
    """What a training run is given: the corrupted data, its counts and examples."""
    from app import preview

    preview.render()
