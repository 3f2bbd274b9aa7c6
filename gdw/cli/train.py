"""``gdw train`` (one run, with a progress bar) and ``gdw bench`` (step timings as JSON)."""

from __future__ import annotations

import argparse
import json

from gdw.cli.common import add_data_arguments, data_config_from_args, error_line
from gdw.cli.flag_help import epochs_help
from gdw.cli.flags import TRAINING_FLAGS, add_flags, flag_values
from gdw.cli.progress import ProgressBar
from gdw.config import DEVICES, META_GRADIENTS, RunConfig
from gdw.registry import model_ids

__all__ = [
    "add_bench_arguments",
    "add_train_arguments",
    "run_bench",
    "run_config_from_args",
    "run_train",
]


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of :class:`~gdw.config.RunConfig` (:mod:`gdw.cli.flags`), where the run folder
    goes, and ``--resume``."""
    add_data_arguments(parser)
    group = parser.add_argument_group("training")
    device_help = (
        f"one of: {', '.join(DEVICES)} (default: {RunConfig().device}; with --resume, the run's "
        "own)"
    )
    helps = {
        "device": device_help,
        "epochs": f"{epochs_help()}; with --resume, the run's new total",
    }
    add_flags(group, TRAINING_FLAGS, helps=helps)
    parser.set_defaults(device=None)  # not given: the configuration's, or with --resume the run's
    group.add_argument(
        "--runs-dir",
        default="runs",
        metavar="DIR",
        help="folder of run directories (default: %(default)s)",
    )
    group.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue this stopped, failed or interrupted run from its last finished epoch, "
        "in its folder, with its own settings (the other flags but --device and --epochs are "
        "not used); with --epochs E, train it (a completed one too) on to E epochs in all",
    )


def run_config_from_args(args: argparse.Namespace) -> RunConfig:
    """The :class:`RunConfig` the training flags describe; raises ``ConfigError`` if invalid."""
    return RunConfig(data=data_config_from_args(args), **flag_values(args, TRAINING_FLAGS))


def run_train(args: argparse.Namespace) -> int:
    from gdw.training.trainer import resume, run  # torch: when a command trains, not for --help

    progress = ProgressBar()
    try:
        if args.resume:
            run_dir = resume(args.resume, device=args.device, epochs=args.epochs, sinks=[progress])
        else:
            run_dir = run(run_config_from_args(args), runs_dir=args.runs_dir, sinks=[progress])
    except KeyboardInterrupt:
        if progress.run_dir is None:
            raise
        error_line(f"stopped; the finished epochs are kept in {progress.run_dir}")
        print(progress.run_dir)
        return 130
    print(run_dir)
    return 0


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="mlp", help=f"one of: {', '.join(model_ids())}")
    parser.add_argument("--batch-size", type=int, default=100, metavar="B")
    parser.add_argument(
        "--steps",
        type=int,
        default=20,
        metavar="K",
        help="timed steps per method, after the warm-up (median reported)",
    )
    parser.add_argument("--warmup", type=int, default=3, metavar="W")
    parser.add_argument("--classes", type=int, default=10, metavar="C")
    parser.add_argument(
        "--meta-gradient", default="auto", help=f"one of: {', '.join(META_GRADIENTS)}"
    )
    parser.add_argument("--device", default="auto", help=f"one of: {', '.join(DEVICES)}")


def run_bench(args: argparse.Namespace) -> int:
    from gdw.training.bench import benchmark

    record = benchmark(
        model=args.model,
        batch_size=args.batch_size,
        steps=args.steps,
        warmup=args.warmup,
        n_classes=args.classes,
        meta_gradient=args.meta_gradient,
        device=args.device,
    )
    print(json.dumps(record))
    return 0
