"""The stepper around a method's step: the batches and meta batches it draws, and a step that makes
no host round trip (on a GPU, the host would wait for the device): the normalisation constants,
the batch order and the meta-batch indices are on the device before the steps."""

from __future__ import annotations

import collections
import dataclasses
import math

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from gdw.config import RunConfig
from gdw.data.transforms import normalize
from gdw.training.bench import synthetic_dataset
from gdw.training.session import build_method, build_model
from gdw.training.stepper import Stepper
from gdw.weighting.methods import StepResult
from gdw.weighting.weight_net import build_weight_net

CPU = torch.device("cpu")
# What a step must not do, as torch's dispatcher names it: make a tensor from host data (on a
# GPU, a copy the host waits for), read a value back to the host, or draw a permutation.
HOST_WORK = ("aten.lift_fresh.default", "aten._local_scalar_dense.default", "aten.randperm")


class OpLog(TorchDispatchMode):
    """Counts the operations torch runs inside the block, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: collections.Counter[str] = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        self.ops[str(func)] += 1
        return func(*args, **(kwargs or {}))

    def host_work(self) -> dict[str, int]:
        return {op: n for op, n in self.ops.items() if op.startswith(HOST_WORK)}


def indexed_dataset(n_train: int, n_meta: int):
    """Grey 4x4 images whose first pixel is their index (so a batch says which examples it
    holds), normalised to exactly that value."""
    data = synthetic_dataset((1, 4, 4), n_train=n_train, n_meta=n_meta, n_classes=3, seed=0)
    data.train_images[:, 0, 0, 0] = torch.arange(n_train)
    data.meta_images[:, 0, 0, 0] = torch.arange(n_meta)
    return dataclasses.replace(data, mean=(0.0,), std=(1 / 255,))


class Recorder:
    """A method that changes nothing and records which examples each step got."""

    model = optimizer = None  # what the stepper's plain (warm-up) steps would train; none here

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.meta_batches: list[list[int]] = []

    def step(self, x, y, x_meta, y_meta) -> StepResult:  # type: ignore[no-untyped-def]
        self.batches.append(x[:, 0, 0, 0].round().long().tolist())
        self.meta_batches.append(x_meta[:, 0, 0, 0].round().long().tolist())
        n = len(y)
        return StepResult(
            loss=torch.zeros(()),
            logits=torch.zeros(n, 3),
            weights=torch.ones(n, 3),
            instance_weights=torch.ones(n),
            given_step=torch.zeros(n),
        )


def drawn_one_meta_permutation_at_a_time(n_train, n_meta, batch_size, epochs, seed):
    """The batches and meta batches of the stepper as it drew them when a step drew a meta-set
    permutation whenever its queue ran short: every run's results so far come from them."""
    gen = torch.Generator().manual_seed(seed)
    torch.randperm(n_train, generator=gen)  # drawn at construction, used by no epoch
    size, queue = min(batch_size, n_meta), torch.empty(0, dtype=torch.long)
    batches, meta_batches = [], []
    for _ in range(epochs):
        order = torch.randperm(n_train, generator=gen)
        for start in range(0, n_train, batch_size):
            batches.append(order[start : start + batch_size].tolist())
            if queue.numel() < size:
                queue = torch.cat([queue, torch.randperm(n_meta, generator=gen)])
            meta_batches.append(queue[:size].tolist())
            queue = queue[size:]
    return batches, meta_batches


@pytest.mark.parametrize(
    ("n_train", "n_meta", "batch_size"),
    [(45, 12, 10), (40, 25, 10), (30, 4, 8)],
    ids=["meta-set-a-little-larger", "meta-set-larger", "meta-set-smaller-than-a-batch"],
)
def test_the_meta_batches_drawn_once_an_epoch_are_the_ones_drawn_step_by_step(
    n_train, n_meta, batch_size
):
    recorder = Recorder()
    stepper = Stepper(
        recorder,  # type: ignore[arg-type]
        indexed_dataset(n_train, n_meta),
        batch_size=batch_size,
        device=CPU,
        order_seed=3,
        augment_seed=0,
    )
    for _ in range(3):
        stepper.begin_epoch()
        for step in range(1, math.ceil(n_train / batch_size) + 1):
            stepper.step(step)
        stepper.end_epoch()
    expected = drawn_one_meta_permutation_at_a_time(n_train, n_meta, batch_size, 3, seed=3)
    assert (recorder.batches, recorder.meta_batches) == expected


def test_normalize_with_tensor_constants_builds_no_tensor():
    images = torch.randint(0, 256, (4, 3, 5, 5), dtype=torch.uint8)
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    with OpLog() as per_call:
        expected = normalize(images, mean, std)
    assert per_call.host_work() == {"aten.lift_fresh.default": 2}  # the check sees them
    constants = [torch.tensor(values, dtype=torch.float32) for values in (mean, std)]
    with OpLog() as built_once:
        got = normalize(images, *constants)
    assert built_once.host_work() == {}
    assert built_once.ops["aten._to_copy.default"] == 1  # the images' to float; no constant's
    assert torch.equal(got, expected)


@pytest.mark.parametrize("method", ["erm", "gdw"])
def test_a_training_step_makes_no_host_round_trip(method):
    """CIFAR-shaped images (augmented), a meta set smaller than a batch (drawn many times an
    epoch): after ``begin_epoch``, a whole epoch of steps."""
    data = synthetic_dataset((3, 32, 32), n_train=30, n_meta=6, n_classes=3, seed=0)
    model = build_model("cnn", image_shape=(3, 32, 32), n_classes=3).train()
    stepper = Stepper(
        build_method(RunConfig(method=method), model, build_weight_net("monotone"), n_classes=3),
        data,
        batch_size=10,
        device=CPU,
        order_seed=0,
        augment_seed=0,
    )
    stepper.begin_epoch()
    with OpLog() as log:
        for step in (1, 2, 3):  # the epoch's steps
            stepper.step(step)
    assert log.ops["aten.convolution.default"] > 0  # the log saw the steps
    assert log.host_work() == {}
