"""``python -m gdw bench``: how long one training step of each method takes.

The methods are interleaved step by step (erm, mwnet, gdw, erm, ...) on the same batches, and
each ratio to ERM is the median of the per-round ratios, so the ratios hold when a shared
machine's speed drifts during the measurement.
"""

from __future__ import annotations

import copy
import statistics
import time
from typing import Any

import torch

from gdw.config import ConfigError
from gdw.device import resolve_device
from gdw.methods import ERM, GDW, FORMULATIONS, MWNet
from gdw.models import WeightNet, build_model
from gdw.trainer import AUTO_FORMULATION

__all__ = ["BENCH_SHAPES", "benchmark"]

BENCH_SHAPES = {"mlp": (1, 8, 8), "cnn": (1, 28, 28), "resnet32": (3, 32, 32)}
"""Input shape per model: digits, MNIST-sized and CIFAR-sized images."""


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


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
    """Times full training steps of ERM, MW-Net and GDW on one model, batch and meta batch.

    Returns:
        A JSON-ready record: ``device, model, batch_size, threads, meta_gradient, steps,
        ms_per_step`` (median per method) and ``ratio_to_erm`` (median per-round ratio).
    """
    if model not in BENCH_SHAPES:
        raise ConfigError(f"model {model!r} is not one of: {', '.join(BENCH_SHAPES)}")
    if batch_size < 1 or steps < 1 or warmup < 0:
        raise ConfigError("batch size and steps must be >= 1 and warm-up >= 0")
    formulation = AUTO_FORMULATION[model] if meta_gradient == "auto" else meta_gradient
    if formulation not in FORMULATIONS:
        raise ConfigError(f"meta gradient {meta_gradient!r} is not one of: auto, jvp, double-backward")
    dev = resolve_device(device)
    gen = torch.Generator().manual_seed(seed)
    shape = BENCH_SHAPES[model]
    x = torch.randn(batch_size, *shape, generator=gen).to(dev)
    y = torch.randint(0, n_classes, (batch_size,), generator=gen).to(dev)
    x_meta = torch.randn(batch_size, *shape, generator=gen).to(dev)
    y_meta = torch.randint(0, n_classes, (batch_size,), generator=gen).to(dev)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        base = build_model(model, image_shape=shape, n_classes=n_classes).to(dev).train()
        base_net = WeightNet().to(dev)

    def sgd(net: torch.nn.Module) -> torch.optim.Optimizer:
        return torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)

    def meta_parts() -> tuple[torch.nn.Module, torch.nn.Module, torch.optim.Optimizer]:
        net, weight_net = copy.deepcopy(base), copy.deepcopy(base_net)
        return net, weight_net, torch.optim.Adam(weight_net.parameters(), lr=1e-3)

    erm_model = copy.deepcopy(base)
    mw_model, mw_net, mw_opt = meta_parts()
    gdw_model, gdw_net, gdw_opt = meta_parts()
    methods = {
        "erm": ERM(erm_model, sgd(erm_model)),
        "mwnet": MWNet(mw_model, sgd(mw_model), mw_net, mw_opt, formulation=formulation),
        "gdw": GDW(gdw_model, sgd(gdw_model), gdw_net, gdw_opt, outer_lr=100.0, clip=0.2,
                   formulation=formulation),
    }  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in methods}
    for round_ in range(warmup + steps):
        for name, method in methods.items():
            _sync(dev)
            began = time.perf_counter()
            method.step(x, y, x_meta, y_meta)
            _sync(dev)
            if round_ >= warmup:
                times[name].append((time.perf_counter() - began) * 1000.0)
    ratios = {
        name: statistics.median(t / e for t, e in zip(times[name], times["erm"]))
        for name in ("mwnet", "gdw")
    }
    return {
        "device": str(dev),
        "model": model,
        "batch_size": batch_size,
        "threads": torch.get_num_threads(),
        "meta_gradient": formulation,
        "steps": steps,
        "ms_per_step": {name: round(statistics.median(t), 3) for name, t in times.items()},
        "ratio_to_erm": {name: round(r, 3) for name, r in ratios.items()},
    }
