"""Sidebar widgets that describe a new run. Each ``*_ui`` function reads its widgets and returns
a validated configuration, or ``None`` after explaining the problem in place.

Validation is :class:`gdw.RunConfig`'s own: the widgets allow what the CLI allows, and the
configuration's message is shown under the section that holds the bad value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from app.preview import data_config_ui
from gdw import ConfigError, DataConfig, RunConfig, default_epochs

__all__ = [
    "DATASET_HELP",
    "dataset_files_ui",
    "new_run_ui",
    "start_buttons_ui",
    "training_ui",
]

METHOD_NAMES = {"gdw": "GDW", "mwnet": "MW-Net", "erm": "ERM"}
MODEL_NAMES = {"auto": "auto (by dataset)", "mlp": "MLP", "cnn": "small CNN", "lenet": "LeNet",
               "resnet8": "ResNet-8", "resnet14": "ResNet-14", "resnet32": "ResNet-32"}
# Where torchvision looks for each dataset's files, relative to the data folder.
_FOLDERS = {"mnist": "MNIST/raw", "fashion-mnist": "FashionMNIST/raw",
            "cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
DATASET_HELP = {
    "digits": "scikit-learn's 1,797 handwritten 8×8 digits ship with the library: works offline "
              "and trains in seconds.",
    "mnist": "70,000 28×28 digits. Files go in `{root}/MNIST/raw/` (the four `*-ubyte` files); "
             "tick **Download** to fetch them.",
    "fashion-mnist": "70,000 28×28 clothing images. Files go in `{root}/FashionMNIST/raw/`; "
                     "tick **Download** to fetch them.",
    "cifar10": "60,000 32×32 colour images, 10 classes. The \"python version\" goes in "
               "`{root}/cifar-10-batches-py/`; tick **Download** to fetch it (170 MB).",
    "cifar100": "60,000 32×32 colour images, 100 classes. The \"python version\" goes in "
                "`{root}/cifar-100-python/`; tick **Download** to fetch it (170 MB).",
    "imagefolder": "Your own images, one folder per class: `{root}/train/<class>/*` and "
                   "`{root}/test/<class>/*` (optional trusted `{root}/meta/<class>/*`). Images "
                   "are resized to 32×32. Without injected noise, the label-noise scores show "
                   "n/a, and the gallery still ranks the labels the weights distrust.",
}


def dataset_files_ui(data: DataConfig | None) -> None:
    """Says where the chosen dataset's files go, and whether they are there."""
    dataset = data.dataset if data else st.session_state.get("data_dataset", "digits")
    root = data.data_root if data else st.session_state.get("data_root", "data")
    st.caption(DATASET_HELP[dataset].format(root=root.rstrip("/") or "."))
    folder = Path(root) / _FOLDERS[dataset] if dataset in _FOLDERS else None
    if dataset == "imagefolder":
        folder = Path(root) / "train"
    if folder is not None and not (data and data.download):
        found = folder.is_dir() and any(folder.iterdir())
        if found:
            st.caption(f":material/check_circle: found files in `{folder}`")
        else:
            st.warning(f"No files in `{folder}` yet.", icon=":material/folder_off:")


def training_ui(data: DataConfig | None, *, devices: Sequence[str]) -> RunConfig | None:
    """Method, model, epochs and the advanced settings; ``None`` if anything is invalid."""
    st.header("Training")
    method = st.segmented_control(
        "Method", list(METHOD_NAMES), default="gdw", format_func=METHOD_NAMES.get,
        key="run_method", required=True,
        help="GDW weighs every class-level signal of every example; MW-Net weighs whole "
             "examples; ERM weighs nothing (all 1).",
    )
    model = st.selectbox("Model", list(MODEL_NAMES), format_func=MODEL_NAMES.get,
                         key="run_model", help="auto: MLP on digits, small CNN on MNIST-like "
                         "and image folders, ResNet-32 on CIFAR")
    dataset = data.dataset if data else "digits"
    epochs = st.number_input("Epochs", min_value=0, value=None, step=1, key="run_epochs",
                             placeholder=f"default: {default_epochs(dataset)}")
    with st.expander("Advanced"):
        lr = st.number_input("Learning rate", min_value=0.0, value=0.1, step=0.01,
                             format="%.4f", key="run_lr", help="SGD, cosine decay per epoch")
        outer_lr = st.number_input(
            "Outer learning rate (GDW)", min_value=0.0, value=None, step=10.0, key="run_outer_lr",
            placeholder="auto", help="step size of the class-level weight update, normalised "
            "by the meta-gradient's size; auto: 100 for up to 10 classes, 1000 above")
        clip = st.number_input("Clip (GDW)", min_value=0.0, value=0.2, step=0.05, format="%.3f",
                               key="run_clip", help="largest change of a class-level weight "
                               "in one outer step")
        batch_size = st.number_input("Batch size", min_value=0, value=100, step=10,
                                     key="run_batch_size")
        device_choices = ["auto", *[d for d in devices if d != "auto"]]
        device = st.selectbox(
            "Device", device_choices, key="run_device",
            help="auto takes the GPU when there is one; only devices present are offered",
            format_func=lambda d: f"auto ({devices[0]})" if d == "auto" and devices else d)
        name = st.text_input("Run name (optional)", key="run_name", placeholder="e.g. lecture-1",
                             help="letters, digits, '-', '_' and '.'; the folder gets a time "
                             "stamp in front")
    if data is None:
        return None
    try:
        return RunConfig(
            data=data, method=method or "gdw", model=model,
            epochs=None if epochs is None else int(epochs),
            lr=float(lr), outer_lr=None if outer_lr is None else float(outer_lr),
            clip=float(clip), batch_size=int(batch_size), device=device,
            name=name.strip() or None,
        )
    except ConfigError as error:
        st.error(f"Invalid setting: {error}", icon=":material/warning:")
        return None


def start_buttons_ui(config: RunConfig | None) -> str | None:
    """The Start buttons: ``"one"``, ``"compare"`` (GDW + MW-Net + ERM) or ``None``."""
    label = METHOD_NAMES.get(config.method, "run") if config else "run"
    one = st.button(f"Start {label}", icon=":material/play_arrow:", type="primary",
                    disabled=config is None,
                    key="start_one", width="stretch")
    compare = st.button(
        "Start GDW + MW-Net + ERM", icon=":material/balance:", disabled=config is None,
        key="start_compare",
        width="stretch", help="three runs on the same data and seed, queued one after the "
        "other, for a side-by-side comparison")
    return "one" if one else "compare" if compare else None


def new_run_ui(*, devices: Sequence[str]) -> tuple[RunConfig | None, str | None]:
    """The whole sidebar of the training page: data, training, Start buttons."""
    with st.sidebar:
        data = data_config_ui()
        dataset_files_ui(data)
        config = training_ui(data, devices=devices)
        action = start_buttons_ui(config)
    return config, action
