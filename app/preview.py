"""Data preview page: choose a dataset and its corruption, see what training will be given.

:func:`data_config_ui` (the sidebar's data widgets) is reusable by other pages; bad values
are shown in place with ``st.error`` and the function returns ``None``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import streamlit as st

from app.figures_data import class_counts_figure, examples_figure, transition_figure
from gdw import (
    NOISE_TYPES,
    ConfigError,
    DataConfig,
    DataError,
    class_names,
    dataset_ids,
    dataset_spec,
    default_num_meta,
    describe,
    load_dataset,
)

__all__ = ["data_config_ui", "load_preview", "render"]

N_EXAMPLES = 16


def data_config_ui(*, key: str = "data") -> DataConfig | None:
    """Sidebar widgets for every :class:`DataConfig` field; ``None`` (and an error) if invalid."""
    bar = st.sidebar
    bar.header("Data")
    dataset = bar.selectbox(
        "Dataset",
        dataset_ids(),
        key=f"{key}_dataset",
        format_func=lambda d: dataset_spec(d).label,
        help="digits ships with scikit-learn",
    )
    spec = dataset_spec(dataset)
    data_root = bar.text_input(
        "Data folder",
        "data",
        key=f"{key}_root",
        disabled=not spec.needs_root,
        help="imagefolder: this folder holds train/<class>/ and test/<class>/ (and meta/)",
    )
    download = bar.checkbox(
        "Download",
        key=f"{key}_download",
        disabled=not spec.downloadable,
        help="let torchvision fetch missing files into the data folder",
    )
    noise = bar.selectbox("Label noise", NOISE_TYPES, index=1, key=f"{key}_noise")
    noise_rate = bar.slider(
        "Noise rate", 0.0, 1.0, 0.4, step=0.05, key=f"{key}_noise_rate", disabled=noise == "none"
    )
    imbalance = bar.number_input(
        "Imbalance factor (n_min / n_max)",
        min_value=0.0,
        max_value=1.0,
        value=1.0,
        step=0.01,
        format="%.3f",
        key=f"{key}_imbalance",
        help="1 = balanced; 0.01 = the largest class has 100x the examples of the smallest",
    )
    num_meta = bar.number_input(
        "Meta-set size",
        min_value=1,
        value=None,
        step=10,
        key=f"{key}_num_meta",
        placeholder=f"default: {default_num_meta(dataset)}",
        help="clean, class-balanced examples taken out of the training split",
    )
    seed = bar.number_input("Seed", min_value=0, value=0, step=1, key=f"{key}_seed")
    train_subset = bar.number_input(
        "Training subset",
        min_value=1,
        value=None,
        step=100,
        key=f"{key}_train_subset",
        placeholder="all",
        help="use only this many training examples, for quick looks",
    )
    canaries = bar.number_input(
        "Planted errors (canaries)",
        min_value=0.0,
        max_value=0.5,
        value=0.0,
        step=0.01,
        format="%.2f",
        key=f"{key}_canaries",
        help="move the labels of this fraction of the training examples to another class on "
        "purpose; how well the weights find them estimates how far their ranking can be "
        "trusted on your own data; 0 = none",
    )
    classes = _classes_ui(bar, dataset, data_root, key=key)
    if classes is not None and len(classes) < 2:
        names = _class_names(dataset, data_root) or ()
        st.error(
            f"Pick at least two classes, or none for every class; valid classes: "
            f"{', '.join(names)}"
        )
        return None
    try:
        return DataConfig(
            dataset=dataset,
            data_root=data_root,
            download=download and spec.downloadable,
            noise=noise,
            noise_rate=noise_rate if noise != "none" else 0.0,
            imbalance=float(imbalance),
            num_meta=None if num_meta is None else int(num_meta),
            seed=int(seed),
            train_subset=None if train_subset is None else int(train_subset),
            classes=classes,
            canaries=float(canaries),
        )
    except ConfigError as error:
        st.error(f"Invalid setting: {error}")
        return None


@st.cache_data(max_entries=16, show_spinner=False)
def _class_names(dataset: str, data_root: str) -> tuple[str, ...] | None:
    try:
        return class_names(DataConfig(dataset=dataset, data_root=data_root))
    except DataError:
        return None


def _classes_ui(bar: Any, dataset: str, data_root: str, *, key: str) -> tuple[str, ...] | None:
    """A multiselect of the dataset's class names; ``None`` = every class. A choice the data
    cannot take (one class) is explained in place and returned as is."""
    names = _class_names(dataset, data_root)
    if names is None:
        bar.caption("Classes: every class (their names are known once the files are found).")
        return None
    chosen = bar.multiselect(
        "Classes",
        names,
        key=f"{key}_classes_{dataset}",
        placeholder="every class",
        help="train on these classes only, relabelled in the order chosen: pick three, such as "
        "cat, dog and bird, to replay the blog's example",
    )
    if not chosen:
        return None
    return tuple(chosen)


@st.cache_data(max_entries=8, show_spinner="Loading the dataset…")
def _cached_preview(record: dict[str, Any]) -> dict[str, Any]:
    dataset = load_dataset(DataConfig(**record))
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
    }


def load_preview(config: DataConfig) -> dict[str, Any]:
    """Summary and example images of the dataset ``config`` describes, cached per config.

    Raises:
        DataError: as :func:`gdw.load_dataset`.
    """
    return _cached_preview(asdict(config))


def render() -> None:
    """The page: headline numbers, class counts, the noise matrix and example images."""
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
    st.plotly_chart(
        examples_figure(preview["images"], preview["given"], preview["true"], summary["classes"]),
        key="data_examples",
    )
