"""Command line: ``python -m gdw <command> ...``.

Exit codes: 0 done; 2 bad input, with one line ``gdw: error: <reason>`` on stderr (argparse's
own usage errors also exit 2); 1 a failure during the run, also one line.

A command is an entry of :data:`COMMANDS`: a help text, a function adding its arguments to its
subparser and a function running it. To add one, write those two functions and register them::

    COMMANDS["train"] = Command("train a model", add_train_arguments, run_train)

Commands that need data call :func:`add_data_arguments` and :func:`data_config_from_args`, so
the data flags are spelled and validated the same everywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pathlib import Path
from typing import Any

from tqdm import tqdm

from gdw.bench import BENCH_SHAPES, benchmark
from gdw.config import (
    DATASETS,
    DEVICES,
    META_GRADIENTS,
    METHODS,
    MODELS,
    NOISE_TYPES,
    ConfigError,
    DataConfig,
    RunConfig,
)
from gdw.data import DataError, describe, load_dataset
from gdw.trainer import TrainingSink, run

__all__ = [
    "COMMANDS",
    "Command",
    "add_data_arguments",
    "build_parser",
    "data_config_from_args",
    "main",
]


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, how to add its arguments, and how to run it.

    ``run`` returns the exit code; it may raise :class:`~gdw.config.ConfigError` or
    :class:`~gdw.data.DataError` for bad input, which :func:`main` turns into exit code 2.
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
    group.add_argument("--dataset", default=defaults.dataset, help=f"one of: {', '.join(DATASETS)}")
    group.add_argument(
        "--data-root",
        default=defaults.data_root,
        metavar="DIR",
        help="folder with the dataset files (default: %(default)s)",
    )
    group.add_argument(
        "--download", action="store_true", help="let torchvision download missing files"
    )
    group.add_argument("--noise", default=defaults.noise, help=f"one of: {', '.join(NOISE_TYPES)}")
    group.add_argument(
        "--noise-rate",
        type=float,
        default=defaults.noise_rate,
        metavar="R",
        help="label-noise rate in [0, 1]",
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
        help="clean, class-balanced meta-set size (default: 100 on digits and imagefolder, "
        "1000 elsewhere)",
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
    )


def _run_describe(args: argparse.Namespace) -> int:
    dataset = load_dataset(data_config_from_args(args))
    print(json.dumps(describe(dataset), indent=2))
    return 0


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of :class:`~gdw.config.RunConfig`: data, method, model and optimisation."""
    add_data_arguments(parser)
    defaults = RunConfig()
    group = parser.add_argument_group("training")
    group.add_argument("--method", default=defaults.method, help=f"one of: {', '.join(METHODS)}")
    group.add_argument("--model", default=defaults.model, help=f"one of: {', '.join(MODELS)}")
    group.add_argument("--epochs", type=int, metavar="E",
                       help="epochs (default: 30 on digits, 10 on MNIST, 80 on CIFAR)")
    group.add_argument("--batch-size", type=int, default=defaults.batch_size, metavar="B")
    group.add_argument("--lr", type=float, default=defaults.lr, help="classifier learning rate")
    group.add_argument("--momentum", type=float, default=defaults.momentum)
    group.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    group.add_argument("--outer-lr", type=float,
                       help="GDW's outer learning rate (default: 100, or 1000 for > 10 classes)")
    group.add_argument("--clip", type=float, default=defaults.clip,
                       help="GDW's clip on one outer step")
    group.add_argument("--meta-gradient", default=defaults.meta_gradient,
                       help=f"one of: {', '.join(META_GRADIENTS)} (same numbers, different speed)")
    group.add_argument("--device", default=defaults.device, help=f"one of: {', '.join(DEVICES)}")
    group.add_argument("--record-limit", type=int, metavar="K",
                       help="record the weights of at most K examples (0: none)")
    group.add_argument("--runs-dir", default="runs", metavar="DIR",
                       help="folder of run directories (default: %(default)s)")
    group.add_argument("--name", help="name of the run directory (default: time-method-dataset)")
    # fmt: skip


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
        device=args.device,
        record_limit=args.record_limit,
        name=args.name,
    )


