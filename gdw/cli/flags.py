"""The command line's flags of the configuration: one entry per field, read by every command.

A field of :class:`~gdw.config.DataConfig` or :class:`~gdw.config.RunConfig` that can be given on
the command line has one :class:`Flag` in :data:`DATA_FLAGS` or :data:`TRAINING_FLAGS`. The flag
is named after the field (``noise_rate``: ``--noise-rate``), and its type and default are the
field's own, read from the dataclass; the entry adds only what the command line needs: the help,
the value's name in it, how text becomes a value when the field's type cannot say, and whether
``gdw sweep`` takes the flag too. Every command builds its arguments from these tables
(:func:`add_flags`) and reads its configuration back from them (:func:`flag_values`):
``describe`` takes the data flags, ``train`` all of them, ``sweep`` those marked ``sweep``.

So a new field with a flag is the field in :mod:`gdw.config` (with its check in
``__post_init__``) and its entry here; no command changes. Values are checked by the
configuration, not by argparse ``choices``, so a bad value gets the same one-line message as in
the dashboard.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gdw.cli.flag_help import (
    dataset_help,
    epochs_help,
    human_labels_help,
    method_help,
    model_help,
    noise_file_help,
    noise_help,
    num_meta_help,
    warmup_help,
    weight_net_help,
)
from gdw.config import DEFAULT_CANARIES, DEVICES, META_GRADIENTS, DataConfig, RunConfig

__all__ = [
    "DATA_FLAGS",
    "TRAINING_FLAGS",
    "Flag",
    "add_flags",
    "flag_defaults",
    "flag_values",
    "parse_classes",
]


@dataclass(frozen=True)
class Flag:
    """The command-line flag of one configuration field.

    Attributes:
        field: the field of ``DataConfig`` (in :data:`DATA_FLAGS`) or ``RunConfig`` (in
            :data:`TRAINING_FLAGS`) it sets.
        help: its help text, or a function making it when a parser is built (the texts that
            list registered entries, :mod:`gdw.cli.flag_help`).
        metavar: the value's name in the help (``None``: the flag's name in capitals).
        parse: text to value, for a field whose type is not ``int``, ``float``, ``str`` or
            ``bool`` (a ``bool`` field, ``False`` by default, is a switch: given means ``True``).
        sweep: whether ``gdw sweep`` takes it, for all of its runs.
    """

    field: str
    help: str | Callable[[], str] | None = None
    metavar: str | None = None
    parse: Callable[[str], Any] | None = None
    sweep: bool = True

    @property
    def name(self) -> str:
        """The flag itself, e.g. ``--noise-rate``."""
        return "--" + self.field.replace("_", "-")


def parse_classes(text: str | None) -> tuple[str, ...] | None:
    """``--classes A,B,C`` as a tuple of names or indices (``None`` when not given)."""
    if text is None:
        return None
    return tuple(part.strip() for part in text.split(",") if part.strip())


DATA_FLAGS = (
    Flag("dataset", help=dataset_help),
    Flag("data_root", metavar="DIR", help="folder with the dataset files (default: %(default)s)"),
    Flag("download", help="let torchvision download missing files"),
    Flag("noise", help=noise_help),
    Flag("noise_rate", metavar="R", help="label-noise rate in [0, 1] (uniform, flip)"),
    Flag("human_labels", metavar="SET", help=human_labels_help),
    Flag("noise_file", metavar="FILE", help=noise_file_help),
    Flag(
        "imbalance",
        metavar="F",
        help="n_min / n_max of the training classes in (0, 1]; 1 = balanced",
    ),
    Flag("num_meta", metavar="M", help=num_meta_help),
    Flag(
        "seed",
        metavar="S",
        help="the one seed of the meta split, the corruptions and training (default: 0)",
    ),
    Flag("train_subset", metavar="K", help="use only K training examples, for quick looks"),
    Flag(
        "classes",
        metavar="A,B,C",
        parse=parse_classes,
        help="train on these classes only (names or indices, at least two), relabelled in the "
        "order given: --dataset cifar10 --classes cat,dog,bird; --classes 3,5,8",
    ),
    Flag(
        "canaries",
        metavar="F",
        help="plant errors: move the labels of a seeded fraction F of the training examples to "
        "another class, to measure how well a ranking finds errors; left out of label-issues' "
        f"list (default: {DEFAULT_CANARIES:g} without injected noise, where the labels' own "
        "errors are unknown; 0 with injected noise)",
    ),
)
"""The flags of :class:`~gdw.config.DataConfig`, in the order of the help."""

TRAINING_FLAGS = (
    Flag("method", help=method_help, sweep=False),  # a sweep has --methods
    Flag("model", metavar="MODEL", help=model_help),
    Flag("epochs", metavar="E", help=epochs_help),
    Flag("batch_size", metavar="B"),
    Flag("lr", help="classifier learning rate"),
    Flag("momentum", sweep=False),
    Flag("weight_decay", sweep=False),
    Flag(
        "outer_lr",
        help="outer learning rate of GDW and mwnet-step (default: GDW 100, or 1000 for > 10 "
        "classes; mwnet-step GDW's divided by the number of classes)",
        sweep=False,
    ),
    Flag(
        "clip",
        help="largest change of a weight in one outer step (GDW, mwnet-step)",
        sweep=False,
    ),
    Flag(
        "meta_gradient",
        help=f"one of: {', '.join(META_GRADIENTS)} (same numbers, different speed)",
        sweep=False,
    ),
    Flag("device", help=f"one of: {', '.join(DEVICES)}"),
    Flag("weight_net", help=weight_net_help),
    Flag("warmup_epochs", metavar="K", help=warmup_help),
    Flag(
        "record_limit",
        metavar="K",
        help="record the weights of at most K examples (0: none)",
        sweep=False,
    ),
    Flag(
        "name",
        help="name of the run directory (default: time-method-dataset)",
        sweep=False,  # a sweep names its runs
    ),
)
"""The flags of :class:`~gdw.config.RunConfig`, in the order of the help. ``RunConfig.data`` is
:data:`DATA_FLAGS`; ``meta_lr`` has no flag."""


def _fields() -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for cls in (DataConfig, RunConfig) for f in dataclasses.fields(cls)}


def _value_types() -> dict[str, Any]:
    """Each field's type without its ``None`` (``int | None``: ``int``)."""
    hints = {**typing.get_type_hints(DataConfig), **typing.get_type_hints(RunConfig)}
    plain = {}
    for name, hint in hints.items():
        kinds = [kind for kind in typing.get_args(hint) if kind is not type(None)]
        optional = typing.get_origin(hint) in (typing.Union, types.UnionType)
        plain[name] = kinds[0] if optional and len(kinds) == 1 else hint
    return plain


