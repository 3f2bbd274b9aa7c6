"""The method, dataset, model and weighting-net registries: one entry shows up in every consumer,
no other file touched (config validation, the CLI's help, the sidebar, figures, sweeps, bench and
the trainer)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from gdw import (
    ConfigError,
    DataConfig,
    DatasetSpec,
    MethodSpec,
    ModelSpec,
    RunConfig,
    WeightNetSpec,
    comparison_pairs,
    dataset_ids,
    load_run,
    method_ids,
    method_label,
    method_spec,
    recorded_method_spec,
    register_dataset,
    register_method,
    register_model,
    register_weight_net,
    run,
    weight_net_ids,
)
from gdw.cli import build_parser, main
from gdw.data.sources import Source, Split
from gdw.registry import unregister
from gdw.weighting.methods import ERM
from gdw.weighting.weight_net import build_weight_net

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def _toy_builder(model, optimizer, weight_net, weight_optimizer, **_):
    return ERM(model, optimizer)


def _toy_reader(config: DataConfig) -> Source:
    """Three classes of random 6x6 grey images whose mean brightness is the class."""
    rng = np.random.default_rng(0)

    def split(per_class: int) -> Split:
        labels = np.repeat(np.arange(3), per_class)
        noise = rng.integers(0, 60, size=(labels.size, 1, 6, 6))
        return Split((noise + 90 * labels[:, None, None, None]).astype(np.uint8), labels)

    return Source(classes=("low", "mid", "high"), train=split(40), test=split(10))


class ToyNet(nn.Module):
    """A classifier of one linear layer on an image's mean brightness."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.out = nn.Linear(1, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(x.flatten(1).mean(1, keepdim=True))


@pytest.fixture
def toy_model() -> Iterator[ModelSpec]:
    spec = register_model(
        ModelSpec(
            id="toy-net",
            label="Toy net",
            description="one linear layer on the mean brightness",
            builder=lambda *, image_shape, n_classes: ToyNet(n_classes),
        )
    )
    yield spec
    unregister(spec)


class ToyWeightNet(nn.Module):
    """A weighting net of one linear unit on the loss."""

    def __init__(self) -> None:
        super().__init__()
        self.unit = nn.Linear(1, 1)

    def forward(self, losses: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.unit(losses.unsqueeze(1))).squeeze(1)


@pytest.fixture
def toy_weight_net() -> Iterator[WeightNetSpec]:
    spec = register_weight_net(
        WeightNetSpec(
            id="toy-weights",
            label="Toy weights",
            description="one linear unit on the loss",
            builder=ToyWeightNet,
            warmup_fraction=0.5,
        )
    )
    yield spec
    unregister(spec)


@pytest.fixture
def toy_method() -> Iterator[MethodSpec]:
    spec = register_method(
        MethodSpec(
            id="toy",
            label="Toy method",
            color="#123456",
            description="a toy copy of ERM",
            builder=_toy_builder,
            learns_from_meta=False,
            weight_kind="ones",
            compare_with=(("erm", "nothing at all"),),
        )
    )
    yield spec
    unregister(spec)


@pytest.fixture
def toy_dataset() -> Iterator[DatasetSpec]:
    spec = register_dataset(
        DatasetSpec(
            id="toyset",
            label="Toy data (6x6, 3 classes)",
            reader=_toy_reader,
            help="three brightness classes, made in memory",
            files="",
            downloadable=False,
            needs_root=False,
            default_epochs=2,
            default_num_meta=6,
            default_model="mlp",
        )
    )
    yield spec
    unregister(spec)


def test_the_four_methods_six_datasets_and_four_weighting_nets_are_registered() -> None:
    assert method_ids() == ("erm", "mwnet", "mwnet-step", "gdw")
    assert method_label("mwnet-step") == "MW-Net + outer step"
    assert set(dataset_ids()) == {
        "digits",
        "mnist",
        "fashion-mnist",
        "cifar10",
        "cifar100",
        "imagefolder",
    }
    assert weight_net_ids() == ("monotone", "paper", "monotone-raw", "paper-normalised")
    pairs = [(m, b) for m, b, _ in comparison_pairs(method_ids())]
    assert pairs == [
        ("gdw", "mwnet"),
        ("gdw", "mwnet-step"),
        ("gdw", "erm"),
        ("mwnet-step", "mwnet"),
        ("mwnet", "erm"),
    ]


def test_a_method_no_longer_registered_reads_as_a_stand_in() -> None:
    assert recorded_method_spec("gdw") is method_spec("gdw")
    gone = recorded_method_spec("a-method-of-an-old-run")
    assert (gone.label, gone.weight_kind) == ("a-method-of-an-old-run", "class")
    assert gone.label_score == MethodSpec.label_score and gone.color == "#495057"
    assert method_label("a-method-of-an-old-run") == "a-method-of-an-old-run"
    with pytest.raises(KeyError, match="a-method-of-an-old-run"):
        method_spec("a-method-of-an-old-run")
    with pytest.raises(LookupError, match="no longer registered"):
        gone.builder()