class ProgressBar(TrainingSink):
    """A tqdm bar over every step of the run, with the epoch and the latest test accuracy."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.run_dir: Path | None = None

    def on_start(self, run_dir: Path, plan: dict[str, Any]) -> None:
        self.run_dir = run_dir
        self.epochs = plan["epochs"]
        self.bar = tqdm(total=plan["epochs"] * plan["steps"], unit="step", dynamic_ncols=True,
                        desc=f"epoch 1/{self.epochs}", file=sys.stderr)  # fmt: skip

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        assert self.bar is not None
        self.bar.update(1)

    def on_epoch(self, metrics: dict[str, float], weights: Any) -> None:
        assert self.bar is not None
        epoch = int(metrics["epoch"])
        self.bar.set_description(f"epoch {min(epoch + 1, self.epochs)}/{self.epochs}")
        self.bar.set_postfix(test_acc=f"{metrics['test_acc']:.2%}", refresh=False)

    def on_end(self, state: str, summary: dict[str, Any], error: str | None) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_train(args: argparse.Namespace) -> int:
    config = run_config_from_args(args)
    progress = ProgressBar()
    try:
        run_dir = run(config, runs_dir=args.runs_dir, sinks=[progress])
    except KeyboardInterrupt:
        if progress.run_dir is None:
            raise
        _error_line(f"stopped; the finished epochs are kept in {progress.run_dir}")
        print(progress.run_dir)
        return 130
    print(run_dir)
    return 0


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="mlp", help=f"one of: {', '.join(BENCH_SHAPES)}")
    parser.add_argument("--batch-size", type=int, default=100, metavar="B")
    parser.add_argument("--steps", type=int, default=20, metavar="K",
                        help="timed steps per method, after the warm-up (median reported)")
    parser.add_argument("--warmup", type=int, default=3, metavar="W")
    parser.add_argument("--classes", type=int, default=10, metavar="C")
    parser.add_argument("--meta-gradient", default="auto",
                        help=f"one of: {', '.join(META_GRADIENTS)}")
    parser.add_argument("--device", default="auto", help=f"one of: {', '.join(DEVICES)}")
    # fmt: skip


def _run_bench(args: argparse.Namespace) -> int:
    record = benchmark(
        model=args.model, batch_size=args.batch_size, steps=args.steps, warmup=args.warmup,
        n_classes=args.classes, meta_gradient=args.meta_gradient, device=args.device,
    )  # fmt: skip
    print(json.dumps(record))
    return 0


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``gdw sweep``: the data flags, the grid, and the shared training."""
    from gdw.presets import PRESETS

    add_data_arguments(parser)
    # None = "not given": a preset refuses flags that would change its settings.
    parser.set_defaults(dataset=None, noise=None, noise_rate=None, imbalance=None)
    group = parser.add_argument_group(
        "sweep",
        "Every method runs on every setting with every seed. The settings are every noise rate "
        "with every imbalance factor, or a preset's list. --seed S is the first seed: the runs "
        "use S, S+1, ..., S+N-1. Rerunning the same command resumes.",
    )
    group.add_argument("--preset", help=f"a ready-made sweep, one of: {', '.join(PRESETS)}")
    group.add_argument("--methods", metavar="LIST", help="comma-separated (default: erm,mwnet,gdw)")
    group.add_argument("--noise-rates", metavar="LIST",
                       help="comma-separated rates for --noise, e.g. 0,0.2,0.4 (0: clean)")
    group.add_argument("--imbalances", metavar="LIST",
                       help="comma-separated imbalance factors, e.g. 1,0.1,0.01")
    group.add_argument("--seeds", type=int, metavar="N",
                       help="seeds per method and setting (default: 3, or the preset's)")
    group.add_argument("--epochs", type=int, metavar="E",
                       help="epochs per run (default: the preset's, or the dataset's)")
    group.add_argument("--model", help=f"one of: {', '.join(MODELS)} (default: auto)")
    group.add_argument("--lr", type=float, help="classifier learning rate (default: 0.1)")
    group.add_argument("--batch-size", type=int, default=RunConfig().batch_size, metavar="B")
    group.add_argument("--device", default="auto", help=f"one of: {', '.join(DEVICES)}")
    group.add_argument("--threads", type=int, default=1, metavar="T",
                       help="CPU threads for torch (default: 1; small models run fastest so)")
    group.add_argument("--out", metavar="DIR",
                       help="the sweep folder (default: sweeps/<preset>, or sweeps/custom)")
    # fmt: skip


def _floats(flag: str, text: str) -> list[float]:
    values = []
    for part in text.split(","):
        try:
            values.append(float(part))
        except ValueError:
            raise ConfigError(f"{flag}: {part.strip()!r} is not a number (e.g. 0.2,0.4)") from None
    return values


