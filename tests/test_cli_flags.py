"""The flags are made from the configuration's fields (gdw/cli/flags.py): a field declared with
``flagged`` has its flag in the commands that take it, with the field's default, and its value
reaches the configuration that ``describe``, ``train`` and ``sweep`` build."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from gdw.cli import build_parser, data_config_from_args, sweep_spec_from_args
from gdw.cli.flag_help import REGISTRY_HELP
from gdw.cli.flags import DATA_FLAGS, TRAINING_FLAGS, add_flags, flag_values, flags_of
from gdw.cli.sweep import sweep_command
from gdw.cli.train import run_config_from_args
from gdw.config import DataConfig, RunConfig, default_epochs
from gdw.flag_text import flagged

SWEEP_TRAINING = [flag for flag in TRAINING_FLAGS if flag.sweep]
COMMANDS = {
    "describe": DATA_FLAGS,
    "train": (*DATA_FLAGS, *TRAINING_FLAGS),
    "sweep": (*DATA_FLAGS, *SWEEP_TRAINING),
}
NOT_GIVEN = {  # flags a command defaults to None, "not given", and why
    "train": {"device"},  # with --resume: the run's own device
    "sweep": {"dataset", "noise", "noise_rate", "imbalance", "model", "lr"},  # a preset's
}
# A value other than the default for every flag, as the command line gives it and as the
# configuration holds it (a new flag needs one here).
CHANGED = {
    "dataset": ("mnist", "mnist"),
    "data_root": ("elsewhere", "elsewhere"),
    "download": (None, True),
    "noise": ("uniform", "uniform"),
    "noise_rate": ("0.3", 0.3),
    "imbalance": ("0.5", 0.5),
    "num_meta": ("40", 40),
    "seed": ("7", 7),
    "train_subset": ("500", 500),
    "classes": ("3,5,8", ("3", "5", "8")),
    "canaries": ("0.1", 0.1),
    "human_labels": ("aggre", "aggre"),  # with noise human, below
    "noise_file": ("labels.pt", "labels.pt"),
    "method": ("mwnet", "mwnet"),
    "model": ("cnn", "cnn"),
    "epochs": ("5", 5),
    "batch_size": ("32", 32),
    "lr": ("0.03", 0.03),
    "momentum": ("0.5", 0.5),
    "weight_decay": ("0.001", 0.001),
    "outer_lr": ("10", 10.0),
    "clip": ("0.3", 0.3),
    "meta_gradient": ("jvp", "jvp"),
    "device": ("cpu", "cpu"),
    "weight_net": ("paper", "paper"),
    "warmup_epochs": ("2", 2),
    "record_limit": ("10", 10),
    "name": ("lecture-1", "lecture-1"),
}


def _parser(command: str) -> argparse.ArgumentParser:
    return build_parser()._subparsers._group_actions[0].choices[command]


def _argv(*fields: str) -> list[str]:
    flags = {flag.field: flag for flag in (*DATA_FLAGS, *TRAINING_FLAGS)}
    argv = []
    for field in fields:
        text, _ = CHANGED[field]
        argv += [flags[field].name] if text is None else [flags[field].name, text]
    return argv


def test_every_flag_is_a_field_of_its_configuration_once() -> None:
    data_fields = {f.name for f in dataclasses.fields(DataConfig)}
    run_fields = {f.name for f in dataclasses.fields(RunConfig)}
    assert {flag.field for flag in DATA_FLAGS} <= data_fields
    assert {flag.field for flag in TRAINING_FLAGS} <= run_fields
    fields = [flag.field for flag in (*DATA_FLAGS, *TRAINING_FLAGS)]
    assert len(fields) == len(set(fields)), fields


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_takes_its_flags_with_the_fields_defaults(command: str) -> None:
    parser = _parser(command)
    options = {option for action in parser._actions for option in action.option_strings}
    defaults = {
        f.name: f.default for cls in (DataConfig, RunConfig) for f in dataclasses.fields(cls)
    }
    for flag in COMMANDS[command]:
        assert flag.name in options, f"{command} has no {flag.name}"
        expected = None if flag.field in NOT_GIVEN.get(command, ()) else defaults[flag.field]
        assert parser.get_default(flag.field) == expected, f"{command} {flag.name}"


def test_no_flags_give_the_default_configuration() -> None:
    args = build_parser().parse_args(["train"])
    assert run_config_from_args(args) == RunConfig()
    assert data_config_from_args(build_parser().parse_args(["describe"])) == DataConfig()
    spec, _ = sweep_spec_from_args(build_parser().parse_args(["sweep"]))
    data = DataConfig(canaries=0.0)  # a sweep plants canaries only when asked
    assert spec.base == RunConfig(data=data, epochs=default_epochs(data.dataset))


def test_every_flag_reaches_the_configuration_train_builds() -> None:
    assert set(CHANGED) == {flag.field for flag in (*DATA_FLAGS, *TRAINING_FLAGS)}
    human = ("human_labels", "noise_file")
    drawn = [field for field in CHANGED if field not in human]
    config = run_config_from_args(build_parser().parse_args(["train", *_argv(*drawn)]))
    argv = ["train", "--dataset", "cifar10", "--noise", "human", *_argv(*human)]
    human_config = run_config_from_args(build_parser().parse_args(argv))
    for flag in DATA_FLAGS:
        holder = human_config if flag.field in human else config
        assert getattr(holder.data, flag.field) == CHANGED[flag.field][1], flag.name
    for flag in TRAINING_FLAGS:
        assert getattr(config, flag.field) == CHANGED[flag.field][1], flag.name


def test_the_shared_flags_reach_every_run_of_a_sweep_and_its_command_line() -> None:
    grid = ("dataset", "noise", "noise_rate", "imbalance", "seed", "human_labels", "noise_file")
    shared = [f.field for f in (*DATA_FLAGS, *SWEEP_TRAINING) if f.field not in grid]
    spec, out = sweep_spec_from_args(build_parser().parse_args(["sweep", *_argv(*shared)]))
    for config in spec.runs():
        for field in shared:
            holder = config.data if hasattr(config.data, field) else config
            assert getattr(holder, field) == CHANGED[field][1], field
    command = sweep_command(spec, out).split()  # python -m gdw sweep ...
    again, _ = sweep_spec_from_args(build_parser().parse_args(command[3:]))
    # The command says what the runs are, not where they run or their files are.
    where = {"data_root": "data", "download": False}
    data = dataclasses.replace(spec.base.data, **where)
    assert again.base == spec.base.replace(data=data, device="auto")


def test_a_field_declared_with_a_flag_is_a_flag_with_nothing_else_to_edit() -> None:
    @dataclasses.dataclass(frozen=True)
    class Settings:
        rounds: int = flagged(3, "how many rounds", metavar="N")
        ratio: float | None = flagged(None, sweep=False)
        verbose: bool = flagged(False, "say more")
        internal: float = 1.0  # no flag

    flags = flags_of(Settings)
    assert [(f.name, f.help, f.metavar, f.sweep) for f in flags] == [
        ("--rounds", "how many rounds", "N", True),
        ("--ratio", None, None, False),
        ("--verbose", "say more", None, True),
    ]
    parser = argparse.ArgumentParser()
    add_flags(parser, flags)
    assert Settings(**flag_values(parser.parse_args([]), flags)) == Settings()
    given = parser.parse_args(["--rounds", "5", "--ratio", "0.5", "--verbose"])
    assert Settings(**flag_values(given, flags)) == Settings(rounds=5, ratio=0.5, verbose=True)


def test_every_registry_help_belongs_to_a_flag() -> None:
    fields = {flag.field for flag in (*DATA_FLAGS, *TRAINING_FLAGS)}
    assert set(REGISTRY_HELP) <= fields
    for flag in (*DATA_FLAGS, *TRAINING_FLAGS):
        if flag.field in REGISTRY_HELP:
            assert flag.help is REGISTRY_HELP[flag.field]
