"""Training on every device present: short end-to-end runs, steps that never wait for the GPU,
and runs resumed on another device. Where there is no CUDA GPU the GPU cases are skipped,
saying so, so that the first machine with one checks them."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from gdw import DataConfig, RunConfig, TrainingSink, load_run, method_ids, resume, run
from gdw.training.bench import synthetic_dataset
from gdw.training.session import build_method, build_model
from gdw.training.stepper import Stepper
from gdw.weighting.weight_net import build_weight_net

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU; this machine has none"
)


def cifar_shaped(torchvision_root) -> DataConfig:
    """Tiny CIFAR-10 files: 32x32 colour images, so the augmentation runs on the device."""
    return DataConfig(
        dataset="cifar10",
        data_root=str(torchvision_root("cifar10")),
        num_meta=20,
        noise="flip",
        noise_rate=0.2,
    )


class StopInEpochTwo(TrainingSink):
    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        if epoch == 2:
            self.event.set()


@pytest.mark.parametrize("dataset", ["digits", "cifar10"])
def test_a_short_gdw_run_completes_on_the_device(tmp_path, torchvision_root, device, dataset):
    data = (
        cifar_shaped(torchvision_root)
        if dataset == "cifar10"
        else DataConfig(noise="uniform", noise_rate=0.4, train_subset=300)
    )
    model = "cnn" if dataset == "cifar10" else "auto"
    config = RunConfig(data=data, model=model, epochs=2, batch_size=50, device=device.type)
    loaded = load_run(run(config, runs_dir=tmp_path))
    assert loaded.state == "completed" and loaded.epochs_done == 2
    assert loaded.config["resolved"]["device"] == device.type
    assert loaded.metrics["test_acc"].between(0, 1).all()
    assert np.isfinite(np.load(loaded.path / "weights.npy")).all()


@needs_cuda
@pytest.mark.parametrize("method", method_ids())
def test_a_training_step_never_waits_for_the_gpu(method):
    """CUDA's sync debug mode raises on anything that makes the host wait for the GPU (a copy
    from the host, a value read back). The first step, which sets up CUDA's libraries, is run
    before the check; the epoch's other steps run under it."""
    cuda = torch.device("cuda")
    data = synthetic_dataset((3, 32, 32), n_train=40, n_meta=6, n_classes=3, seed=0)
    model = build_model("cnn", image_shape=(3, 32, 32), n_classes=3).to(cuda).train()
    weight_net = build_weight_net("monotone").to(cuda)
    method_ = build_method(RunConfig(method=method), model, weight_net, n_classes=3)
    stepper = Stepper(method_, data, batch_size=10, device=cuda, order_seed=0, augment_seed=0)
    stepper.begin_epoch()
    stepper.step(1)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step in (2, 3, 4):
            stepper.step(step)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert stepper.first_bad_step() == -1


@needs_cuda
@pytest.mark.parametrize(("first", "then"), [("cuda", "cpu"), ("cpu", "cuda")])
def test_a_run_resumes_on_the_other_device(tmp_path, torchvision_root, first, then):
    """The augmentation generator's state of one device does not fit the other's: the run goes
    on with a reseeded one, and ends completed."""
    config = RunConfig(
        data=cifar_shaped(torchvision_root), model="cnn", epochs=3, batch_size=50, device=first
    )
    stop = threading.Event()
    part = run(config, runs_dir=tmp_path, stop_event=stop, sinks=[StopInEpochTwo(stop)])
    assert load_run(part).state == "stopped" and load_run(part).epochs_done == 1
    resume(part, device=then)
    resumed = load_run(part)
    assert resumed.state == "completed" and resumed.epochs_done == 3
