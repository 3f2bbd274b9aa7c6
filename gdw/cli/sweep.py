"""``gdw sweep``: every method on a grid of corruption settings and seeds, resumable."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from pathlib import Path
from typing import Any

from gdw.cli.common import add_data_arguments, error_line
from gdw.cli.flags import (
    DATA_FLAGS,
    TRAINING_FLAGS,
    Flag,
    add_flags,
    flag_defaults,
    flag_values,
    parse_classes,
)
from gdw.cli.progress import SweepProgressBar
from gdw.config import ConfigError, DataConfig, RunConfig, default_epochs
from gdw.data.classes import class_names, resolve_classes
from gdw.registry import method_ids, model_ids
from gdw.sweeps.presets import PRESETS, Preset, grid_settings
from gdw.sweeps.running import run_sweep
from gdw.sweeps.spec import SweepSpec, run_identity

__all__ = [
    "BACKENDS",
    "add_sweep_arguments",
    "run_sweep_command",
    "sweep_backend_from_args",
    "sweep_command",
    "sweep_spec_from_args",
]


_GRID = ("dataset", "noise", "noise_rate", "imbalance", "human_labels", "noise_file", "seed")
"""The data flags that make a sweep's grid (its dataset, settings, seeds and file of human
labels), read by :func:`sweep_spec_from_args` itself."""
_SHARED_DATA = tuple(flag for flag in DATA_FLAGS if flag.sweep and flag.field not in _GRID)
_SHARED_TRAINING = tuple(flag for flag in TRAINING_FLAGS if flag.sweep)
_SHARED = _SHARED_DATA + _SHARED_TRAINING
"""The flags of the configuration that a sweep's runs share (the table's ``sweep`` flags)."""
_PRESET_FIELDS = frozenset(field.name for field in dataclasses.fields(Preset))
_SEEDS = 3  # seeds per method and setting, without a preset


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``gdw sweep``: the data flags, the grid, and the shared training."""
    add_data_arguments(parser)
    group = parser.add_argument_group(
        "sweep",
        "Every method runs on every setting with every seed. The settings are every noise rate "
        "(with --noise human: every label set of --human-labels A,B) with every imbalance "
        "factor, or a preset's list. --seed S is the first seed: the runs use S, S+1, ..., "
        "S+N-1. Rerunning the same command resumes.",
    )
    choices = "; ".join(f"{name}: {preset.description}" for name, preset in PRESETS.items())
    choices = choices.replace("%", "%%")  # argparse formats help strings with %
    group.add_argument("--preset", help=f"a ready-made sweep, one of {choices}")
    group.add_argument(
        "--methods",
        metavar="LIST",
        help=f"comma-separated, of: {','.join(method_ids())} (default: all of them, or the "
        "preset's)",
    )
    group.add_argument(
        "--noise-rates",
        metavar="LIST",
        help="comma-separated rates for --noise, e.g. 0,0.2,0.4 (0: clean)",
    )
    group.add_argument(
        "--imbalances", metavar="LIST", help="comma-separated imbalance factors, e.g. 1,0.1,0.01"
    )
    group.add_argument(
        "--seeds",
        type=int,
        metavar="N",
        help=f"seeds per method and setting (default: {_SEEDS}, or the preset's)",
    )
    preset_helps = {
        "epochs": "epochs per run (default: the preset's, or the dataset's)",
        "model": f"one of: auto, {', '.join(model_ids())} (default: auto)",
        "lr": f"classifier learning rate (default: {RunConfig().lr:g})",
    }
    add_flags(group, _SHARED_TRAINING, helps=preset_helps)
    # None = "not given": a preset refuses the flags that would change its settings, and sets
    # those of its fields (epochs, model, lr, train subset) that are not given.
    settings = ("dataset", "noise", "noise_rate", "imbalance")
    preset_set = _PRESET_FIELDS & {flag.field for flag in _SHARED}
    parser.set_defaults(**dict.fromkeys(settings), **dict.fromkeys(preset_set))
    group.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="T",
        help="CPU threads for torch (default: 1; small models run fastest so)",
    )
    group.add_argument(
        "--out", metavar="DIR", help="the sweep folder (default: sweeps/<preset>, or sweeps/custom)"
    )
    _add_backend_arguments(parser)


