"""The command line's flags of the configuration, made from the fields that declare one.

A field of :class:`~gdw.config.DataConfig` or :class:`~gdw.config.RunConfig` that the command
line sets is declared with :func:`gdw.flag_text.flagged`, which gives its help, the value's name
and whether ``gdw sweep`` takes it. This module turns those fields into :data:`DATA_FLAGS` and
:data:`TRAINING_FLAGS`, in the fields' order: the flag is named after the field (``noise_rate``:
``--noise-rate``), and its type and default are the field's own. A help that lists registered
entries is made when a parser is built (:data:`gdw.cli.flag_help.REGISTRY_HELP`, for the fields
that declare none), and a field
whose type cannot say how text becomes a value has a parse function here (:data:`_PARSE`).
Every command builds its arguments from these tables (:func:`add_flags`) and reads its
configuration back from them (:func:`flag_values`): ``describe`` takes the data flags, ``train``
all of them, ``sweep`` those marked ``sweep``.

So a new field with a flag is one declaration in :mod:`gdw.config` (with its check in
``__post_init__``); no command changes. Values are checked by the configuration, not by
argparse ``choices``, so a bad value gets the same one-line message as in the dashboard.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gdw.cli.flag_help import REGISTRY_HELP
from gdw.config import DataConfig, RunConfig
from gdw.flag_text import flag_text

__all__ = [
    "DATA_FLAGS",
    "TRAINING_FLAGS",
    "Flag",
    "add_flags",
    "flag_defaults",
    "flag_values",
    "flags_of",
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
        kind: the field's type without its ``None`` (``int | None``: ``int``).
        default: the field's default.
    """

    field: str
    kind: Any
    default: Any
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


_PARSE: dict[str, Callable[[str], Any]] = {"classes": parse_classes}
"""Text to value, for the fields whose type is not ``int``, ``float``, ``str`` or ``bool``."""


def flags_of(config: type) -> tuple[Flag, ...]:
    """The flags of the fields of the dataclass ``config`` that declare one, in their order."""
    hints = typing.get_type_hints(config)
    flags = []
    for each in dataclasses.fields(config):
        text = flag_text(each.metadata)
        if text is not None:
            flags.append(
                Flag(
                    each.name,
                    kind=_without_none(hints[each.name]),
                    default=each.default,
                    help=REGISTRY_HELP.get(each.name, text.help),
                    metavar=text.metavar,
                    parse=_PARSE.get(each.name),
                    sweep=text.sweep,
                )
            )
    return tuple(flags)


def _without_none(hint: Any) -> Any:
    """``int | None``: ``int``; other types as they are."""
    kinds = [kind for kind in typing.get_args(hint) if kind is not type(None)]
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType)
    return kinds[0] if optional and len(kinds) == 1 else hint


DATA_FLAGS = flags_of(DataConfig)
"""The flags of :class:`~gdw.config.DataConfig`, in the order of the help."""

TRAINING_FLAGS = flags_of(RunConfig)
"""The flags of :class:`~gdw.config.RunConfig`, in the order of the help. ``RunConfig.data`` is
:data:`DATA_FLAGS`; ``meta_lr`` has no flag."""


def flag_defaults(flags: Iterable[Flag]) -> dict[str, Any]:
    """Each flag's field's default, by field."""
    return {flag.field: flag.default for flag in flags}


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
    for flag in flags:
        if flag.field in helps:
            text = helps[flag.field]
        else:
            text = flag.help() if callable(flag.help) else flag.help
        kind = flag.kind
        if kind is bool:
            group.add_argument(flag.name, action="store_true", help=text)
            continue
        if flag.parse is None and kind not in (int, float, str):
            raise TypeError(f"the flag of field {flag.field!r} ({kind}) needs a parse function")
        group.add_argument(
            flag.name,
            type=flag.parse or kind,
            default=flag.default,
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
