"""The weighting math of GDW as pure functions over tensors (docs/algorithm.md).

Notation: a batch of N examples and C classes; ``probs`` [N, C] are the softmax outputs, clamped
to at most 0.999 and detached; ``error`` [N, C] is ``e_ij = p_ij - [j == y_i]``, the gradient of
the cross-entropy with respect to the logits. A weight matrix W [N, C] scales each class-level
gradient flow ``e_ij * dz_ij/dtheta``: ERM uses ones, instance weighting repeats one weight per
row, GDW keeps one weight per class per example. No state, no optimisers, no I/O.
"""

from __future__ import annotations

import torch

__all__ = [
    "PROB_CLAMP",
    "WEIGHT_MIN",
    "WEIGHT_MAX",
    "label_error",
    "batch_normalised",
    "broadcast_instance_weights",
    "zero_mean_target",
    "weighted_cotangent",
    "outer_step",
    "given_step",
    "clamp_weights",
    "final_class_weights",
    "stepped_class_weights",
    "meta_gradient_from_jvp",
]

PROB_CLAMP = 0.999
WEIGHT_MIN = 1e-6
WEIGHT_MAX = 1e6


def label_error(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Clamped probabilities and label-wise error of a batch.

    Args:
        logits: [N, C].
        labels: [N] given labels.

    Returns:
        ``(probs, error)``, both [N, C] and detached: ``probs = min(softmax(logits), 0.999)``,
        ``error = probs - onehot(labels)``.
    """
    probs = torch.softmax(logits.detach(), dim=1).clamp(max=PROB_CLAMP)
    # scatter rather than F.one_hot, which validates the labels' range at every call (a host
    # sync on a GPU, and about 7% of an MLP step on the CPU)
    return probs, probs.scatter_add(1, labels.unsqueeze(1), probs.new_full((len(labels), 1), -1.0))


def batch_normalised(weights: torch.Tensor) -> torch.Tensor:
    """Instance weights [N] divided by their mean over the batch (Learning-to-Reweight's
    normalisation; differentiable): their mean is 1, so raising every weight at once changes
    nothing, and only how the batch's weight is shared out among its examples remains."""
    return weights / weights.mean().clamp_min(torch.finfo(weights.dtype).tiny)


def broadcast_instance_weights(weights: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Instance weights [N] as class-level weights [N, C]: the same weight for every flow."""
    return weights.unsqueeze(1).expand(-1, n_classes)


def zero_mean_target(
    weights: torch.Tensor, probs: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Overwrites the target-class weight so that the weighted error of every row sums to zero.

    ``W_iy = sum_{j != y} W_ij p_ij / (1 - p_iy)``, hence ``sum_j W_ij e_ij = 0`` (the paper's
    zero-mean constraint; softmax-CE gradients sum to zero over classes and this keeps it so).
    Differentiable in ``weights``.

    Args:
        weights: [N, C] class-level weights.
        probs: [N, C] clamped probabilities (see :func:`label_error`).
        labels: [N] given labels.

    Returns:
        [N, C], equal to ``weights`` off the target column.
    """
    index = labels.unsqueeze(1)  # [N, 1]
    p_target = probs.gather(1, index)  # [N, 1]
    others = (weights * probs).sum(1, keepdim=True) - weights.gather(1, index) * p_target
    return weights.scatter(1, index, others / (1.0 - p_target))


def weighted_cotangent(weights: torch.Tensor, error: torch.Tensor) -> torch.Tensor:
    """The logit cotangent ``(W * e) / N`` whose vector-Jacobian product is ``g(theta; W)``."""
    return weights * error / error.shape[0]


def outer_step(meta_grad: torch.Tensor, *, outer_lr: float, clip: float) -> torch.Tensor:
    """The normalised, clipped step of GDW step 4: ``clip(outer_lr * G / sum |G|, -clip, clip)``.

    Subtracted from the weights; zero where ``G`` is zero everywhere.
    """
    total = meta_grad.abs().sum().clamp_min(torch.finfo(meta_grad.dtype).tiny)  # 0 only if G is 0
    return (outer_lr * meta_grad / total).clamp(-clip, clip)


def given_step(step: torch.Tensor, probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """How much an outer step [N, C] moves each given-class weight, before the clamp: [N].

    The target weight is set by the zero-mean constraint, which is linear, so the outer step
    moves it by ``-(sum_{j != y} step_ij p_ij) / (1 - p_iy)``: negative when the meta-gradient
    says the example's "not ..." signals, and with them its "dog" signal, should be weaker.
    Unlike the recorded weights it is not floored at 1e-6, so it keeps its sign and size for
    examples whose weight already sits at the floor.
    """
    return -zero_mean_target(step, probs, labels).gather(1, labels.unsqueeze(1)).squeeze(1)


def clamp_weights(weights: torch.Tensor) -> torch.Tensor:
    """Keeps class-level weights inside ``[1e-6, 1e6]``."""
    return weights.clamp(WEIGHT_MIN, WEIGHT_MAX)


def final_class_weights(
    weights: torch.Tensor,
    meta_grad: torch.Tensor,
    probs: torch.Tensor,
    labels: torch.Tensor,
    *,
    outer_lr: float,
    clip: float,
) -> torch.Tensor:
    """GDW steps 4 and 5: outer update, clamp, then the zero-mean constraint again."""
    step = outer_step(meta_grad, outer_lr=outer_lr, clip=clip)
    return stepped_class_weights(weights, step, probs, labels)


def stepped_class_weights(
    weights: torch.Tensor, step: torch.Tensor, probs: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """GDW steps 4 and 5 from a computed :func:`outer_step`: ``zero_mean(clamp(V - step))``."""
    return zero_mean_target(clamp_weights(weights - step), probs, labels)


def meta_gradient_from_jvp(
    error: torch.Tensor, logits_jvp: torch.Tensor, lr: float
) -> torch.Tensor:
    """``dL_meta/dW`` after one SGD virtual step, from a Jacobian-vector product.

    ``G_ij = -(lr / N) * e_ij * <grad_theta' L_meta, dz_ij/dtheta>``, where ``logits_jvp`` [N, C]
    is the directional derivative of the training logits along ``grad_theta' L_meta``.
    """
    return -lr / error.shape[0] * error * logits_jvp
