"""``gdw train`` (one run, with a progress bar) and ``gdw bench`` (step timings as JSON)."""

from __future__ import annotations

import argparse
import json

from gdw.cli.common import (
    add_data_arguments,
    add_weighting_arguments,
    data_config_from_args,
    error_line,
    method_help,
)
from gdw.cli.progress import ProgressBar
from gdw.config import DEVICES, META_GRADIENTS, RunConfig
from gdw.registry import dataset_ids, dataset_spec, model_ids, model_spec

__all__ = [
    "add_bench_arguments",
    "add_train_arguments",
    "model_help",
    "run_bench",
    "run_config_from_args",
    "run_train",
]


def model_help() -> str:
    """``--model``'s help: ``auto`` and every registered model with its description, read when
    the parser is built."""
    auto = ", ".join(f"{dataset_spec(d).default_model} on {d}" for d in dataset_ids())
    models = ", ".join(f"{m} ({model_spec(m).description})" for m in model_ids())
    return (
        f"one of: auto (by dataset: {auto}), {models}; ERM ms per step of 100 images by "
        "'gdw bench' on 2 shared CPU cores"
    )


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of :class:`~gdw.config.RunConfig`: data, method, model and optimisation."""
    add_data_arguments(parser)
    defaults = RunConfig()
    group = parser.add_argument_group("training")
    group.add_argument("--method", default=defaults.method, help=method_help())
    group.add_argument("--model", default=defaults.model, metavar="MODEL", help=model_help())
    group.add_argument(
        "--epochs",
        type=int,
        metavar="E",
        help="epochs (default: "
        + ", ".join(f"{d} {dataset_spec(d).default_epochs}" for d in dataset_ids())
        + ")",
    )
    group.add_argument("--batch-size", type=int, default=defaults.batch_size, metavar="B")
    group.add_argument("--lr", type=float, default=defaults.lr, help="classifier learning rate")
    group.add_argument("--momentum", type=float, default=defaults.momentum)
    group.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    group.add_argument(
        "--outer-lr",
        type=float,
        help="outer learning rate of GDW and mwnet-step (default: GDW 100, or 1000 for > 10 "
        "classes; mwnet-step GDW's divided by the number of classes)",
    )
    group.add_argument(
        "--clip",
        type=float,
        default=defaults.clip,
        help="largest change of a weight in one outer step (GDW, mwnet-step)",
    )
    group.add_argument(
        "--meta-gradient",
        default=defaults.meta_gradient,
        help=f"one of: {', '.join(META_GRADIENTS)} (same numbers, different speed)",
    )
    group.add_argument(
        "--device",
        help=f"one of: {', '.join(DEVICES)} (default: {defaults.device}; with --resume, the "
        "run's own)",
    )
    add_weighting_arguments(group)
    group.add_argument(
        "--record-limit",
        type=int,
        metavar="K",
        help="record the weights of at most K examples (0: none)",
    )
    group.add_argument(
        "--runs-dir",
        default="runs",
        metavar="DIR",
        help="folder of run directories (default: %(default)s)",
    )
    group.add_argument("--name", help="name of the run directory (default: time-method-dataset)")
    group.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue this stopped, failed or interrupted run from its last finished epoch, "
        "in its folder, with its own settings (the other flags but --device are not used)",
    )


def run_config_from_args(args: argparse.Namespace) -> RunConfig:
    """The :class:`RunConfig` the training flags describe; raises ``ConfigError`` if invalid."""
    return RunConfig(
        data=data_config_from_args(args),
        method=args.method,
        model=args.model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        outer_lr=args.outer_lr,
        clip=args.clip,
        meta_gradient=args.meta_gradient,
        weight_net=args.weight_net,
        warmup_epochs=args.warmup_epochs,
        device=args.device if args.device is not None else RunConfig().device,
        record_limit=args.record_limit,
        name=args.name,
    )


def run_train(args: argparse.Namespace) -> int:
    from gdw.training.trainer import resume, run  # torch: when a command trains, not for --help

    progress = ProgressBar()
    try:
        if args.resume:
            run_dir = resume(args.resume, device=args.device, sinks=[progress])
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
