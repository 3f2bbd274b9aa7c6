"""Sidebar widgets that describe a new run. Each ``*_ui`` function reads its widgets and returns
a validated configuration, or ``None`` after explaining the problem in place.

Validation is :class:`gdw.RunConfig`'s own: the widgets allow what the CLI allows, and the
configuration's message is shown under the section that holds the bad value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from app.sidebar.data_widgets import data_config_ui
from gdw import (
    ConfigError,
    DataConfig,
    RunConfig,
    dataset_ids,
    dataset_spec,
    default_epochs,
    method_ids,
    method_label,
    method_spec,
    model_ids,
    model_spec,
    warmed_up_nets,
    weight_net_ids,
    weight_net_spec,
)

__all__ = [
    "DEVICE_KEY",
    "METHOD_KEY",
    "dataset_files_ui",
    "device_ui",
    "new_run_ui",
    "start_buttons_ui",
    "training_ui",
]

DEVICE_KEY = "run_device"
METHOD_KEY = "run_method"
_START_BLOCKED = "start_blocked"  # the settings of the last redraw were invalid


def dataset_files_ui(data: DataConfig | None) -> None:
    """Says where the chosen dataset's files go, and whether they are there."""
    dataset = data.dataset if data else st.session_state.get("data_dataset", "digits")
    root = data.data_root if data else st.session_state.get("data_root", "data")
    spec = dataset_spec(dataset)
    st.caption(spec.help.format(root=root.rstrip("/") or "."))
    folder = Path(root) / spec.files if spec.files else None
    if folder is not None and not (data and data.download):
        found = folder.is_dir() and any(folder.iterdir())
        if found:
            st.caption(f":material/check_circle: found files in `{folder}`")
        else:
            st.warning(f"No files in `{folder}` yet.", icon=":material/folder_off:")


def _model_label(model: str) -> str:
    return "auto (by dataset)" if model == "auto" else model_spec(model).label


def _method_help() -> str:
    return "  \n".join(f"**{method_label(m)}**: {method_spec(m).description}" for m in method_ids())


def _weight_net_label(net: str) -> str:
    label = weight_net_spec(net).label
    return f"{label} (default)" if net == RunConfig().weight_net else label


def _weight_net_help() -> str:
    specs = [weight_net_spec(n) for n in weight_net_ids()]
    return "  \n".join(f"**{spec.label}**: {spec.description}" for spec in specs)


def _warmup_help() -> str:
    """The warm-up's help: each net's default warm-up, from its registry entry."""
    delayed = [
        f"{spec.warmup_fraction:g} of the epochs with the {spec.label} net"
        for spec in warmed_up_nets()
    ]
    return (
        "plain training (every weight 1) before the weighting net takes over, so it judges a "
        f"model that has learned something; auto: {', '.join([*delayed, 'none with the others'])}"
    )


def training_ui(data: DataConfig | None) -> tuple[RunConfig | None, Any]:
    """Method, model, epochs and the advanced settings: the configuration (``None`` if anything
    is invalid) and the empty slot of the device choice, for :func:`device_ui`.

    Every default is :class:`RunConfig`'s; the outer step's knobs are offered only to the
    methods that use them. The device is the one chosen in the slot's widget on the last
    redraw ("auto" before it is first drawn).
    """
    defaults = RunConfig()
    st.header("Training")
    methods = list(method_ids())
    method = st.segmented_control(
        "Method",
        methods,
        default=defaults.method,
        format_func=method_label,
        key=METHOD_KEY,
        required=True,
        help=_method_help(),
    )
    spec = method_spec(method or defaults.method)
    model = st.selectbox(
        "Model",
        ["auto", *model_ids()],
        format_func=_model_label,
        key="run_model",
        help="auto: " + ", ".join(f"{d} {dataset_spec(d).default_model}" for d in dataset_ids()),
    )
    dataset = data.dataset if data else defaults.data.dataset
    epochs = st.number_input(
        "Epochs",
        min_value=0,
        value=None,
        step=1,
        key="run_epochs",
        placeholder=f"default: {default_epochs(dataset)}",
    )
    outer_users = ", ".join(method_label(m) for m in methods if method_spec(m).uses_outer_lr)
    with st.expander("Advanced"):
        lr = st.number_input(
            "Learning rate",
            min_value=0.0,
            value=defaults.lr,
            step=0.01,
            format="%.4f",
            key="run_lr",
            help="SGD, cosine decay per epoch",
        )
        outer_lr = st.number_input(
            "Outer learning rate",
            min_value=0.0,
            value=None,
            step=10.0,
            key="run_outer_lr",
            placeholder="auto",
            disabled=not spec.uses_outer_lr,
            help=f"used by {outer_users}: step size of the weight update, normalised by the "
            "meta-gradient's size; auto: GDW 100 for up to 10 classes, 1000 above; MW-Net + "
            "outer step GDW's divided by the number of classes",
        )
        clip = st.number_input(
            "Clip",
            min_value=0.0,
            value=defaults.clip,
            step=0.05,
            format="%.3f",
            key="run_clip",
            disabled=not spec.uses_clip,
            help=f"used by {outer_users}: largest change of a weight in one outer step",
        )
        weight_net = st.selectbox(
            "Weighting net",
            weight_net_ids(),
            index=weight_net_ids().index(defaults.weight_net),
            key="run_weight_net",
            format_func=_weight_net_label,
            disabled=not spec.learns_from_meta,
            help=_weight_net_help(),
        )
        warmup = st.number_input(
            "Warm-up epochs",
            min_value=0,
            value=None,
            step=1,
            key="run_warmup_epochs",
            placeholder="auto",
            disabled=not spec.learns_from_meta,
            help=_warmup_help(),
        )
        batch_size = st.number_input(
            "Batch size", min_value=0, value=defaults.batch_size, step=10, key="run_batch_size"
        )
        device_slot = st.empty()  # filled by device_ui once the rest of the sidebar is drawn
        name = st.text_input(
            "Run name (optional)",
            key="run_name",
            placeholder="e.g. lecture-1",
            help="letters, digits, '-', '_' and '.': the run's folder is given this name; "
            "empty: a time stamp, the method and the dataset",
        )
    device = st.session_state.get(DEVICE_KEY, "auto")
    if data is None:
        return None, device_slot
    try:
        config = RunConfig(
            data=data,
            method=spec.id,
            model=model,
            epochs=None if epochs is None else int(epochs),
            lr=float(lr),
            outer_lr=None if outer_lr is None or not spec.uses_outer_lr else float(outer_lr),
            clip=float(clip),
            weight_net=weight_net or defaults.weight_net,
            warmup_epochs=None if warmup is None else int(warmup),
            batch_size=int(batch_size),
            device=device,
            name=name.strip() or None,
        )
    except ConfigError as error:
        st.error(f"Invalid setting: {error}", icon=":material/warning:")
        return None, device_slot
    return config, device_slot