def flag_defaults(flags: Iterable[Flag]) -> dict[str, Any]:
    """Each flag's field's default, by field."""
    fields = _fields()
    return {flag.field: fields[flag.field].default for flag in flags}


def add_flags(
    group: argparse._ActionsContainer,
    flags: Sequence[Flag],
    *,
    helps: Mapping[str, str] | None = None,
) -> None:
    """Adds ``flags`` to ``group``, with their fields' types and defaults.

    Args:
        helps: a command's own help of some flags, by field, instead of the table's (``sweep``'s
            ``--epochs``, which a preset sets).
    """
    helps = helps or {}
    kinds, defaults = _value_types(), flag_defaults(flags)
    for flag in flags:
        if flag.field in helps:
            text = helps[flag.field]
        else:
            text = flag.help() if callable(flag.help) else flag.help
        kind = kinds[flag.field]
        if kind is bool:
            group.add_argument(flag.name, action="store_true", help=text)
            continue
        if flag.parse is None and kind not in (int, float, str):
            raise TypeError(f"the flag of field {flag.field!r} ({kind}) needs a parse function")
        group.add_argument(
            flag.name,
            type=flag.parse or kind,
            default=defaults[flag.field],
            metavar=flag.metavar,
            help=text,
        )


def flag_values(args: argparse.Namespace, flags: Iterable[Flag]) -> dict[str, Any]:
    """The values of ``flags`` in ``args``, by field, for a configuration's constructor. A flag
    whose value is ``None`` is left out, so that its field keeps its default: a command that
    gives a flag no default (``train --device``, which ``--resume`` reads as "the run's own")
    still builds the configuration's."""
    values = {flag.field: getattr(args, flag.field) for flag in flags}
    return {field: value for field, value in values.items() if value is not None}
