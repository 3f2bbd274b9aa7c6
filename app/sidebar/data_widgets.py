"""The sidebar's data widgets: dataset, corruption (human labels where the dataset has them),
meta set, seed, subset, canaries, classes.

:func:`data_config_ui` is shared by the training page and the data page; bad values are shown in
place with ``st.error`` and the function returns ``None``. It imports nothing heavy (no torch,
no plotly), so the first page draws its controls at once.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from gdw import (
    DATA_LIMITS,
    DEFAULT_CANARIES,
    NOISE_TYPES,
    ConfigError,
    DataConfig,
    DataError,
    class_names,
    dataset_ids,
    dataset_spec,
    default_num_meta,
)

__all__ = ["data_config_ui"]


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
    human = spec.human_labels
    noise = bar.selectbox(
        "Label noise",
        [n for n in NOISE_TYPES if n != "human" or human is not None],
        index=1,
        key=f"{key}_noise",
        help="uniform: a label is redrawn among all classes; flip: every class moves to one "
        "other class; human: the labels people gave (CIFAR-10N, CIFAR-100N), from a file",
    )
    noise_rate = bar.slider(
        "Noise rate",
        *DATA_LIMITS["noise_rate"],
        0.4,
        step=0.05,
        key=f"{key}_noise_rate",
        disabled=noise in ("none", "human"),
    )
    human_labels, noise_file = (None, None)
    if noise == "human":
        human_labels, noise_file = _human_labels_ui(bar, dataset, data_root, key=key)
    imbalance = bar.number_input(
        "Imbalance factor (n_min / n_max)",
        *DATA_LIMITS["imbalance"],
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
        *DATA_LIMITS["canaries"],
        value=None,
        step=0.01,
        format="%.2f",
        key=f"{key}_canaries",
        placeholder=f"auto: {DEFAULT_CANARIES:g} without injected noise, else 0",
        help="move the labels of this fraction of the training examples to another class on "
        "purpose; how well the ranking finds them says how far it can be trusted on data "
        "whose own errors are unknown; they are left out of the list and its downloads",
    )
    classes = _classes_ui(bar, dataset, data_root, key=key)
    if classes is not None and len(classes) < 2:
        names = _class_names(dataset, data_root) or ()
        st.error(
            f"Pick at least two classes, or none for every class; valid classes: {', '.join(names)}"
        )
        return None
    try:
        return DataConfig(
            dataset=dataset,
            data_root=data_root,
            download=download and spec.downloadable,
            noise=noise,
            noise_rate=noise_rate if noise not in ("none", "human") else 0.0,
            human_labels=human_labels,
            noise_file=noise_file,
            imbalance=float(imbalance),
            num_meta=None if num_meta is None else int(num_meta),
            seed=int(seed),
            train_subset=None if train_subset is None else int(train_subset),
            classes=classes,
            canaries=None if canaries is None else float(canaries),
        )
    except ConfigError as error:
        st.error(f"Invalid setting: {error}")
        return None


def _human_labels_ui(
    bar: Any, dataset: str, data_root: str, *, key: str
) -> tuple[str | None, str | None]:
    """The label set of human noise and its file (``None``: the usual one under the data
    folder)."""
    human = dataset_spec(dataset).human_labels
    assert human is not None, dataset  # "human" is offered only for such datasets
    labels = bar.selectbox(
        "Human labels",
        human.names,
        index=human.names.index(human.default),
        key=f"{key}_human_labels_{dataset}",
        help=human.help,
    )
    usual = f"{data_root.rstrip('/') or '.'}/{human.file}"
    noise_file = bar.text_input(
        "Human label file",
        key=f"{key}_noise_file_{dataset}",
        placeholder=usual,
        help=f"empty: {usual}. Get it from {human.source}; it is read without running code from it",
    )
    return labels, noise_file.strip() or None


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
