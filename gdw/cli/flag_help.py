"""The help texts of the configuration's flags that list registered entries (datasets, methods,
models, weighting nets, human label sets) or their defaults.

Each is a function, called when a parser is built, so that an entry registered after ``gdw`` was
imported (a test's toy dataset, a method of your own) is in the help too.
:data:`REGISTRY_HELP` gives them to the flags of the fields that declare no help of their own
(:mod:`gdw.cli.flags`); the other fields' help texts are plain strings, declared with the field.
"""

from __future__ import annotations

from gdw.config import NOISE_TYPES, RunConfig
from gdw.registry import (
    HumanLabelSpec,
    dataset_ids,
    dataset_spec,
    method_ids,
    method_spec,
    model_ids,
    model_spec,
    warmed_up_nets,
    weight_net_ids,
    weight_net_spec,
)

__all__ = [
    "REGISTRY_HELP",
    "dataset_help",
    "epochs_help",
    "human_labels_help",
    "method_help",
    "model_help",
    "noise_file_help",
    "noise_help",
    "num_meta_help",
    "warmup_help",
    "weight_net_help",
]


def dataset_help() -> str:
    """``--dataset``'s help: every registered dataset."""
    return "one of: " + "; ".join(f"{d} ({dataset_spec(d).label})" for d in dataset_ids())


def noise_help() -> str:
    """``--noise``'s help: the noise types, and the datasets with human labels."""
    return (
        f"one of: {', '.join(NOISE_TYPES)} (human: the labels people gave, from --noise-file; "
        f"for {', '.join(_human_datasets())})"
    )


def human_labels_help() -> str:
    """``--human-labels``' help: the label sets of every dataset with human labels."""
    return "with --noise human, whose labels: " + "; ".join(
        f"{d} {'|'.join(spec.names)} (default {spec.default})"
        for d, spec in _human_datasets().items()
    )


def noise_file_help() -> str:
    """``--noise-file``'s help: the usual file of every dataset with human labels."""
    return (
        "with --noise human, the file of human labels (default: "
        + ", ".join(f"DATA_ROOT/{spec.file}" for spec in _human_datasets().values())
        + "); read without running code from it"
    )


def num_meta_help() -> str:
    """``--num-meta``'s help: each dataset's default meta-set size."""
    return (
        "clean, class-balanced meta-set size (default: "
        + ", ".join(f"{d} {dataset_spec(d).default_num_meta}" for d in dataset_ids())
        + ")"
    )


def method_help() -> str:
    """``--method``'s help: every registered method with its one-line description."""
    return "one of: " + "; ".join(f"{m} ({method_spec(m).description})" for m in method_ids())


def model_help() -> str:
    """``--model``'s help: ``auto`` and every registered model with its description."""
    auto = ", ".join(f"{dataset_spec(d).default_model} on {d}" for d in dataset_ids())
    models = ", ".join(f"{m} ({model_spec(m).description})" for m in model_ids())
    return (
        f"one of: auto (by dataset: {auto}), {models}; ERM ms per step of 100 images by "
        "'gdw bench' on 2 shared CPU cores"
    )


def epochs_help() -> str:
    """``--epochs``' help: each dataset's default number of epochs."""
    return (
        "epochs (default: "
        + ", ".join(f"{d} {dataset_spec(d).default_epochs}" for d in dataset_ids())
        + ")"
    )


def weight_net_help() -> str:
    """``--weight-net``'s help: every registered weighting net with its one-line description."""
    nets = "; ".join(f"{n} ({weight_net_spec(n).description})" for n in weight_net_ids())
    return (
        f"the weighting net of the methods that learn from the meta set, one of: {nets} "
        f"(default: {RunConfig().weight_net})"
    )


def warmup_help() -> str:
    """``--warmup-epochs``' help: the default warm-up of each registered weighting net."""
    fractions = [
        f"{spec.warmup_fraction:g} of the epochs, rounded down, with {spec.id}"
        for spec in warmed_up_nets()
    ]
    return (
        "epochs of plain training (every weight 1) before the weighting net takes over "
        f"(default: {', '.join([*fractions, '0 with the other nets'])})"
    )


def _human_datasets() -> dict[str, HumanLabelSpec]:
    """The datasets with human label sets, and their sets."""
    specs = {d: dataset_spec(d).human_labels for d in dataset_ids()}
    return {d: spec for d, spec in specs.items() if spec is not None}


REGISTRY_HELP = {
    "dataset": dataset_help,
    "noise": noise_help,
    "human_labels": human_labels_help,
    "noise_file": noise_file_help,
    "num_meta": num_meta_help,
    "method": method_help,
    "model": model_help,
    "epochs": epochs_help,
    "weight_net": weight_net_help,
    "warmup_epochs": warmup_help,
}
"""The help of each flag whose field declares none, by field."""
