"""One training step of ERM, MW-Net, GDW and the ``mwnet-step`` ablation (docs/algorithm.md),
behind one small interface (their entries in the method registry are in
:mod:`gdw.weighting.method_table`; the meta-gradient they share, in
:mod:`gdw.weighting.meta_gradient`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn

from gdw.weighting.formulas import (
    broadcast_instance_weights,
    clamp_weights,
    given_step,
    label_error,
    outer_step,
    stepped_class_weights,
    weighted_cotangent,
    zero_mean_target,
)
from gdw.weighting.meta_gradient import FORMULATIONS, virtual_meta_gradient

__all__ = [
    "StepResult",
    "Method",
    "ERM",
    "MWNet",
    "GDW",
    "MWNetStep",
]


@dataclass(frozen=True)
class StepResult:
    """What one step reports, all detached.

    Attributes:
        loss: [] mean cross-entropy of the batch against its given labels, before the step.
        logits: [N, C] the training logits of the step's forward.
        weights: [N, C] the class-level weights of the real update (ones for ERM).
        instance_weights: [N] the instance weight ``v0``: the weighting net's output before
            its update in this step, which GDW's class-level step starts from (ones for ERM), so
            ``weights / instance_weights`` shows what a method's second stage changed.
        given_step: [N] how far the outer step moved the given-class weight, before the clamp
            to ``[1e-6, 1e6]`` (:func:`gdw.weighting.formulas.given_step`); zeros for a method
            without an outer step (ERM, MW-Net).
    """

    loss: torch.Tensor
    logits: torch.Tensor
    weights: torch.Tensor
    instance_weights: torch.Tensor
    given_step: torch.Tensor


class Method(Protocol):
    """A weighting method: owns its optimisers and updates the classifier in place."""

    model: nn.Module
    optimizer: torch.optim.Optimizer

    def step(
        self, x: torch.Tensor, y: torch.Tensor, x_meta: torch.Tensor, y_meta: torch.Tensor
    ) -> StepResult: ...


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

    The weighting net gives each example its instance weight ``v0_i``; a method spreads it over
    the classes as ``W_ij = v0_i * spread_ij`` (MW-Net: ones; GDW: ones with the target entry set
    by the zero-mean constraint, which is linear in ``v0_i``). So the weighting net's gradient is
    ``dL/dv0_i = sum_j G_ij spread_ij`` by the chain rule, and autograd need only run through the
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
        instance_weights = self.weight_net(losses)  # [N], with its graph to the weighting net
        spread = self._spread(probs, y)  # [N, C]
        weights = instance_weights.detach().unsqueeze(1) * spread
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
        instance_weights.backward((meta_grad * spread).sum(1))
        self.weight_optimizer.step()
        final, given_step = self._final_weights(weights, meta_grad, probs, y, losses)
        _apply_weighted_step(self.optimizer, self.model, logits, final, error)
        return StepResult(
            losses.mean(), logits.detach(), final, instance_weights.detach(), given_step
        )


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
        return stepped_class_weights(weights, step, probs, y), given_step(step, probs, y)


class MWNetStep(GDW):
    """The ``mwnet-step`` ablation: GDW's outer step on one weight per example.

    As GDW, it starts from the instance weight ``v0``, the weighting net's output *before* its
    update, and moves it by one normalised, clipped step along the meta-gradient, but per example:
    ``g_i = sum_j G_ij``, ``v_i = clamp(v0_i - clip(outer_lr * g_i / sum_k |g_k|))``, broadcast
    over the classes. So GDW minus ``mwnet-step`` is what class-level granularity adds, and
    ``mwnet-step`` minus MW-Net what the outer step adds.
    """

    def _spread(self, probs, y):  # type: ignore[override]
        return torch.ones_like(probs)  # equal weights already meet the zero-mean constraint

    def _final_weights(self, weights, meta_grad, probs, y, losses):  # type: ignore[override]
        step = outer_step(meta_grad.sum(1), outer_lr=self.outer_lr, clip=self.clip)
        stepped = clamp_weights(weights[:, 0] - step)
        return broadcast_instance_weights(stepped, probs.shape[1]), -step
