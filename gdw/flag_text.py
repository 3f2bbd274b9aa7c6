"""What the command line says of a configuration field it sets, declared with the field.

:mod:`gdw.config` declares each such field with :func:`flagged`; :mod:`gdw.cli.flags` reads the
dataclass fields and makes every command's flags from them, so a new field with a flag is one
declaration, and no command changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FlagText", "flag_text", "flagged"]


@dataclass(frozen=True)
class FlagText:
    """What the command line says of a field it sets; :mod:`gdw.cli.flags` makes the flag
    (``--noise-rate`` for ``noise_rate``, with the field's type and default).

    Attributes:
        help: the flag's help; ``None``: none, or, for a field whose help lists registered
            entries (datasets, methods, ...), the text made when a parser is built
            (:data:`gdw.cli.flag_help.REGISTRY_HELP`).
        metavar: the value's name in the help (``None``: the flag's name in capitals).
        sweep: whether ``gdw sweep`` takes it, for all of its runs.
    """

    help: str | None = None
    metavar: str | None = None
    sweep: bool = True


def flagged(
    default: Any, help: str | None = None, *, metavar: str | None = None, sweep: bool = True
) -> Any:
    """A dataclass field with ``default`` that the command line sets (see :class:`FlagText`)."""
    return field(default=default, metadata={"flag": FlagText(help, metavar, sweep)})


def flag_text(metadata: Any) -> FlagText | None:
    """The :class:`FlagText` of a dataclass field's metadata (``None``: the field has no flag)."""
    return metadata.get("flag")
