"""One training step of ERM, MW-Net, GDW and the ``mwnet-step`` ablation (docs/algorithm.md),
behind one small interface (their entries in the method registry are in
:mod:`gdw.training.method_table`).

The classifier is called functionally (``torch.func.functional_call``) for the virtual step; no
copy of the model is made and no "meta" layer classes exist. The meta-gradient with respect to
the class-level weights is exact, by one of two formulations that give the same numbers:

- ``jvp``: one backward for the virtual step, the meta gradient at the virtual parameters, then
  one forward-mode Jacobian-vector product of the training logits along it
  (``G_ij = -(lr/N) e_ij <grad L_meta, dz_ij/dtheta>``), by forward-mode AD through
  ``functional_call`` (measured faster here than ``torch.func.jvp``, same numbers; the
  models' BatchNorm layers bring a cheaper exact rule of their own, ``gdw.training.forward_mode``);
- ``double-backward``: the virtual step built with ``create_graph=True`` and differentiated
  through.

Which is faster depends on the model; ``python -m gdw bench`` measures it.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd import forward_ad
from torch.func import functional_call

from gdw.config import RunConfig
from gdw.registry import method_spec
from gdw.training.weighting import (
    broadcast_instance_weights,
    clamp_weights,
    final_class_weights,
    label_error,
    meta_gradient_from_jvp,
    outer_step,
    stepped_class_weights,
    target_change,
    weighted_cotangent,
    zero_mean_target,
)

__all__ = [
    "FORMULATIONS",
    "StepResult",
    "Method",
    "ERM",
    "MWNet",
    "GDW",
    "MWNetStep",
    "build_method",
    "batch_statistics_only",
    "virtual_meta_gradient",
    "class_level_weights",
]

FORMULATIONS = ("jvp", "double-backward")


@functools.cache
def _load_forward_ad_rules() -> None:
    """Loads torch's forward-mode rules once, hiding the deprecation warning torch itself
    triggers on first use (it scripts them with ``torch.jit.script``); not our code to fix."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", FutureWarning)
        with forward_ad.dual_level():
            forward_ad.make_dual(torch.zeros(1), torch.zeros(1))


@dataclass(frozen=True)
class StepResult:
    """What one step reports, all detached.

    Attributes:
        loss: [] mean cross-entropy of the batch against its given labels, before the step.
        logits: [N, C] the training logits of the step's forward.
        weights: [N, C] the class-level weights of the real update (ones for ERM).
        base_weights: [N] the first-stage instance weight ``v0``: the weighting net's output
            before its update in this step, which GDW's class-level step starts from (ones for
            ERM), so ``weights / base_weights`` shows what a method's second stage changed.
        given_step: [N] how far the outer step moved the given-class weight, before the clamp
            to ``[1e-6, 1e6]`` (:func:`gdw.training.weighting.target_change`); zeros for a method
            without an outer step (ERM, MW-Net).
    """

    loss: torch.Tensor
    logits: torch.Tensor
    weights: torch.Tensor
    base_weights: torch.Tensor
    given_step: torch.Tensor


class Method(Protocol):
    """A weighting method: owns its optimisers and updates the classifier in place."""

    model: nn.Module
    optimizer: torch.optim.Optimizer

    def step(
        self, x: torch.Tensor, y: torch.Tensor, x_meta: torch.Tensor, y_meta: torch.Tensor
    ) -> StepResult: ...


@contextmanager
def batch_statistics_only(model: nn.Module) -> Iterator[None]:
    """Train-mode forwards inside use batch statistics and leave running statistics untouched.

    ``torch.func.jvp`` refuses the in-place running-statistic updates of BatchNorm, and the
    virtual and meta forwards must not move the real model's statistics anyway.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    tracked = [m.track_running_stats for m in norms]
    for module in norms:
        module.track_running_stats = False
    try:
        yield
    finally:
        for module, flag in zip(norms, tracked):
            module.track_running_stats = flag


def _call(model: nn.Module, tensors: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``model(x)`` with ``tensors`` in place of its parameters. Our models tie no weights, so
    the untying pass is skipped: tens of microseconds a call, which a small model notices."""
    return functional_call(model, tensors, (x,), tie_weights=False)