BACKENDS = ("local", "ray")


def _add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "backend",
        "Where the runs run; the results are the same. local: one after another in this "
        "process. ray: each run is a Ray task, as many at once as the resources allow, on a Ray "
        "started on this machine or on the cluster at --ray-address ('ray start --head' on one "
        "machine, 'ray start --address HOST:PORT' on the others). On a cluster, --out (and "
        "--data-root) must be shared storage mounted at the same path on every node; the sweep "
        "checks at start that the workers can write there. A Ray started here runs its workers "
        "at the niceness of other work (Ray's default, 15, lets any other process starve them); "
        "a cluster's operator sets RAY_worker_niceness=0 in the environment of 'ray start' for "
        "the same. Needs Ray: pip install -e '.[ray]'.",
    )
    group.add_argument("--backend", default="local", help="local (default) or ray")
    group.add_argument(
        "--ray-address", metavar="ADDR", help="a Ray cluster's HOST:PORT, 'auto' or ray://HOST:PORT"
    )
    group.add_argument(
        "--cpus-per-run",
        type=float,
        metavar="N",
        help="CPUs Ray reserves for each run, fractions allowed (default: --threads)",
    )
    group.add_argument(
        "--gpus-per-run",
        type=float,
        metavar="G",
        help="GPUs Ray reserves for each run, fractions allowed (default: 0); each run then "
        "trains on its GPU",
    )


def sweep_backend_from_args(args: argparse.Namespace) -> Any:
    """``None`` (the local backend) or a :class:`~gdw.sweeps.ray_backend.RayBackend`, not yet
    entered."""
    ray_flags = ("ray_address", "cpus_per_run", "gpus_per_run")
    if args.backend not in BACKENDS:
        raise ConfigError(f"--backend {args.backend!r} is not one of: {', '.join(BACKENDS)}")
    if args.backend == "local":
        for flag in ray_flags:
            if getattr(args, flag) is not None:
                raise ConfigError(f"--{flag.replace('_', '-')} needs --backend ray")
        return None
    from gdw.sweeps.ray_backend import RayBackend

    gpus = args.gpus_per_run if args.gpus_per_run is not None else 0.0
    if args.device == "cuda" and gpus == 0:
        raise ConfigError("--device cuda with --backend ray needs --gpus-per-run (e.g. 1)")
    cpus = args.cpus_per_run if args.cpus_per_run is not None else float(args.threads)
    return RayBackend(
        address=args.ray_address, cpus_per_run=cpus, gpus_per_run=gpus, threads=args.threads
    )


def _floats(flag: str, text: str) -> list[float]:
    values = []
    for part in text.split(","):
        try:
            values.append(float(part))
        except ValueError:
            raise ConfigError(f"{flag}: {part.strip()!r} is not a number (e.g. 0.2,0.4)") from None
    return values


def _sweep_settings(args: argparse.Namespace, dataset: str) -> tuple[Any, ...]:
    for single, many in (("noise_rate", "noise_rates"), ("imbalance", "imbalances")):
        if getattr(args, single) is not None and getattr(args, many) is not None:
            flag = single.replace("_", "-")
            raise ConfigError(f"give --{flag} or --{flag}s, not both")
    noise = args.noise or "none"
    if args.imbalances is not None:
        imbalances = _floats("--imbalances", args.imbalances)
    else:
        imbalances = [args.imbalance if args.imbalance is not None else 1.0]
    if noise == "human" or args.human_labels is not None:
        return _human_settings(args, dataset, noise, imbalances)
    if args.noise_rates is not None:
        rates = _floats("--noise-rates", args.noise_rates)
    elif args.noise_rate is not None:
        rates = [args.noise_rate]
    elif noise != "none":
        raise ConfigError(f"--noise {noise} needs --noise-rates (for example 0.2,0.4,0.6)")
    else:
        rates = [0.0]
    return grid_settings(noise=noise, noise_rates=rates, imbalances=imbalances)


