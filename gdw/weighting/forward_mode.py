"""A cheaper exact forward-mode rule for batch-statistics BatchNorm.

GDW's meta-gradient pushes one tangent through the training forward (``gdw.weighting.methods``). On
the CPU, torch's stock forward-mode rule for train-mode BatchNorm runs about a dozen full-size
elementwise passes per layer, on top of a statistics kernel that is slow for NCHW tensors; it
was a third of the tangent pass of the small CNN. With batch statistics ``mu``,
``s = 1/sqrt(var + eps)`` and ``x_hat = (x - mu) s``, the output ``y = gamma x_hat + beta``
has the tangent

    dy = gamma s dx + (dgamma - gamma s mean(x_hat dx)) x_hat + (dbeta - gamma s mean(dx)),

with the means over every dimension but the channels: five full-size passes once ``x_hat`` is
in hand, and the forward computes it anyway.

:class:`BatchNorm2d` takes this path only when a forward-mode tangent is present and batch
statistics are used without running-statistic updates (as inside
:func:`gdw.weighting.meta_gradient.batch_statistics_only`); every other call is torch's own layer.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.autograd import forward_ad

__all__ = ["BatchNorm2d", "batch_norm_tangent", "normalize_by_batch"]


def _channel_view(x: torch.Tensor) -> tuple[int, ...]:
    return (1, -1) + (1,) * (x.dim() - 2)


def _channel_sum(x: torch.Tensor) -> torch.Tensor:
    """[N, C, ...] -> [C]. Two plain reductions: on the CPU, one ``sum`` over dims (0, 2, 3) of
    a freshly computed tensor was measured several times slower."""
    return x.reshape(x.shape[0], x.shape[1], -1).sum(2).sum(0)


def normalize_by_batch(
    x: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``x_hat = (x - mu) s`` with the batch statistics of [N, C, ...] ``x`` per channel,
    computed in two passes (mean, then centred squares); returns ``x_hat, mu, s``.

    On the CPU this costs less than torch's kernel, whose statistics pass dominates, and it
    leaves ``x_hat``, which the tangent needs, in hand.
    """
    view, count = _channel_view(x), x.numel() // x.shape[1]
    mean = _channel_sum(x) / count
    centred = x - mean.view(view)
    invstd = torch.rsqrt(_channel_sum(centred * centred) / count + eps)
    return centred.mul_(invstd.view(view)), mean, invstd


def batch_norm_tangent(
    x_hat: torch.Tensor,
    invstd: torch.Tensor,
    weight: torch.Tensor | None,
    x_t: torch.Tensor | None,
    weight_t: torch.Tensor | None,
    bias_t: torch.Tensor | None,
) -> torch.Tensor:
    """The tangent of batch-statistics BatchNorm's output (formula in the module docstring).

    Args:
        x_hat: [N, C, ...] the normalised input; ``invstd`` [C] its ``s``.
        weight: [C] gamma, or None for no affine scale.
        x_t, weight_t, bias_t: the tangents of x, gamma and beta; None where there is none.
    """
    view, count = _channel_view(x_hat), x_hat.numel() // x_hat.shape[1]
    scale = invstd if weight is None else weight * invstd  # gamma s, [C]
    slope = torch.zeros_like(invstd) if weight_t is None else weight_t  # coefficient of x_hat
    shift = torch.zeros_like(invstd) if bias_t is None else bias_t  # per-channel constant
    if x_t is not None:
        slope = slope - scale * _channel_sum(x_hat * x_t) / count
        shift = shift - scale * _channel_sum(x_t) / count
    out_t = (x_hat * slope.view(view)).add_(shift.view(view))
    if x_t is not None:
        out_t.addcmul_(x_t, scale.view(view))
    return out_t


class _BatchStatisticsNorm(torch.autograd.Function):
    """Train-mode BatchNorm without running statistics: :func:`normalize_by_batch` forward,
    torch's backward kernel, and :func:`batch_norm_tangent` as the forward-mode rule."""

    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        weight: torch.Tensor | None,
        bias: torch.Tensor | None,
        eps: float,
    ) -> torch.Tensor:
        x_hat, mean, invstd = normalize_by_batch(x, eps)
        view = _channel_view(x)
        out = x_hat.clone() if weight is None else x_hat * weight.view(view)
        if bias is not None:
            out.add_(bias.view(view))
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.save_for_forward(x_hat, weight, invstd)
        ctx.set_materialize_grads(False)  # an input without a tangent reaches jvp as None
        ctx.eps = eps
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, weight, mean, invstd = ctx.saved_tensors
        grad_x, grad_weight, grad_bias = torch.ops.aten.native_batch_norm_backward(
            grad_out,
            x,
            weight,
            None,
            None,
            mean,
            invstd,
            True,
            ctx.eps,
            list(ctx.needs_input_grad[:3]),
        )
        return grad_x, grad_weight, grad_bias, None

    @staticmethod
    def jvp(
        ctx: Any,
        x_t: torch.Tensor | None,
        weight_t: torch.Tensor | None,
        bias_t: torch.Tensor | None,
        _eps: None,
    ) -> torch.Tensor:
        x_hat, weight, invstd = ctx.saved_tensors
        return batch_norm_tangent(x_hat, invstd, weight, x_t, weight_t, bias_t)


def _has_tangent(*tensors: torch.Tensor | None) -> bool:
    return any(t is not None and forward_ad.unpack_dual(t).tangent is not None for t in tensors)


class BatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` whose forward-mode derivative under batch statistics is
    :func:`batch_norm_tangent`; identical to torch's layer in every other respect."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        uses_batch_statistics = self.training or self.running_mean is None
        if (
            uses_batch_statistics
            and not self.track_running_stats
            and _has_tangent(input, self.weight, self.bias)
        ):
            self._check_input_dim(input)
            return _BatchStatisticsNorm.apply(input, self.weight, self.bias, self.eps)
        return super().forward(input)