def test_outer_lr_defaults_per_method() -> None:
    assert RunConfig(method="gdw").resolved_outer_lr(10) == 100.0
    assert RunConfig(method="gdw").resolved_outer_lr(100) == 1000.0
    assert RunConfig(method="mwnet-step").resolved_outer_lr(10) == 10.0
    assert RunConfig(method="mwnet-step", outer_lr=3.0).resolved_outer_lr(10) == 3.0
    assert RunConfig(method="mwnet").resolved_outer_lr(10) is None


def test_a_toy_method_is_seen_by_config_cli_and_a_sweep(toy_method, tmp_path, capsys) -> None:
    assert RunConfig(method="toy").method == "toy"
    with pytest.raises(ConfigError, match="toy"):
        RunConfig(method="nope")
    help_text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    assert "toy (a toy copy of ERM)" in help_text
    out = tmp_path / "sweep"
    code = main(
        [
            "sweep",
            "--methods",
            "erm,toy",
            "--train-subset",
            "120",
            "--epochs",
            "1",
            "--seeds",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    summary = (out / "summary.md").read_text()
    assert "Toy method" in summary and "## Toy method minus ERM, paired by seed" in summary
    assert "What it measures: nothing at all." in summary


def test_a_toy_dataset_trains_and_is_described(toy_dataset, tmp_path, capsys) -> None:
    assert main(["describe", "--dataset", "toyset"]) == 0
    assert '"classes": [\n    "low",' in capsys.readouterr().out
    run_dir = run(RunConfig(data=DataConfig(dataset="toyset"), method="erm"), runs_dir=tmp_path)
    loaded = load_run(run_dir)
    assert loaded.epochs_done == 2 and loaded.config["resolved"]["model"] == "mlp"
    assert loaded.config["resolved"]["num_meta"] == 6
    parser_help = build_parser()._subparsers._group_actions[0].choices["describe"].format_help()
    assert "toyset (Toy data (6x6, 3 classes))" in " ".join(parser_help.split())


def test_a_toy_model_is_seen_by_config_cli_and_trains(toy_model, toy_dataset, tmp_path) -> None:
    assert RunConfig(model="toy-net").model == "toy-net"
    with pytest.raises(ConfigError, match="toy-net"):
        RunConfig(model="nope")
    help_text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    assert "toy-net (one linear layer on the mean brightness)" in " ".join(help_text.split())
    config = RunConfig(data=DataConfig(dataset="toyset"), method="gdw", model="toy-net")
    loaded = load_run(run(config, runs_dir=tmp_path))
    assert loaded.epochs_done == 2 and loaded.config["resolved"]["model"] == "toy-net"
    assert loaded.config["resolved"]["meta_gradient"] == "jvp"


def test_a_toy_weight_net_is_seen_by_config_cli_and_trains(
    toy_weight_net, toy_dataset, tmp_path, monkeypatch
) -> None:
    config = RunConfig(data=DataConfig(dataset="toyset"), weight_net="toy-weights", epochs=4)
    assert config.resolved_warmup_epochs == 2  # its registered fraction of the epochs
    with pytest.raises(ConfigError, match="toy-weights"):
        RunConfig(weight_net="nope")
    monkeypatch.setenv("COLUMNS", "1000")  # no help line is wrapped
    help_text = build_parser()._subparsers._group_actions[0].choices["sweep"].format_help()
    assert "toy-weights (one linear unit on the loss)" in help_text
    assert "0.5 of the epochs, rounded down, with toy-weights" in help_text
    assert isinstance(build_weight_net("toy-weights"), ToyWeightNet)
    args = ["train", "--dataset", "toyset", "--weight-net", "toy-weights", "--epochs", "4"]
    assert main([*args, "--runs-dir", str(tmp_path), "--name", "toy"]) == 0
    loaded = load_run(tmp_path / "toy")
    assert loaded.state == "completed" and loaded.config["config"]["weight_net"] == "toy-weights"
    assert loaded.warmup_epochs == 2


def test_the_sidebar_offers_registered_entries(
    toy_method, toy_dataset, toy_model, toy_weight_net, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("GDW_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Toy data (6x6, 3 classes)" in at.sidebar.selectbox(key="data_dataset").options
    assert "Toy net" in at.sidebar.selectbox(key="run_model").options
    nets = at.sidebar.selectbox(key="run_weight_net")
    assert toy_weight_net.label in nets.options and nets.value == "monotone"
    at.sidebar.selectbox(key="data_dataset").set_value("toyset").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("three brightness classes" in caption.value for caption in at.sidebar.caption)
    methods = at.get("button_group")
    assert any("Toy method" in str(group.proto) for group in methods)
    assert "Toy method" in " ".join(str(b.label) for b in at.sidebar.button)