def _sweep_settings(args: argparse.Namespace) -> tuple[Any, ...]:
    from gdw.presets import grid_settings

    for single, many in (("noise_rate", "noise_rates"), ("imbalance", "imbalances")):
        if getattr(args, single) is not None and getattr(args, many) is not None:
            flag = single.replace("_", "-")
            raise ConfigError(f"give --{flag} or --{flag}s, not both")
    noise = args.noise or "none"
    if args.noise_rates is not None:
        rates = _floats("--noise-rates", args.noise_rates)
    elif args.noise_rate is not None:
        rates = [args.noise_rate]
    elif noise != "none":
        raise ConfigError(f"--noise {noise} needs --noise-rates (for example 0.2,0.4,0.6)")
    else:
        rates = [0.0]
    if args.imbalances is not None:
        imbalances = _floats("--imbalances", args.imbalances)
    else:
        imbalances = [args.imbalance if args.imbalance is not None else 1.0]
    return grid_settings(noise=noise, noise_rates=rates, imbalances=imbalances)


def sweep_spec_from_args(args: argparse.Namespace) -> tuple[Any, Path]:
    """The :class:`~gdw.sweep.SweepSpec` and the folder the sweep flags describe."""
    from gdw.config import default_epochs
    from gdw.presets import PRESETS
    from gdw.sweep import SweepSpec

    preset = None
    if args.preset is not None:
        if args.preset not in PRESETS:
            raise ConfigError(f"preset {args.preset!r} is not one of: {', '.join(PRESETS)}")
        preset = PRESETS[args.preset]
        for flag in ("dataset", "noise", "noise_rate", "noise_rates", "imbalance", "imbalances"):
            if getattr(args, flag) is not None:
                raise ConfigError(
                    f"--preset {preset.name} fixes the dataset and the settings; drop "
                    f"--{flag.replace('_', '-')}, or drop --preset for a custom grid"
                )
    dataset = preset.dataset if preset else (args.dataset or "digits")
    settings = preset.settings if preset else _sweep_settings(args)
    methods = tuple(args.methods.split(",")) if args.methods else (
        preset.methods if preset else METHODS)  # fmt: skip
    seeds = args.seeds if args.seeds is not None else (preset.seeds if preset else 3)
    if isinstance(seeds, bool) or seeds < 1:
        raise ConfigError(f"--seeds must be a whole number >= 1, got {seeds}")
    if args.threads < 1:
        raise ConfigError(f"--threads must be a whole number >= 1, got {args.threads}")
    epochs = args.epochs if args.epochs is not None else (
        preset.epochs if preset else default_epochs(dataset))  # fmt: skip
    train_subset = args.train_subset
    if train_subset is None and preset is not None:
        train_subset = preset.train_subset
    data = DataConfig(dataset=dataset, data_root=args.data_root, download=args.download,
                      num_meta=args.num_meta, train_subset=train_subset)  # fmt: skip
    base = RunConfig(
        data=data, model=args.model or (preset.model if preset else "auto"), epochs=epochs,
        batch_size=args.batch_size,
        lr=args.lr if args.lr is not None else (preset.lr if preset else RunConfig().lr),
        device=args.device,
    )  # fmt: skip
    first = args.seed if args.seed is not None else 0
    spec = SweepSpec(base=base, methods=methods, settings=tuple(settings),
                     seeds=tuple(range(first, first + seeds)),
                     preset=preset.name if preset else None)  # fmt: skip
    out = Path(args.out) if args.out else Path("sweeps") / (preset.name if preset else "custom")
    return spec, out


