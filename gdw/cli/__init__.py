"""Command line: ``python -m gdw <command> ...``.

Exit codes: 0 done; 2 bad input, with one line ``gdw: error: <reason>`` on stderr (argparse's
own usage errors also exit 2); 1 a failure during the run, also one line. Data read with a
caveat (:class:`~gdw.config.DataNotice`) is told in one line ``gdw: notice: <what>``.

A command is an entry of :data:`COMMANDS`: a help text, a function adding its arguments to its
subparser and a function running it. To add one, write those two functions and register them::

    COMMANDS["train"] = Command("train a model", add_train_arguments, run_train)

Commands that need data call :func:`add_data_arguments` and :func:`data_config_from_args`, so
the data flags are spelled and validated the same everywhere. Every flag of a configuration field
is one entry of the table in :mod:`gdw.cli.flags`, which ``describe``, ``train`` and ``sweep``
build their arguments and configurations from.
"""

from __future__ import annotations

import argparse

from gdw.cli.common import (
    Command,
    add_data_arguments,
    data_config_from_args,
    error_line,
    notices_as_lines,
    run_describe,
)
from gdw.cli.label_issues import add_label_issues_arguments, run_label_issues
from gdw.cli.runs import add_runs_arguments, run_runs
from gdw.cli.sweep import (
    SweepProgressBar,
    add_sweep_arguments,
    run_sweep_command,
    sweep_spec_from_args,
)
from gdw.cli.train import add_bench_arguments, add_train_arguments, run_bench, run_train
from gdw.config import ConfigError, DataError
from gdw.host_memory import retain_freed_memory_unless_disabled
from gdw.training.failures import failure_message

__all__ = [
    "COMMANDS",
    "Command",
    "SweepProgressBar",
    "add_data_arguments",
    "build_parser",
    "data_config_from_args",
    "main",
    "sweep_spec_from_args",
]

COMMANDS: dict[str, Command] = {
    "describe": Command(
        help="load and corrupt a dataset; print its class counts and realised noise as JSON",
        add_arguments=add_data_arguments,
        run=run_describe,
    ),
    "train": Command(
        help="train one run (erm, mwnet or gdw) and write its run directory",
        add_arguments=add_train_arguments,
        run=run_train,
    ),
    "bench": Command(
        help="time training steps of erm, mwnet and gdw side by side; print JSON",
        add_arguments=add_bench_arguments,
        run=run_bench,
    ),
    "sweep": Command(
        help="run every method on a grid of noise and imbalance settings and seeds; summarise",
        add_arguments=add_sweep_arguments,
        run=run_sweep_command,
    ),
    "runs": Command(
        help="list every run of a runs folder: state, epochs, method, data, last test accuracy",
        add_arguments=add_runs_arguments,
        run=run_runs,
    ),
    "label-issues": Command(
        help="the ranked CSV of a run's suspected label errors, with a suggested label each",
        add_arguments=add_label_issues_arguments,
        run=run_label_issues,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The ``gdw`` parser with one subparser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="gdw", description="Class-level data weighting (GDW) on noisy, imbalanced data."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(subparser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code.

    Like the dashboard, the command line keeps freed host memory in its process
    (:mod:`gdw.host_memory`; ``GDW_RETAIN_FREED_MEMORY=0`` turns it off); the library alone
    never retunes a process.
    """
    retain_freed_memory_unless_disabled()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed usage and the error, or the help
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        with notices_as_lines():
            return COMMANDS[args.command].run(args)
    except (ConfigError, DataError) as error:
        error_line(str(error))
        return 2
    except KeyboardInterrupt:
        error_line("interrupted")
        return 130
    except Exception as error:  # a failure during the run: one line, no traceback
        error_line(failure_message(error))
        return 1
