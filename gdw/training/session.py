"""A training session: everything a run trains with, built from its configuration alone.

The same configuration builds the same session (the data, the classifier's and the weighting
net's initial weights, the recorded examples, the seeds of the batch order and of the
augmentation), so a resumed run rebuilds exactly what it had. The factories a session is built
with are here too: :func:`build_model` and :func:`build_method`.
"""

from __future__ import annotations

import importlib.metadata
import math
import platform
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from gdw.config import ConfigError, RunConfig
from gdw.data.dataset import NoisyDataset, describe, load_dataset
from gdw.registry import dataset_spec, method_spec, model_ids, model_spec
from gdw.runs.recording import choose_recorded
from gdw.training.device import resolve_device
from gdw.weighting.methods import Method
from gdw.weighting.weight_net import build_weight_net

__all__ = [
    "Plan",
    "Session",
    "build_method",
    "build_model",
    "lr_schedule",
    "plan_run",
    "prepare_session",
    "resolve_model_name",
    "seeded_method",
]


def resolve_model_name(model: str, dataset: str) -> str:
    """``auto`` picks the dataset's default model (its entry in :mod:`gdw.registry`): the MLP
    on digits, the LeNet on MNIST and Fashion-MNIST, ResNet-8 on image folders and ResNet-32
    (the paper's) on CIFAR."""
    if model != "auto":
        return model
    return dataset_spec(dataset).default_model


def build_model(
    model: str, *, image_shape: tuple[int, int, int], n_classes: int, dataset: str = ""
) -> nn.Module:
    """Builds the classifier named ``model`` (or picked by ``dataset`` for ``auto``), by its
    entry in the model registry.

    Args:
        model: ``auto`` or a registered model (:func:`gdw.registry.model_ids`).
        image_shape: ``(channels, height, width)`` of one input image.
        n_classes: number of output logits.
        dataset: used only by ``auto``.
    """
    name = resolve_model_name(model, dataset)
    if name not in model_ids():
        raise ValueError(f"model {model!r} is not one of: auto, {', '.join(model_ids())}")
    return model_spec(name).builder(image_shape=image_shape, n_classes=n_classes)


def build_method(
    config: RunConfig,
    model: nn.Module,
    weight_net: nn.Module,
    *,
    n_classes: int,
    formulation: str = "jvp",
) -> Method:
    """The method ``config.method`` with its optimisers, every value from ``config``.

    SGD for the classifier (momentum, weight decay) and, for methods that learn from the meta
    set, Adam (weight decay 1e-4) for the weighting net, as in the paper. Both use fused
    kernels: one kernel per step instead of several per tensor.

    Args:
        config: the run's configuration (method, lr, momentum, weight decay, meta lr, outer lr
            and clip); :class:`RunConfig`'s defaults are the project's one set of defaults.
        model: the classifier, on its device.
        weight_net: the weighting network (unused by methods that do not learn from the meta
            set).
        n_classes: the classifier's outputs (for the method's default outer lr).
        formulation: ``jvp`` or ``double-backward``.
    """
    spec = method_spec(config.method)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        fused=True,
    )
    weight_optimizer = None
    if spec.learns_from_meta:
        weight_optimizer = torch.optim.Adam(
            weight_net.parameters(), lr=config.meta_lr, weight_decay=1e-4, fused=True
        )
    return spec.builder(
        model,
        optimizer,
        weight_net if spec.learns_from_meta else None,
        weight_optimizer,
        outer_lr=config.resolved_outer_lr(n_classes),
        clip=config.clip,
        formulation=formulation,
    )


def lr_schedule(
    optimizer: torch.optim.Optimizer, epochs: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """The classifier's learning-rate schedule over a run's ``epochs``: cosine annealing to 0,
    stepped once after each epoch."""
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)


@dataclass(frozen=True)
class Plan:
    """What a run's configuration resolves to on its data (``config.json``'s ``resolved``): the
    device, the model, the epochs and the warm-up epochs among them, the outer learning rate,
    the meta-gradient's formulation and the steps per epoch."""

    device: torch.device
    model: str
    epochs: int
    warmup_epochs: int
    outer_lr: float | None
    formulation: str
    steps: int


