"""What every command shares: the :class:`Command` record, the data flags, the error line."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from gdw.config import DEFAULT_CANARIES, NOISE_TYPES, DataConfig, DataNotice, RunConfig
from gdw.registry import (
    HumanLabelSpec,
    dataset_ids,
    dataset_spec,
    method_ids,
    method_spec,
    weight_net_ids,
    weight_net_spec,
)

__all__ = [
    "Command",
    "add_data_arguments",
    "add_weighting_arguments",
    "data_config_from_args",
    "dataset_help",
    "error_line",
    "method_help",
    "notices_as_lines",
    "parse_classes",
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
    """The data flags of :class:`~gdw.config.DataConfig`, with its defaults.

    Values are checked by ``DataConfig`` itself (not by argparse ``choices``), so a bad value
    gets the same one-line message as in the app.
    """
    defaults = DataConfig()
    group = parser.add_argument_group("data")
    group.add_argument("--dataset", default=defaults.dataset, help=dataset_help())
    group.add_argument(
        "--data-root",
        default=defaults.data_root,
        metavar="DIR",
        help="folder with the dataset files (default: %(default)s)",
    )
    group.add_argument(
        "--download", action="store_true", help="let torchvision download missing files"
    )
    group.add_argument(
        "--noise",
        default=defaults.noise,
        help=f"one of: {', '.join(NOISE_TYPES)} (human: the labels people gave, from "
        f"--noise-file; for {', '.join(_human_datasets())})",
    )
    group.add_argument(
        "--noise-rate",
        type=float,
        default=defaults.noise_rate,
        metavar="R",
        help="label-noise rate in [0, 1] (uniform, flip)",
    )
    group.add_argument(
        "--human-labels",
        metavar="SET",
        help="with --noise human, whose labels: "
        + "; ".join(
            f"{d} {'|'.join(spec.names)} (default {spec.default})"
            for d, spec in _human_datasets().items()
        ),
    )
    group.add_argument(
        "--noise-file",
        metavar="FILE",
        help="with --noise human, the file of human labels (default: "
        + ", ".join(f"DATA_ROOT/{spec.file}" for spec in _human_datasets().values())
        + "); read without running code from it",
    )
    group.add_argument(
        "--imbalance",
        type=float,
        default=defaults.imbalance,
        metavar="F",
        help="n_min / n_max of the training classes in (0, 1]; 1 = balanced",
    )
    group.add_argument(
        "--num-meta",
        type=int,
        default=defaults.num_meta,
        metavar="M",
        help="clean, class-balanced meta-set size (default: "
        + ", ".join(f"{d} {dataset_spec(d).default_num_meta}" for d in dataset_ids())
        + ")",
    )
    group.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        metavar="S",
        help="the one seed of the meta split, the corruptions and training (default: 0)",
    )
    group.add_argument(
        "--train-subset",
        type=int,
        default=defaults.train_subset,
        metavar="K",
        help="use only K training examples, for quick looks",
    )
    group.add_argument(
        "--classes",
        metavar="A,B,C",
        help="train on these classes only (names or indices, at least two), relabelled in the "
        "order given: --dataset cifar10 --classes cat,dog,bird; --classes 3,5,8",
    )
    group.add_argument(
        "--canaries",
        type=float,
        default=defaults.canaries,
        metavar="F",
        help="plant errors: move the labels of a seeded fraction F of the training examples to "
        "another class, to measure how well a ranking finds errors; left out of label-issues' "
        f"list (default: {DEFAULT_CANARIES:g} without injected noise, where the labels' own "
        "errors are unknown; 0 with injected noise)",
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
        f"{weight_net_spec(n).warmup_fraction:g} of the epochs, rounded down, with {n}"
        for n in weight_net_ids()
        if weight_net_spec(n).warmup_fraction > 0
    ]
    return (
        "epochs of plain training (every weight 1) before the weighting net takes over "
        f"(default: {', '.join([*fractions, '0 with the other nets'])})"
    )


def add_weighting_arguments(group: argparse._ActionsContainer) -> None:
    """``--weight-net`` and ``--warmup-epochs``, shared by ``train`` and ``sweep``."""
    group.add_argument("--weight-net", default=RunConfig().weight_net, help=weight_net_help())
    group.add_argument("--warmup-epochs", type=int, metavar="K", help=warmup_help())


def data_config_from_args(args: argparse.Namespace) -> DataConfig:
    """The :class:`DataConfig` the data flags describe; raises ``ConfigError`` if invalid."""
    return DataConfig(
        dataset=args.dataset,
        data_root=args.data_root,
        download=args.download,
        noise=args.noise,
        noise_rate=args.noise_rate,
        imbalance=args.imbalance,
        num_meta=args.num_meta,
        seed=args.seed,
        train_subset=args.train_subset,
        classes=parse_classes(args.classes),
        canaries=args.canaries,
        human_labels=args.human_labels,
        noise_file=args.noise_file,
    )


def _human_datasets() -> dict[str, HumanLabelSpec]:
    """The datasets with human label sets, and their sets (for the flags' help)."""
    specs = {d: dataset_spec(d).human_labels for d in dataset_ids()}
    return {d: spec for d, spec in specs.items() if spec is not None}


def parse_classes(text: str | None) -> tuple[str, ...] | None:
    """``--classes A,B,C`` as a tuple of names or indices (``None`` when not given)."""
    if text is None:
        return None
    return tuple(part.strip() for part in text.split(",") if part.strip())


def dataset_help() -> str:
    """``--dataset``'s help: every registered dataset, read when the parser is built."""
    return "one of: " + "; ".join(f"{d} ({dataset_spec(d).label})" for d in dataset_ids())


def method_help() -> str:
    """``--method``'s help: every registered method with its one-line description."""
    return "one of: " + "; ".join(f"{m} ({method_spec(m).description})" for m in method_ids())


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