def virtual_meta_gradient(
    model: nn.Module,
    logits: torch.Tensor,
    x: torch.Tensor,
    error: torch.Tensor,
    weights: torch.Tensor,
    x_meta: torch.Tensor,
    y_meta: torch.Tensor,
    *,
    lr: float,
    formulation: str = "jvp",
) -> torch.Tensor:
    """``G = dL_meta(theta') / dW`` for ``theta' = theta - lr * g(theta; W)``.

    Args:
        model: the classifier at theta, in train mode.
        logits: [N, C] its logits on ``x``, with their graph to the parameters (kept).
        x: the training batch the logits came from.
        error: [N, C] label-wise error (see :func:`gdw.training.weighting.label_error`).
        weights: [N, C] class-level weights W (treated as independent variables).
        x_meta, y_meta: the clean meta batch.
        lr: learning rate of the virtual SGD step.
        formulation: ``jvp`` or ``double-backward``.

    Returns:
        G, [N, C].
    """
    names, params = zip(*[(n, p) for n, p in model.named_parameters() if p.requires_grad])
    if formulation == "jvp":
        cotangent = weighted_cotangent(weights.detach(), error)
        grads = torch.autograd.grad(logits, params, cotangent, retain_graph=True)
        with torch.no_grad():
            virtual = {
                n: p.add(g, alpha=-lr).requires_grad_() for n, p, g in zip(names, params, grads)
            }
        with batch_statistics_only(model):
            meta_loss = F.cross_entropy(_call(model, virtual, x_meta), y_meta)
            direction = torch.autograd.grad(meta_loss, tuple(virtual.values()))
            _load_forward_ad_rules()
            with forward_ad.dual_level():
                duals = {
                    n: forward_ad.make_dual(p.detach(), t)
                    for n, p, t in zip(names, params, direction)
                }
                logits_jvp = forward_ad.unpack_dual(_call(model, duals, x)).tangent
        return meta_gradient_from_jvp(error, logits_jvp, lr)
    if formulation == "double-backward":
        free = weights.detach().requires_grad_()
        grads = torch.autograd.grad(
            logits, params, weighted_cotangent(free, error), create_graph=True
        )
        virtual = {n: p - lr * g for n, p, g in zip(names, params, grads)}
        with batch_statistics_only(model):
            meta_loss = F.cross_entropy(_call(model, virtual, x_meta), y_meta)
        (meta_grad,) = torch.autograd.grad(meta_loss, free)
        return meta_grad
    raise ValueError(f"formulation {formulation!r} is not one of: {', '.join(FORMULATIONS)}")


def _apply_weighted_step(
    optimizer: torch.optim.Optimizer,
    model: nn.Module,
    logits: torch.Tensor,
    weights: torch.Tensor,
    error: torch.Tensor,
) -> None:
    """The real step: ``g(theta; W)`` by one vector-Jacobian product, then the optimiser."""
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(logits, params, weighted_cotangent(weights, error))
    for param, grad in zip(params, grads):
        param.grad = grad
    optimizer.step()


def _learning_rate(optimizer: torch.optim.Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])


