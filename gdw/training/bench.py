"""``python -m gdw bench``: how long one training step of each method takes.

Every registered method is timed; they are interleaved step by step (erm, mwnet, mwnet-step,
gdw, erm, ...) on the same batches, and each ratio to ERM is the median of the per-round
ratios, so the ratios hold when a shared machine's speed drifts during the measurement. ERM is
also timed without recording each example's weights and scores (beside ERM's recording step,
in turn first): their ratio is what recording costs a step.
"""

from __future__ import annotations

import copy
import statistics
import time
from typing import Any

import torch

from gdw.config import ConfigError, RunConfig
from gdw.data.dataset import NoisyDataset
from gdw.registry import method_ids, model_ids, model_spec
from gdw.training.device import resolve_device
from gdw.training.session import build_method, build_model
from gdw.training.stepper import Stepper
from gdw.weighting.meta_gradient import FORMULATIONS
from gdw.weighting.weight_net import build_weight_net

__all__ = ["benchmark", "synthetic_dataset"]

UNRECORDED = "erm, not recording"
"""ERM's step without keeping each example's weights, prediction and margin: what the label-error
ranking's scores cost a step is ERM's time over this one's, minus 1."""


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def synthetic_dataset(
    image_shape: tuple[int, int, int], *, n_train: int, n_meta: int, n_classes: int, seed: int
) -> NoisyDataset:
    """Random uint8 images and labels of a real dataset's shape, with its augmentation."""
    gen = torch.Generator().manual_seed(seed)

    def images(n: int) -> torch.Tensor:
        return torch.randint(0, 256, (n, *image_shape), generator=gen, dtype=torch.uint8)

    labels = torch.randint(0, n_classes, (n_train,), generator=gen)
    channels = image_shape[0]
    return NoisyDataset(
        name="synthetic",
        classes=tuple(str(c) for c in range(n_classes)),
        train_images=images(n_train),
        train_given=labels,
        train_true=labels.clone(),
        train_source_index=torch.arange(n_train),
        meta_images=images(n_meta),
        meta_labels=torch.arange(n_meta) % n_classes,
        meta_source_index=torch.full((n_meta,), -1),
        test_images=images(0),
        test_labels=torch.zeros(0, dtype=torch.long),
        mean=(0.5,) * channels,
        std=(0.25,) * channels,
        augment=image_shape == (3, 32, 32),
    )


def benchmark(
    *,
    model: str,
    batch_size: int,
    steps: int,
    device: str = "auto",
    warmup: int = 3,
    n_classes: int = 10,
    meta_gradient: str = "auto",
    seed: int = 0,
) -> dict[str, Any]:
    """Times full training steps of every registered method on one model, batch and meta batch.

    A step is :meth:`gdw.training.stepper.Stepper.step`, exactly as in training: batch and
    meta-batch fetch, augmentation and normalisation, the method's step, and the epoch bookkeeping.
    The steppers start from the same weights and draw the same batches.

    Returns:
        A JSON-ready record: ``device, model, batch_size, threads, meta_gradient, steps,
        ms_per_step`` (median per method, and of :data:`UNRECORDED`), ``ratio_to_erm`` (median
        per-round ratio) and ``recording_overhead``: ERM's step over the same step without
        recording (median per-round ratio) minus 1, the share of a step that the per-example
        scores of the label-error ranking cost.
    """
    if model not in model_ids():
        raise ConfigError(f"model {model!r} is not one of: {', '.join(model_ids())}")
    if batch_size < 1 or steps < 1 or warmup < 0 or n_classes < 2:
        raise ConfigError("batch size and steps must be >= 1, warm-up >= 0 and classes >= 2")
    spec = model_spec(model)
    formulation = spec.meta_gradient if meta_gradient == "auto" else meta_gradient
    if formulation not in FORMULATIONS:
        raise ConfigError(
            f"meta gradient {meta_gradient!r} is not one of: auto, {', '.join(FORMULATIONS)}"
        )
    dev = resolve_device(device)
    shape = spec.bench_shape
    data = synthetic_dataset(
        shape, n_train=4 * batch_size, n_meta=batch_size, n_classes=n_classes, seed=seed
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        base = build_model(model, image_shape=shape, n_classes=n_classes)
        base_net = build_weight_net(RunConfig().weight_net)

    def make_stepper(method: str, *, record: bool = True) -> Stepper:
        built = build_method(
            RunConfig(method=method),
            copy.deepcopy(base).to(dev).train(),
            copy.deepcopy(base_net).to(dev),
            n_classes=n_classes,
            formulation=formulation,
        )
        return Stepper(
            built,
            data,
            batch_size=batch_size,
            device=dev,
            order_seed=seed,
            augment_seed=seed,
            record=record,
        )

    steppers = {"erm": make_stepper("erm"), UNRECORDED: make_stepper("erm", record=False)}
    steppers |= {name: make_stepper(name) for name in method_ids() if name != "erm"}
    names = list(steppers)
    times: dict[str, list[float]] = {name: [] for name in steppers}
    for round_ in range(warmup + steps):
        step = round_ % 4 + 1
        # ERM with and without recording run next to each other, in turn first, so that neither
        # is always the one after the machine's drift or the other methods' memory traffic
        order = names if round_ % 2 == 0 else [names[1], names[0], *names[2:]]
        for name in order:
            stepper = steppers[name]
            if step == 1:
                stepper.begin_epoch()
            _sync(dev)
            began = time.perf_counter()
            stepper.step(step)
            _sync(dev)
            if round_ >= warmup:
                times[name].append((time.perf_counter() - began) * 1000.0)
    ratios = {
        name: statistics.median(t / e for t, e in zip(times[name], times["erm"]))
        for name in steppers
        if name != "erm"
    }
    recording = 1.0 / ratios.pop(UNRECORDED) - 1.0
    return {
        "device": str(dev),
        "model": model,
        "batch_size": batch_size,
        "threads": torch.get_num_threads(),
        "meta_gradient": formulation,
        "steps": steps,
        "ms_per_step": {name: round(statistics.median(t), 3) for name, t in times.items()},
        "ratio_to_erm": {name: round(r, 3) for name, r in ratios.items()},
        "recording_overhead": round(recording, 3),
    }
