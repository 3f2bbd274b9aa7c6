"""The models' BatchNorm layer: its own forward-mode rule under batch statistics gives torch's
numbers, and everywhere else it is torch's layer."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd import forward_ad
from torch.func import functional_call

from gdw.weighting.forward_mode import BatchNorm2d


def _inputs(channels: int = 3, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    # An offset mean and a spread per channel, so that centring and scaling both matter.
    x = 2.0 + 3.0 * torch.randn(6, channels, 4, 5, generator=gen, dtype=torch.float64)
    tangents = {
        "x": torch.randn(x.shape, generator=gen, dtype=torch.float64),
        "weight": torch.randn(channels, generator=gen, dtype=torch.float64),
        "bias": torch.randn(channels, generator=gen, dtype=torch.float64),
    }
    return x, tangents


def _dual_forward(layer: nn.Module, x, tangents, *, x_has_tangent: bool):
    """(output, tangent) of ``layer(x)`` with the given tangents on x and the parameters."""
    params = dict(layer.named_parameters())
    with forward_ad.dual_level():
        duals = {n: forward_ad.make_dual(p.detach(), tangents[n]) for n, p in params.items()}
        x_in = forward_ad.make_dual(x, tangents["x"]) if x_has_tangent else x
        out = forward_ad.unpack_dual(functional_call(layer, duals, (x_in,)))
    return out.primal, out.tangent


@pytest.mark.parametrize(
    ("affine", "x_has_tangent"),
    [(True, True), (True, False), (False, True)],
    ids=["everything", "parameters-only", "input-only"],
)
def test_tangent_and_output_match_torchs_batch_norm(affine, x_has_tangent):
    x, tangents = _inputs()
    ours = BatchNorm2d(3, affine=affine, track_running_stats=False).double()
    if affine:
        with torch.no_grad():
            ours.weight.copy_(torch.tensor([0.5, -1.5, 2.0]))
            ours.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    stock = nn.BatchNorm2d(3, affine=affine, track_running_stats=False).double()
    stock.load_state_dict(ours.state_dict())
    out, tangent = _dual_forward(ours, x, tangents, x_has_tangent=x_has_tangent)
    want_out, want_tangent = _dual_forward(stock, x, tangents, x_has_tangent=x_has_tangent)
    assert torch.allclose(out, want_out, atol=1e-12, rtol=0)
    assert torch.allclose(tangent, want_tangent, atol=1e-12, rtol=0)
    assert tangent.abs().max() > 0.1  # a real tangent, not a vacuous zero


def test_reverse_mode_through_the_forward_mode_path_matches_torch():
    x, tangents = _inputs()
    ours = BatchNorm2d(3, track_running_stats=False).double()
    leaf = x.clone().requires_grad_()
    with forward_ad.dual_level():
        out = forward_ad.unpack_dual(ours(forward_ad.make_dual(leaf, tangents["x"]))).primal
        got = torch.autograd.grad((out**3).sum(), [leaf, ours.weight, ours.bias])
    stock_leaf = x.clone().requires_grad_()
    stock_out = F.batch_norm(stock_leaf, None, None, ours.weight, ours.bias, training=True)
    want = torch.autograd.grad((stock_out**3).sum(), [stock_leaf, ours.weight, ours.bias])
    for g, w in zip(got, want):
        assert torch.allclose(g, w, atol=1e-10, rtol=0)


def test_running_statistics_are_updated_as_torchs_layer_does_even_with_a_tangent():
    """With tracked running statistics the layer is torch's, tangent or not."""
    x, tangents = _inputs()
    ours = BatchNorm2d(3).double().train()
    stock = copy.deepcopy(ours)
    _dual_forward(ours, x, tangents, x_has_tangent=True)
    nn.BatchNorm2d.forward(stock, x)
    for got, want in zip(ours.buffers(), stock.buffers()):
        assert torch.equal(got, want)
    assert not torch.equal(ours.running_mean, torch.zeros(3, dtype=torch.float64))


def test_eval_mode_uses_running_statistics():
    x, tangents = _inputs()
    ours = BatchNorm2d(3).double().eval()
    with torch.no_grad():
        ours.running_mean.fill_(1.0)
        ours.running_var.fill_(4.0)
    stock = nn.BatchNorm2d(3).double().eval()
    stock.load_state_dict(ours.state_dict())
    out, tangent = _dual_forward(ours, x, tangents, x_has_tangent=True)
    want_out, want_tangent = _dual_forward(stock, x, tangents, x_has_tangent=True)
    assert torch.equal(out, want_out) and torch.equal(tangent, want_tangent)
