"""The classifiers: output shapes, the names the configuration accepts, and that the LeNet
learns a few hundred real MNIST digits in seconds."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from gdw import MODELS, ConfigError, DataConfig, RunConfig, load_run, model_ids, run
from gdw.training.session import build_model, resolve_model_name
from gdw.weighting.weight_net import build_weight_net

SHARED_MNIST = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist"
RAW = "MNIST/raw"


MODEL_NAMES = model_ids()  # every classifier the registry builds


def test_config_accepts_exactly_the_models_that_can_be_built():
    assert MODELS == ("auto", *MODEL_NAMES)


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("lenet", (1, 28, 28)),
        ("lenet", (3, 32, 32)),
        ("resnet8", (3, 32, 32)),
        ("resnet14", (3, 32, 32)),
        ("resnet32", (3, 32, 32)),
    ],
    ids=["lenet-28-grey", "lenet-32-colour", "resnet8", "resnet14", "resnet32"],
)
def test_output_shape(name, shape):
    model = build_model(name, image_shape=shape, n_classes=7)
    assert model(torch.randn(5, *shape)).shape == (5, 7)


def test_resnet_depths():
    def convs(name):
        model = build_model(name, image_shape=(3, 32, 32), n_classes=10)
        return sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())

    # depth = convolutions + the linear head
    assert [convs(n) + 1 for n in ("resnet8", "resnet14", "resnet32")] == [8, 14, 32]


def test_auto_picks_lenet_for_mnist_and_resnet8_for_image_folders():
    assert resolve_model_name("auto", "mnist") == "lenet"
    assert resolve_model_name("auto", "fashion-mnist") == "lenet"
    assert resolve_model_name("auto", "imagefolder") == "resnet8"
    assert resolve_model_name("auto", "cifar10") == "resnet32"


def _copy_mnist_subset(target: Path, *, n_train: int, n_test: int) -> None:
    """The first images of the shared MNIST files, written back in the idx format."""
    source = SHARED_MNIST / RAW
    (target / RAW).mkdir(parents=True)
    for prefix, count in (("train", n_train), ("t10k", n_test)):
        for kind, header, item in (("images", 16, 28 * 28), ("labels", 8, 1)):
            name = f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
            path = source / name
            raw = (
                path.read_bytes()
                if path.exists()
                else gzip.decompress((source / f"{name}.gz").read_bytes())
            )
            head = bytearray(raw[:header])
            head[4:8] = count.to_bytes(4, "big")
            (target / RAW / name).write_bytes(bytes(head) + raw[header : header + count * item])


@pytest.mark.skipif(
    not (SHARED_MNIST / RAW).is_dir(),
    reason="the real MNIST files (../shared/data/mnist) are not beside the checkout",
)
def test_lenet_learns_real_mnist_digits(tmp_path: Path):
    _copy_mnist_subset(tmp_path / "mnist", n_train=1_100, n_test=500)
    config = RunConfig(
        data=DataConfig(dataset="mnist", data_root=str(tmp_path / "mnist"), num_meta=100),
        method="erm",
        model="auto",
        epochs=3,
        record_limit=0,
    )
    metrics = load_run(run(config, runs_dir=tmp_path / "runs")).metrics
    # 1,000 training images, 30 steps of the LeNet that auto picks for MNIST
    assert metrics["test_acc"].iloc[-1] > 0.85, metrics["test_acc"].tolist()
    assert np.isfinite(metrics["loss"]).all()


def test_train_help_names_every_model():
    from gdw.cli.flag_help import model_help

    MODEL_HELP = model_help()

    assert all(f"{name} (" in MODEL_HELP for name in MODELS)


@pytest.mark.parametrize("seed", range(5))
def test_the_monotone_weight_net_can_only_fall_with_the_loss(seed: int):
    torch.manual_seed(seed)
    net = build_weight_net("monotone")
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    losses = torch.linspace(0.0, 12.0, 200)
    for _ in range(30):  # any training keeps it so: here, pushed up at high losses
        optimizer.zero_grad()
        (-(net(losses) * losses).sum()).backward()
        optimizer.step()
        assert torch.all(net(losses).diff() <= 0)


def test_the_papers_weight_net_starts_with_a_slope_of_random_sign():
    slopes = set()
    for seed in range(10):
        torch.manual_seed(seed)
        weights = build_weight_net("paper")(torch.tensor([0.0, 5.0]))
        slopes.add(bool(weights[1] > weights[0]))
    assert slopes == {True, False}


def test_the_monotone_weight_net_starts_nearly_flat():
    torch.manual_seed(0)
    weights = build_weight_net("monotone-raw")(torch.tensor([0.0, 2.3, 5.0]))
    assert 0.4 < weights[0] < 0.6 and weights[2] > 0.1


@pytest.mark.parametrize("kind", ["monotone", "paper-normalised"])
def test_normalised_weights_have_mean_one_and_keep_their_order(kind: str):
    torch.manual_seed(1)
    raw = {"monotone": "monotone-raw", "paper-normalised": "paper"}[kind]
    losses = torch.rand(50) * 4
    torch.manual_seed(2)
    normalised = build_weight_net(kind)(losses)
    torch.manual_seed(2)
    plain = build_weight_net(raw)(losses)
    assert normalised.mean().item() == pytest.approx(1.0)
    assert torch.allclose(normalised, plain / plain.mean())


def test_a_run_recorded_before_the_choice_had_the_papers_net():
    record = RunConfig(method="mwnet").to_dict()
    assert RunConfig.from_dict(record).weight_net == "monotone"
    del record["weight_net"]
    assert RunConfig.from_dict(record).weight_net == "paper"


def test_the_warm_up_is_a_tenth_of_the_epochs_with_the_default_net_only():
    mnist = DataConfig(dataset="mnist")
    assert RunConfig(data=mnist).resolved_warmup_epochs == 1  # 10 epochs
    assert RunConfig(data=mnist, epochs=25).resolved_warmup_epochs == 2
    assert RunConfig(data=mnist, epochs=9).resolved_warmup_epochs == 0
    assert RunConfig(data=mnist, weight_net="paper").resolved_warmup_epochs == 0
    assert RunConfig(data=mnist, method="erm", warmup_epochs=3).resolved_warmup_epochs == 0
    assert RunConfig(data=mnist, weight_net="paper", warmup_epochs=3).resolved_warmup_epochs == 3
    with pytest.raises(ConfigError, match=r"fewer than the epochs \(10\), got 10"):
        RunConfig(data=mnist, warmup_epochs=10)
    with pytest.raises(ConfigError, match="warm-up epochs must be a whole number >= 0"):
        RunConfig(warmup_epochs=-1)


def test_a_run_recorded_before_the_warm_up_had_none():
    record = RunConfig(data=DataConfig(dataset="mnist")).to_dict()
    assert RunConfig.from_dict(record).resolved_warmup_epochs == 1
    del record["warmup_epochs"]
    assert RunConfig.from_dict(record).resolved_warmup_epochs == 0
