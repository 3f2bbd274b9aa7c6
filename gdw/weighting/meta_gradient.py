"""The exact meta-gradient of the class-level weights, and the weights one GDW step gives.

``G = dL_meta(theta') / dW`` for the virtual step ``theta' = theta - lr * g(theta; W)``. The
classifier is called functionally (``torch.func.functional_call``) for the virtual step; no copy
of the model is made and no "meta" layer classes exist. Two formulations give the same numbers:

- ``jvp``: one backward for the virtual step, the meta gradient at the virtual parameters, then
  one forward-mode Jacobian-vector product of the training logits along it
  (``G_ij = -(lr/N) e_ij <grad L_meta, dz_ij/dtheta>``), by forward-mode AD through
  ``functional_call`` (measured faster here than ``torch.func.jvp``, same numbers; the models'
  BatchNorm layers bring a cheaper exact rule of their own, :mod:`gdw.weighting.forward_mode`);
- ``double-backward``: the virtual step built with ``create_graph=True`` and differentiated
  through.

Which is faster depends on the model; ``python -m gdw bench`` measures it.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd import forward_ad
from torch.func import functional_call

from gdw.weighting.formulas import (
    broadcast_instance_weights,
    final_class_weights,
    label_error,
    meta_gradient_from_jvp,
    weighted_cotangent,
    zero_mean_target,
)

__all__ = [
    "FORMULATIONS",
    "batch_statistics_only",
    "class_level_weights",
    "virtual_meta_gradient",
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
        error: [N, C] label-wise error (see :func:`gdw.weighting.formulas.label_error`).
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


def class_level_weights(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x_meta: torch.Tensor,
    y_meta: torch.Tensor,
    instance_weights: torch.Tensor,
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
        instance_weights: [N] the instance weights ``v0`` the class-level step starts from
            (what the weighting net gives).
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
                broadcast_instance_weights(instance_weights.detach(), logits.shape[1]), probs, y
            )
            meta_grad = virtual_meta_gradient(
                model, logits, x, error, weights, x_meta, y_meta, lr=lr, formulation=formulation
            )
        return final_class_weights(weights, meta_grad, probs, y, outer_lr=outer_lr, clip=clip)
    finally:
        model.train(was_training)