def _human_settings(
    args: argparse.Namespace, dataset: str, noise: str, imbalances: list[float]
) -> tuple[Any, ...]:
    """``--noise human --human-labels A,B``: every label set with every imbalance factor (one
    label set, the dataset's default, when none is named)."""
    if noise != "human":
        raise ConfigError(f"human labels need noise 'human', not {noise!r}")
    if args.noise_rate is not None or args.noise_rates is not None:
        raise ConfigError("--noise human takes its labels from a file; drop --noise-rate(s)")
    named = parse_classes(args.human_labels)  # a comma-separated list, as --classes
    if not named:
        named = (DataConfig(dataset=dataset, noise="human").human_labels,)
    for labels in named:  # refuse an unknown set with DataConfig's message, before any run
        DataConfig(dataset=dataset, noise="human", human_labels=labels)
    return grid_settings(noise="human", imbalances=imbalances, human_labels=named)


def sweep_spec_from_args(args: argparse.Namespace) -> tuple[Any, Path]:
    """The :class:`~gdw.sweeps.spec.SweepSpec` and the folder the sweep flags describe."""
    preset = None
    if args.preset is not None:
        if args.preset not in PRESETS:
            raise ConfigError(f"preset {args.preset!r} is not one of: {', '.join(PRESETS)}")
        preset = PRESETS[args.preset]
        fixed = ("dataset", "noise", "noise_rate", "noise_rates", "imbalance", "imbalances")
        for flag in (*fixed, "human_labels"):
            if getattr(args, flag) is not None:
                raise ConfigError(
                    f"--preset {preset.name} fixes the dataset and the settings; drop "
                    f"--{flag.replace('_', '-')}, or drop --preset for a custom grid"
                )
    dataset = preset.dataset if preset else (args.dataset or DataConfig.dataset)
    settings = preset.settings if preset else _sweep_settings(args, dataset)
    if args.noise_file is not None and not any(s.noise == "human" for s in settings):
        raise ConfigError("--noise-file is for human noise: give --noise human (or its preset)")
    if args.methods:
        methods = tuple(part.strip() for part in args.methods.split(","))
    else:
        methods = preset.methods if preset else method_ids()
    seeds = args.seeds if args.seeds is not None else (preset.seeds if preset else _SEEDS)
    if isinstance(seeds, bool) or seeds < 1:
        raise ConfigError(f"--seeds must be a whole number >= 1, got {seeds}")
    if args.threads < 1:
        raise ConfigError(f"--threads must be a whole number >= 1, got {args.threads}")
    shared = {**_shared_defaults(preset), **flag_values(args, _SHARED)}
    if shared["epochs"] is None:
        shared["epochs"] = default_epochs(dataset)  # written down, as a preset's epochs are
    data = DataConfig(dataset=dataset, **{flag.field: shared[flag.field] for flag in _SHARED_DATA})
    base = RunConfig(data=data, **{flag.field: shared[flag.field] for flag in _SHARED_TRAINING})
    first = args.seed if args.seed is not None else 0
    spec = SweepSpec(
        base=base,
        methods=methods,
        settings=tuple(settings),
        seeds=tuple(range(first, first + seeds)),
        preset=preset.name if preset else None,
        noise_file=args.noise_file,
    )
    out = Path(args.out) if args.out else Path("sweeps") / (preset.name if preset else "custom")
    return spec, out