def plan_run(config: RunConfig, data: NoisyDataset, device: torch.device) -> Plan:
    """What ``config`` resolves to on ``data`` and ``device``; refuses a model too big for the
    images with :class:`~gdw.config.ConfigError`."""
    model = resolve_model_name(config.model, config.data.dataset)
    spec = model_spec(model)
    if min(data.image_shape[1:]) < spec.min_image_size:
        size = spec.min_image_size
        raise ConfigError(
            f"model {model!r} needs images of at least {size}x{size} pixels, got "
            f"{data.image_shape[1]}x{data.image_shape[2]}; use --model mlp"
        )
    formulation = config.meta_gradient
    if formulation == "auto":
        formulation = spec.meta_gradient
    return Plan(
        device=device,
        model=model,
        epochs=config.resolved_epochs,
        warmup_epochs=config.resolved_warmup_epochs,
        outer_lr=config.resolved_outer_lr(data.n_classes),
        formulation=formulation,
        steps=math.ceil(data.train_given.numel() / config.batch_size),  # the stepper's batches
    )


def seeded_method(config: RunConfig, plan: Plan, data: NoisyDataset, seed: int) -> Method:
    """The method of ``config`` around a classifier (and weighting net) whose initial weights
    are drawn from ``seed``, on the plan's device in train mode."""
    with torch.random.fork_rng(devices=[]):  # seeded weights without touching the global RNG
        torch.manual_seed(seed)
        model = build_model(plan.model, image_shape=data.image_shape, n_classes=data.n_classes)
        weight_net = build_weight_net(config.weight_net)
    return build_method(
        config,
        model.to(plan.device).train(),
        weight_net.to(plan.device),
        n_classes=data.n_classes,
        formulation=plan.formulation,
    )


def _versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        # The installed version, without importing torchvision (seconds: it loads torch._dynamo).
        "torchvision": importlib.metadata.version("torchvision"),
        "numpy": np.__version__,
    }


def _sources(data: NoisyDataset) -> np.ndarray:
    """Where each training example came from: its file relative to the data root, or its index
    in the source training split."""
    if data.train_sources:
        return np.asarray(data.train_sources, dtype=object)
    return data.train_source_index.numpy()


def _canaries(data: NoisyDataset) -> np.ndarray:
    canary = data.train_canary.numpy()
    return canary if canary.size else np.zeros(data.train_given.numel(), dtype=bool)


@dataclass(frozen=True)
class Session:
    """Everything a run trains with, built from its configuration alone (so a resumed run
    rebuilds exactly what it had)."""

    config: RunConfig
    data: NoisyDataset
    plan: Plan
    recorded: np.ndarray
    method: Method
    record: dict[str, Any]
    instances: dict[str, np.ndarray]
    order_seed: int
    augment_seed: int


def prepare_session(config: RunConfig, *, record_epochs: int | None = None) -> Session:
    """The session of ``config``. ``record_epochs``: the epochs the recorded examples are
    chosen for (:func:`~gdw.runs.recording.choose_recorded`; default: the configuration's). A
    run trained on to another number of epochs keeps the examples chosen when it started."""
    device = resolve_device(config.device)
    data = load_dataset(config.data)
    plan = plan_run(config, data, device)
    init_seed, order_seed, augment_seed, record_seed = np.random.SeedSequence(
        [config.seed, 1]
    ).generate_state(4)
    is_noisy = data.is_noisy.numpy()
    recorded = choose_recorded(
        is_noisy,
        n_classes=data.n_classes,
        epochs=record_epochs or plan.epochs,
        limit=config.record_limit,
        rng=np.random.default_rng(record_seed),
    )
    method = seeded_method(config, plan, data, int(init_seed))
    record = {
        "config": config.to_dict(),
        "resolved": {
            "epochs": plan.epochs,
            "warmup_epochs": plan.warmup_epochs,
            "outer_lr": plan.outer_lr,
            "model": plan.model,
            "num_meta": int(data.meta_labels.numel()),
            "meta_gradient": plan.formulation,
            "device": str(device),
            "steps_per_epoch": plan.steps,
        },
        "versions": _versions(),
        "classes": list(data.classes),
        "data_summary": describe(data),
        "recording": {
            "recorded": int(recorded.size),
            "total": int(is_noisy.size),
            "subset": bool(recorded.size < is_noisy.size),
            "note": (
                "every noisy example plus a seeded sample of clean ones"
                if recorded.size < is_noisy.size
                else "every training example"
            ),
        },
    }
    given_np, true_np = data.train_given.numpy(), data.train_true.numpy()
    instances = {
        "index": recorded,
        "given_label": given_np[recorded],
        "true_label": true_np[recorded],
        "is_noisy": is_noisy[recorded].astype(np.int8),
        "source": _sources(data)[recorded],
        "is_canary": _canaries(data)[recorded].astype(np.int8),
    }
    return Session(
        config, data, plan, recorded, method, record, instances, int(order_seed), int(augment_seed)
    )
