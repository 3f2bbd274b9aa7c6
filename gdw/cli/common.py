"""What every command shares: the :class:`Command` record, the data flags, the error line."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from gdw.cli.flags import DATA_FLAGS, add_flags, flag_values
from gdw.config import DataConfig, DataNotice

__all__ = [
    "Command",
    "add_data_arguments",
    "data_config_from_args",
    "error_line",
    "notices_as_lines",
    "run_describe",
]


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, how to add its arguments, and how to run it.

    ``run`` returns the exit code; it may raise :class:`~gdw.config.ConfigError` or
    :class:`~gdw.config.DataError` for bad input, which :func:`main` turns into exit code 2.
    """

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of :class:`~gdw.config.DataConfig` (:data:`~gdw.cli.flags.DATA_FLAGS`), with
    its defaults, in a group of their own."""
    add_flags(parser.add_argument_group("data"), DATA_FLAGS)


def data_config_from_args(args: argparse.Namespace) -> DataConfig:
    """The :class:`DataConfig` the data flags describe; raises ``ConfigError`` if invalid."""
    return DataConfig(**flag_values(args, DATA_FLAGS))


def run_describe(args: argparse.Namespace) -> int:
    from gdw.data.dataset import describe, load_dataset

    dataset = load_dataset(data_config_from_args(args))
    print(json.dumps(describe(dataset), indent=2))
    return 0


@contextlib.contextmanager
def notices_as_lines() -> Iterator[None]:
    """Within the block, a :class:`~gdw.config.DataNotice` is printed as one line
    ``gdw: notice: ...`` on stderr (once per message); other warnings as Python prints them."""
    shown = warnings.showwarning
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        if not issubclass(category, DataNotice):
            shown(message, category, filename, lineno, file, line)
        elif str(message) not in seen:
            seen.add(str(message))
            print(f"gdw: notice: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", DataNotice)
        warnings.showwarning = show
        yield


def error_line(message: str) -> None:
    """Prints the first line of ``message`` as ``gdw: error: ...`` on stderr."""
    first_line = (message.strip().splitlines() or ["unknown error"])[0]
    print(f"gdw: error: {first_line}", file=sys.stderr)