def device_ui(slot: Any, devices: Sequence[str] | None) -> None:
    """The device choice, drawn into ``slot``: only the devices present (listing them imports
    torch, so it is drawn after the rest of the page). ``None``: not looked up yet (a cold
    server's first page); "auto" and the CPU are offered until the page is redrawn."""
    found = ["cpu"] if devices is None else [d for d in devices if d != "auto"]
    slot.selectbox(
        "Device",
        ["auto", *found],
        key=DEVICE_KEY,
        help="auto takes the GPU when there is one; only devices present are offered",
        format_func=lambda d: d if d != "auto" or devices is None else f"auto ({found[0]})",
    )


def start_buttons_ui(method: str, blocked: bool) -> str | None:
    """The Start buttons (disabled if ``blocked``): ``"one"`` (``method`` alone), ``"compare"``
    (GDW + MW-Net + ERM), ``"compare-ablation"`` (the same with the ablations) or ``None``."""
    one = st.button(
        f"Start {method_label(method)}",
        icon=":material/play_arrow:",
        type="primary",
        disabled=blocked,
        key="start_one",
        width="stretch",
    )
    core = [m for m in reversed(method_ids()) if not method_spec(m).ablation]
    extras = [m for m in method_ids() if method_spec(m).ablation]
    compare = st.button(
        "Start " + " + ".join(method_label(m) for m in core),
        icon=":material/balance:",
        disabled=blocked,
        key="start_compare",
        width="stretch",
        help="the methods on the same data and seed, queued one after the other, for a "
        "side-by-side comparison",
    )
    ablation = bool(extras) and st.checkbox(
        "with the ablation " + ", ".join(method_label(m) for m in extras),
        key="compare_ablation",
        help="MW-Net + outer step: GDW's outer step on one weight per example, so that the gain "
        "of the outer step and that of class-level weights can be told apart",
    )
    if one:
        return "one"
    if compare:
        return "compare-ablation" if ablation else "compare"
    return None


def new_run_ui() -> tuple[RunConfig | None, str | None, Any]:
    """The whole sidebar of the training page but its device choice: the Start buttons on top,
    data, training. Returns the configuration, the Start action and the device choice's empty
    slot, for :func:`device_ui` once the page's main area is drawn (listing the devices imports
    torch).

    The buttons are drawn first, before the settings they start, so that they never wait for
    the settings' work (which may read a data folder). Their label is the method chosen (its
    widget's state is already this redraw's), their state the last redraw's verdict on the
    settings; when this redraw's verdict differs, the page is redrawn at once with it. A click
    is only acted upon with valid settings."""
    blocked = bool(st.session_state.get(_START_BLOCKED))
    with st.sidebar:
        action = start_buttons_ui(st.session_state.get(METHOD_KEY, RunConfig().method), blocked)
        data = data_config_ui()
        dataset_files_ui(data)
        config, device_slot = training_ui(data)
    if (config is None) != blocked:
        st.session_state[_START_BLOCKED] = config is None
        st.rerun()
    return config, action if config else None, device_slot