def sweep_command(spec: Any, out: Path) -> str:
    """A command line that describes ``spec`` (what a resume must repeat)."""
    from gdw.presets import PRESETS

    base, data = spec.base, spec.base.data
    preset = PRESETS.get(spec.preset) if spec.preset else None
    parts = ["python -m gdw sweep"]
    if preset:
        parts.append(f"--preset {preset.name}")
    else:
        noisy = sorted({s.noise for s in spec.settings} - {"none"})
        rates = dict.fromkeys(s.noise_rate for s in spec.settings)
        imbalances = dict.fromkeys(s.imbalance for s in spec.settings)
        parts.append(f"--dataset {data.dataset}")
        if noisy:
            parts.append(f"--noise {noisy[0]} --noise-rates {','.join(f'{r:g}' for r in rates)}")
        parts.append(f"--imbalances {','.join(f'{f:g}' for f in imbalances)}")
    defaults = {
        "--methods": ",".join(preset.methods if preset else METHODS),
        "--seeds": str(preset.seeds if preset else 3), "--seed": "0",
        "--epochs": str(preset.epochs if preset else None),
        "--model": preset.model if preset else "auto",
        "--lr": f"{preset.lr if preset else 0.1:g}", "--batch-size": "100",
        "--train-subset": str(preset.train_subset if preset else None), "--num-meta": "None",
    }  # fmt: skip
    values = {
        "--methods": ",".join(spec.methods), "--seeds": str(len(spec.seeds)),
        "--seed": str(spec.seeds[0]), "--epochs": str(base.epochs), "--model": base.model,
        "--lr": f"{base.lr:g}", "--batch-size": str(base.batch_size),
        "--train-subset": str(data.train_subset), "--num-meta": str(data.num_meta),
    }  # fmt: skip
    parts += [f"{flag} {value}" for flag, value in values.items() if value != defaults[flag]]
    return " ".join([*parts, f"--out {out}"])


class SweepProgressBar(TrainingSink):
    """A tqdm bar over every epoch of every run of a sweep, naming the current run."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.epochs = 0
        self.seen = 0

    def on_sweep_start(self, planned: int, finished: int, epochs: int) -> None:
        self.epochs = epochs
        self.bar = tqdm(total=planned * epochs, initial=finished * epochs, unit="epoch",
                        dynamic_ncols=True, file=sys.stderr)  # fmt: skip

    def on_run_start(self, number: int, planned: int, name: str) -> None:
        assert self.bar is not None
        self.seen = 0
        self.bar.set_description(f"run {number}/{planned} {name}")

    def on_epoch(self, metrics: dict[str, float], weights: Any) -> None:
        assert self.bar is not None
        self.seen += 1
        self.bar.update(1)
        self.bar.set_postfix(test_acc=f"{metrics['test_acc']:.2%}", refresh=False)

    def on_run_end(self, name: str, state: str, error: str | None) -> None:
        assert self.bar is not None
        if state == "failed":
            self.bar.update(self.epochs - self.seen)
            self.bar.write(f"run {name} failed: {error}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_sweep(args: argparse.Namespace) -> int:
    import torch

    from gdw.sweep import run_sweep

    spec, out = sweep_spec_from_args(args)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    progress = SweepProgressBar()
    try:
        outcome = run_sweep(spec, out, sinks=[progress], command=sweep_command(spec, out))
    except KeyboardInterrupt:
        progress.close()
        _error_line(f"stopped; the finished runs are kept in {out}; rerun the same command to "
                    "resume")  # fmt: skip
        return 130
    finally:
        progress.close()  # before main() prints an error line under the bar
        torch.set_num_threads(threads)
    if outcome.moved_aside:
        print(f"gdw: moved {len(outcome.moved_aside)} unfinished run folder(s) to "
              f"{out / 'unfinished'} and ran them again", file=sys.stderr)  # fmt: skip
    print(out)
    if outcome.failed:
        name, error = next(iter(outcome.failed.items()))
        _error_line(f"{len(outcome.failed)} of {outcome.planned} runs failed (first: {name}: "
                    f"{error}); rerun the same command to retry them")  # fmt: skip
        return 1
    return 0


COMMANDS: dict[str, Command] = {
    "describe": Command(
        help="load and corrupt a dataset; print its class counts and realised noise as JSON",
        add_arguments=add_data_arguments,
        run=_run_describe,
    ),
    "train": Command(
        help="train one run (erm, mwnet or gdw) and write its run directory",
        add_arguments=add_train_arguments,
        run=_run_train,
    ),
    "bench": Command(
        help="time training steps of erm, mwnet and gdw side by side; print JSON",
        add_arguments=add_bench_arguments,
        run=_run_bench,
    ),
    "sweep": Command(
        help="run every method on a grid of noise and imbalance settings and seeds; summarise",
        add_arguments=add_sweep_arguments,
        run=_run_sweep,
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
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed usage and the error, or the help
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return COMMANDS[args.command].run(args)
    except (ConfigError, DataError) as error:
        _error_line(str(error))
        return 2
    except KeyboardInterrupt:
        _error_line("interrupted")
        return 130
    except Exception as error:  # a failure during the run: one line, no traceback
        _error_line(f"{type(error).__name__}: {error}")
        return 1


def _error_line(message: str) -> None:
    first_line = (message.strip().splitlines() or ["unknown error"])[0]
    print(f"gdw: error: {first_line}", file=sys.stderr)