def sweep_command(spec: Any, out: Path) -> str:
    """A command line that describes ``spec`` (what a resume must repeat)."""
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
        if noisy == ["human"]:
            labels = dict.fromkeys(str(s.human_labels) for s in spec.settings)
            parts.append(f"--noise human --human-labels {','.join(labels)}")
        elif noisy:
            parts.append(f"--noise {noisy[0]} --noise-rates {','.join(f'{r:g}' for r in rates)}")
        parts.append(f"--imbalances {','.join(f'{f:g}' for f in imbalances)}")
    defaults = {
        "--methods": ",".join(preset.methods if preset else method_ids()),
        "--seeds": str(preset.seeds if preset else _SEEDS),
        "--seed": "0",
    }
    values = {
        "--methods": ",".join(spec.methods),
        "--seeds": str(len(spec.seeds)),
        "--seed": str(spec.seeds[0]),
    }
    parts += [f"{flag} {value}" for flag, value in values.items() if value != defaults[flag]]
    # The shared flags that say what the runs are (not where they run or their files are).
    shared_defaults, identity = _shared_defaults(preset), run_identity(base)
    for flag in _SHARED:
        key = f"data.{flag.field}" if flag in _SHARED_DATA else flag.field
        if key in identity and identity[key] != shared_defaults[flag.field]:
            parts.append(_flag_text(flag, identity[key]))
    if spec.noise_file is not None:
        parts.append(f"--noise-file {spec.noise_file}")
    return " ".join([*parts, f"--out {out}"])


def _shared_defaults(preset: Preset | None) -> dict[str, Any]:
    """What each shared flag of a sweep (by field) stands for when it is not given: the preset's
    value where the preset sets the field, else the field's default; but no canaries, as a sweep
    compares methods (canaries only when asked)."""
    defaults = {**flag_defaults(_SHARED), "canaries": 0.0}
    if preset is not None:
        defaults.update({field: getattr(preset, field) for field in _PRESET_FIELDS & set(defaults)})
    return defaults


def _flag_text(flag: Flag, value: Any) -> str:
    """The flag with ``value`` as a command line gives it (a switch alone)."""
    if value is True:
        return flag.name
    if isinstance(value, (tuple, list)):
        return f"{flag.name} {','.join(str(part) for part in value)}"
    if isinstance(value, float) and float(f"{value:g}") == value:
        return f"{flag.name} {value:g}"
    return f"{flag.name} {value}"


def run_sweep_command(args: argparse.Namespace) -> int:
    import torch

    spec, out = sweep_spec_from_args(args)
    data = spec.base.data
    if data.classes is not None:  # refuse unknown classes before making any run folder
        resolve_classes(data.classes, class_names(data))
    backend = sweep_backend_from_args(args)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    progress = SweepProgressBar()
    try:
        with backend or contextlib.nullcontext():  # Ray: connect, check resources; shut down
            outcome = run_sweep(
                spec, out, sinks=[progress], command=sweep_command(spec, out), backend=backend
            )
    except KeyboardInterrupt:
        progress.close()
        error_line(
            f"stopped; the finished runs are kept in {out}; rerun the same command to resume"
        )
        return 130
    finally:
        progress.close()  # before main() prints an error line under the bar
        torch.set_num_threads(threads)
    if outcome.resumed:
        count = len(outcome.resumed)
        print(f"gdw: resumed {count} half-done run(s) from their checkpoints", file=sys.stderr)
    if outcome.moved_aside:
        print(
            f"gdw: moved {len(outcome.moved_aside)} unfinished run folder(s) to "
            f"{out / 'unfinished'} and ran them again",
            file=sys.stderr,
        )
    print(out)
    if outcome.failed:
        name, error = next(iter(outcome.failed.items()))
        error_line(
            f"{len(outcome.failed)} of {outcome.planned} runs failed (first: {name}: "
            f"{error}); rerun the same command to retry them"
        )
        return 1
    return 0