class ERM:
    """Plain cross-entropy SGD: every class-level weight is one."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model = model
        self.optimizer = optimizer

    def step(
        self, x: torch.Tensor, y: torch.Tensor, x_meta: torch.Tensor, y_meta: torch.Tensor
    ) -> StepResult:
        logits = self.model(x)
        loss = F.cross_entropy(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        logits = logits.detach()
        ones = torch.ones_like(logits)
        return StepResult(loss.detach(), logits, ones, ones[:, 0], torch.zeros_like(ones[:, 0]))


class _MetaWeighted:
    """Shared step of MW-Net, GDW and ``mwnet-step``: weights from the weighting net, a virtual
    step, the meta-gradient, a weighting-net update, then the real step with the final weights.

    The weighting net gives one weight ``v_i`` per example; a method spreads it over the
    classes as ``W_ij = v_i * spread_ij`` (MW-Net: ones; GDW: ones with the target entry set by
    the zero-mean constraint, which is linear in ``v_i``). So the weighting net's gradient is
    ``dL/dv_i = sum_j G_ij spread_ij`` by the chain rule, and autograd need only run through the
    weighting net itself.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        weight_net: nn.Module,
        weight_optimizer: torch.optim.Optimizer,
        *,
        formulation: str = "jvp",
    ) -> None:
        if formulation not in FORMULATIONS:
            raise ValueError(
                f"formulation {formulation!r} is not one of: {', '.join(FORMULATIONS)}"
            )
        self.model = model
        self.optimizer = optimizer
        self.weight_net = weight_net
        self.weight_optimizer = weight_optimizer
        self.formulation = formulation

    def _spread(self, probs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _final_weights(
        self,
        weights: torch.Tensor,
        meta_grad: torch.Tensor,
        probs: torch.Tensor,
        y: torch.Tensor,
        losses: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The weights of the real step [N, C] and how far the outer step moved the given-class
        weight [N] (see :class:`StepResult`)."""
        raise NotImplementedError

    def step(
        self, x: torch.Tensor, y: torch.Tensor, x_meta: torch.Tensor, y_meta: torch.Tensor
    ) -> StepResult:
        logits = self.model(x)  # the one real forward; moves BatchNorm running statistics once
        probs, error = label_error(logits, y)
        losses = F.cross_entropy(logits.detach(), y, reduction="none")
        init = self.weight_net(losses)  # [N], with its graph to the weighting net
        spread = self._spread(probs, y)  # [N, C]
        weights = init.detach().unsqueeze(1) * spread
        meta_grad = virtual_meta_gradient(
            self.model,
            logits,
            x,
            error,
            weights,
            x_meta,
            y_meta,
            lr=_learning_rate(self.optimizer),
            formulation=self.formulation,
        )
        self.weight_optimizer.zero_grad(set_to_none=True)
        init.backward((meta_grad * spread).sum(1))
        self.weight_optimizer.step()
        final, given_step = self._final_weights(weights, meta_grad, probs, y, losses)
        _apply_weighted_step(self.optimizer, self.model, logits, final, error)
        return StepResult(losses.mean(), logits.detach(), final, init.detach(), given_step)


class MWNet(_MetaWeighted):
    """Meta-Weight-Net: one weight per example, from the updated weighting net."""

    def _spread(self, probs, y):  # type: ignore[override]
        return torch.ones_like(probs)

    def _final_weights(self, weights, meta_grad, probs, y, losses):  # type: ignore[override]
        with torch.no_grad():
            updated = self.weight_net(losses)
        return broadcast_instance_weights(updated, probs.shape[1]), torch.zeros_like(updated)


class GDW(_MetaWeighted):
    """Generalized Data Weighting: one weight per class per example, moved by one normalised,
    clipped step along the meta-gradient, under the zero-mean constraint."""

    def __init__(self, *args, outer_lr: float, clip: float, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.outer_lr = outer_lr
        self.clip = clip

    def _spread(self, probs, y):  # type: ignore[override]
        return zero_mean_target(torch.ones_like(probs), probs, y)

    def _final_weights(self, weights, meta_grad, probs, y, losses):  # type: ignore[override]
        step = outer_step(meta_grad, outer_lr=self.outer_lr, clip=self.clip)
        return stepped_class_weights(weights, step, probs, y), target_change(step, probs, y)


class MWNetStep(GDW):
    """The ``mwnet-step`` ablation: GDW's outer step on one weight per example.

    As GDW, it starts from the weighting net's output *before* its update (``v0``) and moves it
    by one normalised, clipped step along the meta-gradient, but per example:
    ``g_i = sum_j G_ij``, ``v_i = clamp(v0_i - clip(outer_lr * g_i / sum_k |g_k|))``, broadcast
    over the classes. So GDW minus ``mwnet-step`` is what class-level granularity adds, and
    ``mwnet-step`` minus MW-Net what the outer step adds.
    """

    def _spread(self, probs, y):  # type: ignore[override]
        return torch.ones_like(probs)  # equal weights already meet the zero-mean constraint

    def _final_weights(self, weights, meta_grad, probs, y, losses):  # type: ignore[override]
        step = outer_step(meta_grad.sum(1), outer_lr=self.outer_lr, clip=self.clip)
        instance = clamp_weights(weights[:, 0] - step)
        return broadcast_instance_weights(instance, probs.shape[1]), -step


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


def class_level_weights(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x_meta: torch.Tensor,
    y_meta: torch.Tensor,
    init: torch.Tensor,
    *,
    lr: float,
    outer_lr: float,
    clip: float,
    formulation: str = "jvp",
) -> torch.Tensor:
    """The final class-level weights W [N, C] of one GDW step, without taking the step.

    The model is used as in the step (train mode, batch statistics) and left exactly as it was:
    parameters, gradients, buffers and BatchNorm running statistics.

    Args:
        model: the classifier.
        x, y: training batch and its given labels [N].
        x_meta, y_meta: clean meta batch.
        init: [N] initial instance weights (what the weighting net gives).
        lr: learning rate of the virtual step.
        outer_lr, clip: the outer update of the class-level weights.
        formulation: ``jvp`` or ``double-backward`` (same numbers).
    """
    was_training = model.training
    model.train()
    try:
        with batch_statistics_only(model):
            logits = model(x)
            probs, error = label_error(logits, y)
            weights = zero_mean_target(
                broadcast_instance_weights(init.detach(), logits.shape[1]), probs, y
            )
            meta_grad = virtual_meta_gradient(
                model, logits, x, error, weights, x_meta, y_meta, lr=lr, formulation=formulation
            )
        return final_class_weights(weights, meta_grad, probs, y, outer_lr=outer_lr, clip=clip)
    finally:
        model.train(was_training)
