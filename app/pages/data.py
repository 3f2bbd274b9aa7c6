"""The Data page's body, a preview: choose a dataset and its corruption (the sidebar's data
widgets, :mod:`app.sidebar.data_widgets`), see what training will be given."""

from __future__ import annotations

import warnings
from dataclasses import asdict
from typing import Any

import numpy as np
import streamlit as st

from app.figures.data import (
    class_counts_figure,
    confusions_figure,
    examples_figure,
    transition_figure,
)
from app.sidebar.data_widgets import data_config_ui
from gdw import (
    DataConfig,
    DataError,
    DataNotice,
    describe,
    load_dataset,
)

__all__ = ["load_preview", "render"]

N_EXAMPLES = 16


@st.cache_data(max_entries=8, show_spinner="Loading the dataset…")
def _cached_preview(record: dict[str, Any]) -> dict[str, Any]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataNotice)
        dataset = load_dataset(DataConfig(**record))
    notices = [str(w.message) for w in caught if issubclass(w.category, DataNotice)]
    is_noisy = dataset.is_noisy.numpy()
    # Show the changed labels first (up to half the grid), then clean examples.
    rng = np.random.default_rng(record["seed"])
    noisy, clean = np.flatnonzero(is_noisy), np.flatnonzero(~is_noisy)
    n_noisy = min(noisy.size, N_EXAMPLES // 2)
    n_clean = min(clean.size, N_EXAMPLES - n_noisy)
    rows = np.concatenate(
        [rng.choice(noisy, n_noisy, replace=False), rng.choice(clean, n_clean, replace=False)]
    )
    return {
        "summary": describe(dataset),
        "images": dataset.train_images[rows].numpy(),
        "given": dataset.train_given[rows].tolist(),
        "true": dataset.train_true[rows].tolist(),
        "notices": list(dict.fromkeys(notices)),
    }


def load_preview(config: DataConfig) -> dict[str, Any]:
    """Summary and example images of the dataset ``config`` describes, cached per config.

    Raises:
        DataError: as :func:`gdw.load_dataset`.
    """
    return _cached_preview(asdict(config))


def render() -> None:
    """The page: headline numbers, class counts, the noise matrix, the most frequent wrong
    labels and example images."""
    st.title("Data preview")
    st.caption(
        "What a training run is given: the corrupted training labels, the clean class-balanced "
        "meta set and the test set. Change the settings in the sidebar."
    )
    config = data_config_ui()
    if config is None:
        return
    try:
        preview = load_preview(config)
    except DataError as error:
        st.error(str(error))
        return
    summary = preview["summary"]
    for notice in preview["notices"]:
        st.info(notice, icon=":material/info:")
    train, meta, test, noise = st.columns(4)
    train.metric("Training examples", f"{summary['train_count']:,}")
    meta.metric("Meta examples (clean)", f"{summary['meta_count']:,}")
    test.metric("Test examples", f"{summary['test_count']:,}")
    noise.metric(
        "Labels changed",
        f"{100 * summary['noise_rate']:.1f} %",
        help="realised fraction of training labels that differ from the true class",
    )
    left, right = st.columns(2)
    left.plotly_chart(class_counts_figure(summary), key="data_counts")
    right.plotly_chart(transition_figure(summary), key="data_transition")
    confusions = confusions_figure(summary)
    if confusions is not None:
        st.plotly_chart(confusions, key="data_confusions")
    st.plotly_chart(
        examples_figure(preview["images"], preview["given"], preview["true"], summary["classes"]),
        key="data_examples",
    )
