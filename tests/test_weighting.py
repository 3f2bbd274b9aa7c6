"""The GDW weighting math against hand computations and autograd."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gdw.weighting.formulas import (
    batch_normalised,
    broadcast_instance_weights,
    clamp_weights,
    given_step,
    label_error,
    outer_step,
    stepped_class_weights,
    weighted_cotangent,
    zero_mean_target,
)


@pytest.fixture(autouse=True)
def float64():
    """Exact arithmetic for these comparisons; restored after each test."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return torch.randn(6, 4, generator=gen, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 0, 2])


def test_label_error_is_clamped_softmax_minus_onehot(batch):
    logits, labels = batch
    logits[0] = torch.tensor([20.0, 0.0, 0.0, 0.0])  # p_0 > 0.999 before the clamp
    probs, error = label_error(logits, labels)
    assert probs.max() <= 0.999
    assert error[0, 0] == pytest.approx(0.999 - 1.0)
    assert torch.allclose(error[1], probs[1] - torch.tensor([0.0, 1.0, 0.0, 0.0]))


def test_zero_mean_target_by_hand():
    probs = torch.tensor([[0.2, 0.5, 0.3]])
    weights = torch.tensor([[0.4, 9.0, 0.8]])  # the target entry is overwritten
    out = zero_mean_target(weights, probs, torch.tensor([1]))
    assert out[0, 1] == pytest.approx((0.4 * 0.2 + 0.8 * 0.3) / (1 - 0.5))
    assert out[0, 0] == 0.4 and out[0, 2] == 0.8


def test_zero_mean_constraint_makes_weighted_error_rows_sum_to_zero(batch):
    logits, labels = batch
    probs, error = label_error(logits, labels)
    weights = torch.rand(6, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    constrained = zero_mean_target(weights, probs, labels)
    assert torch.allclose((constrained * error).sum(1), torch.zeros(6), atol=1e-14)


def test_equal_weights_keep_their_value_under_the_constraint(batch):
    logits, labels = batch
    probs, _ = label_error(logits, labels)
    weights = broadcast_instance_weights(torch.full((6,), 0.5), 4)
    assert torch.allclose(zero_mean_target(weights, probs, labels), weights)


def test_unit_weights_give_the_cross_entropy_gradient(batch):
    logits, labels = batch
    logits.requires_grad_()
    _, error = label_error(logits, labels)
    (grad,) = torch.autograd.grad(F.cross_entropy(logits, labels), logits)
    assert torch.allclose(weighted_cotangent(torch.ones(6, 4), error), grad, atol=1e-14)


def test_outer_step_is_normalised_and_clipped():
    meta_grad = torch.tensor([[1.0, -1.0], [2.0, 0.0]])  # sum |G| = 4
    step = outer_step(meta_grad, outer_lr=0.4, clip=0.15)
    assert torch.allclose(step, torch.tensor([[0.1, -0.1], [0.15, 0.0]]))  # 0.2 clipped to 0.15


def test_outer_step_with_zero_gradient_is_zero():
    assert torch.equal(outer_step(torch.zeros(2, 3), outer_lr=100, clip=0.2), torch.zeros(2, 3))


def test_clamp_weights_bounds():
    out = clamp_weights(torch.tensor([-1.0, 0.0, 0.5, 1e9]))
    assert out.tolist() == [1e-6, 1e-6, 0.5, 1e6]


def test_given_step_is_the_unclamped_move_of_the_given_class_weight(batch):
    logits, labels = batch
    probs, _ = label_error(logits, labels)
    instance = broadcast_instance_weights(torch.full((6,), 0.3), 4)
    step = outer_step(
        torch.randn(6, 4, generator=torch.Generator().manual_seed(2)), outer_lr=5.0, clip=0.2
    )
    rows = torch.arange(6)
    moved = zero_mean_target(instance - step, probs, labels)[rows, labels]  # no clamp
    assert torch.allclose(given_step(step, probs, labels), moved - 0.3, atol=1e-14)
    # The recorded weights stop at the floor; the change does not.
    floored = stepped_class_weights(torch.full((6, 4), 1e-6), step.abs(), probs, labels)
    assert torch.allclose(floored[rows, labels], torch.full((6,), 1e-6))
    assert torch.all(given_step(step.abs(), probs, labels) < 0)


def test_batch_normalised_weights_have_mean_one_and_gain_nothing_from_a_common_rise():
    weights = torch.tensor([0.2, 0.4, 0.6], requires_grad=True)
    out = batch_normalised(weights)
    assert torch.allclose(out, torch.tensor([0.5, 1.0, 1.5]))
    (grad,) = torch.autograd.grad(out @ torch.tensor([1.0, 1.0, 1.0]), weights)
    assert torch.allclose(grad, torch.zeros(3), atol=1e-7)  # raising all weights: no change
