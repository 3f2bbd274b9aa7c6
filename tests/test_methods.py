"""ERM, MW-Net, GDW and mwnet-step steps against a brute-force float64 autograd reference, on
the CPU and on a CUDA GPU (where there is one; see the ``device`` fixture)."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from gdw.config import RunConfig
from gdw.training.session import build_method, build_model
from gdw.weighting.formulas import label_error
from gdw.weighting.forward_mode import BatchNorm2d
from gdw.weighting.meta_gradient import (
    FORMULATIONS,
    batch_statistics_only,
    class_level_weights,
    virtual_meta_gradient,
)
from gdw.weighting.methods import ERM, GDW, MWNet, MWNetStep
from gdw.weighting.weight_net import WeightNet, build_weight_net

N, C, LR, OUTER_LR, CLIP = 12, 4, 0.3, 5.0, 0.2


def tiny_mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, C))


def tiny_bn_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(3 * 2 * 4, 5),
        nn.BatchNorm1d(5),
        nn.Tanh(),
        nn.Linear(5, C),
    )


def tiny_net_with_our_batchnorm() -> nn.Module:
    """The models' BatchNorm layer, whose forward-mode rule is our own
    (gdw.weighting.forward_mode)."""
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        BatchNorm2d(3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(3 * 2 * 4, C),
    )


def lenet() -> nn.Module:
    """The project's LeNet (our BatchNorm, a flattened head), on small grey images."""
    return build_model("lenet", image_shape=(1, 12, 12), n_classes=C)


def resnet8() -> nn.Module:
    """The project's ResNet-8 (option-A shortcuts, our BatchNorm), on small colour images."""
    return build_model("resnet8", image_shape=(3, 4, 4), n_classes=C)


# name: (builder, shape of one input image)
MODELS = {
    "mlp": (tiny_mlp, (1, 2, 4)),
    "batchnorm": (tiny_bn_net, (1, 2, 4)),
    "our-batchnorm": (tiny_net_with_our_batchnorm, (1, 2, 4)),
    "lenet": (lenet, (1, 12, 12)),
    "resnet8": (resnet8, (3, 4, 4)),
}


@pytest.fixture(params=list(MODELS), ids=list(MODELS))
def setup(request, device):
    """A model and its batches on ``device``; a test makes further tensors on ``x.device``."""
    gen = torch.Generator().manual_seed(3)
    torch.manual_seed(3)
    builder, shape = MODELS[request.param]
    model = builder().double().train()
    # A few steps of nonzero running statistics so that "left as it was" is a real check.
    with torch.no_grad():
        model(torch.randn(N, *shape, dtype=torch.float64))
    x = torch.randn(N, *shape, generator=gen, dtype=torch.float64)
    y = torch.randint(0, C, (N,), generator=gen)
    y[0] = 1  # make example 0 a confident example whose target probability is clamped
    x_meta = torch.randn(8, *shape, generator=gen, dtype=torch.float64)
    y_meta = torch.arange(8) % C
    instance_weights = torch.rand(N, generator=gen, dtype=torch.float64)
    return tuple(t.to(device) for t in (model, x, y, x_meta, y_meta, instance_weights))


# --- the brute-force reference: plain autograd with create_graph=True on a copy ---------------


def ref_constraint(weights, probs, y):
    rows = []
    for i in range(weights.shape[0]):
        others = sum(weights[i, j] * probs[i, j] for j in range(C) if j != y[i])
        rows.append(
            torch.stack(
                [others / (1 - probs[i, y[i]]) if j == y[i] else weights[i, j] for j in range(C)]
            )
        )
    return torch.stack(rows)


def ref_error(logits, y):
    probs = torch.softmax(logits.detach(), 1).clamp(max=0.999)
    return probs, probs - F.one_hot(y, C).double()


def ref_meta_loss(model, x, y, x_meta, y_meta, weights, lr):
    """L_meta(theta - lr * grad_theta[(1/N) sum_ij W_ij e_ij z_ij]) on a copy of the model."""
    ref = copy.deepcopy(model)
    params = dict(ref.named_parameters())
    logits = ref(x)
    _, error = ref_error(logits, y)
    surrogate = (weights * error * logits).sum() / x.shape[0]
    grads = torch.autograd.grad(surrogate, list(params.values()), create_graph=True)
    virtual = {n: p - lr * g for (n, p), g in zip(params.items(), grads)}
    return F.cross_entropy(functional_call(ref, virtual, (x_meta,)), y_meta)


def ref_final_weights(model, x, y, x_meta, y_meta, instance_weights):
    probs, _ = ref_error(copy.deepcopy(model)(x), y)
    start = (
        ref_constraint(instance_weights.detach()[:, None].repeat(1, C), probs, y)
        .detach()
        .requires_grad_()
    )
    (meta_grad,) = torch.autograd.grad(ref_meta_loss(model, x, y, x_meta, y_meta, start, LR), start)
    moved = start.detach() - (OUTER_LR * meta_grad / meta_grad.abs().sum()).clamp(-CLIP, CLIP)
    return ref_constraint(moved.clamp(1e-6, 1e6), probs, y), meta_grad


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_class_level_weights_match_reference(setup, formulation):
    model, x, y, x_meta, y_meta, instance_weights = setup
    expected, _ = ref_final_weights(model, x, y, x_meta, y_meta, instance_weights)
    got = class_level_weights(
        model,
        x,
        y,
        x_meta,
        y_meta,
        instance_weights,
        lr=LR,
        outer_lr=OUTER_LR,
        clip=CLIP,
        formulation=formulation,
    )
    assert torch.allclose(got, expected, atol=1e-10, rtol=0)
    assert not torch.allclose(
        got, instance_weights[:, None].expand(-1, C)
    )  # the outer step did move them


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_meta_gradient_matches_reference(setup, formulation):
    model, x, y, x_meta, y_meta, instance_weights = setup
    weights = torch.rand(N, C, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    weights = weights.to(x.device)
    free = weights.clone().requires_grad_()
    (expected,) = torch.autograd.grad(ref_meta_loss(model, x, y, x_meta, y_meta, free, LR), free)
    with batch_statistics_only(model):
        logits = model(x)
        _, error = label_error(logits, y)
        got = virtual_meta_gradient(
            model, logits, x, error, weights, x_meta, y_meta, lr=LR, formulation=formulation
        )
    assert torch.allclose(got, expected, atol=1e-10, rtol=0)


def test_class_level_weights_leave_the_model_exactly_as_it_was(setup):
    model, x, y, x_meta, y_meta, instance_weights = setup
    model.eval()
    before = copy.deepcopy(model.state_dict())
    class_level_weights(
        model, x, y, x_meta, y_meta, instance_weights, lr=LR, outer_lr=OUTER_LR, clip=CLIP
    )
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not model.training
    assert all(p.grad is None for p in model.parameters())


def test_final_weights_satisfy_the_zero_mean_constraint(setup):
    model, x, y, x_meta, y_meta, instance_weights = setup
    weights = class_level_weights(
        model, x, y, x_meta, y_meta, instance_weights, lr=LR, outer_lr=OUTER_LR, clip=CLIP
    )
    probs, error = ref_error(copy.deepcopy(model)(x), y)
    zeros = torch.zeros(N, dtype=torch.float64, device=x.device)
    assert torch.allclose((weights * error).sum(1), zeros, atol=1e-12)


def test_zero_outer_lr_gives_mwnet_instance_weights(setup):
    model, x, y, x_meta, y_meta, instance_weights = setup
    weights = class_level_weights(
        model, x, y, x_meta, y_meta, instance_weights, lr=LR, outer_lr=0.0, clip=CLIP
    )
    assert torch.allclose(weights, instance_weights[:, None].expand(-1, C), atol=1e-12)


def _sgd(model):
    return torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, weight_decay=5e-4)


def _weight_net(device, kind="paper", seed=7):
    torch.manual_seed(seed)
    net = build_weight_net(kind).double().to(device)
    return net, torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)


NETS = ["paper", "monotone"]  # the paper's weighting net, and the default (monotone, normalised)


@pytest.mark.parametrize("kind", NETS)
@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_gdw_step_matches_reference(setup, formulation, kind):
    model, x, y, x_meta, y_meta, _ = setup
    # Reference: the weighting net's output, its update through L_meta, W, then the SGD step.
    ref_model = copy.deepcopy(model)
    ref_net, ref_net_opt = _weight_net(x.device, kind)
    probs, error = ref_error(copy.deepcopy(ref_model)(x), y)
    losses = F.cross_entropy(copy.deepcopy(ref_model)(x).detach(), y, reduction="none")
    start = ref_constraint(ref_net(losses)[:, None].repeat(1, C), probs, y)
    start.retain_grad()
    ref_meta_loss(ref_model, x, y, x_meta, y_meta, start, LR).backward()
    meta_grad = start.grad
    ref_net_opt.step()
    moved = start.detach() - (OUTER_LR * meta_grad / meta_grad.abs().sum()).clamp(-CLIP, CLIP)
    final = ref_constraint(moved.clamp(1e-6, 1e6), probs, y)
    stats = copy.deepcopy(ref_model)
    logits = stats(x)  # one forward moves the running statistics once
    grads = torch.autograd.grad((final * error * logits).sum() / N, list(stats.parameters()))
    expected = [p - LR * (g + 5e-4 * p) for p, g in zip(stats.parameters(), grads)]

    net, net_opt = _weight_net(x.device, kind)
    result = GDW(
        model, _sgd(model), net, net_opt, outer_lr=OUTER_LR, clip=CLIP, formulation=formulation
    ).step(x, y, x_meta, y_meta)
    assert torch.allclose(result.weights, final, atol=1e-10, rtol=0)
    for got, want in zip(model.parameters(), expected):
        assert torch.allclose(got, want, atol=1e-10, rtol=0)
    for got, want in zip(net.parameters(), ref_net.parameters()):
        assert torch.allclose(got, want, atol=1e-10, rtol=0)
    for got, want in zip(model.buffers(), stats.buffers()):
        assert torch.allclose(got.double(), want.double(), atol=1e-12, rtol=0)


@pytest.mark.parametrize("kind", NETS)
def test_mwnet_step_uses_the_updated_weighting_net(setup, kind):
    model, x, y, x_meta, y_meta, _ = setup
    ref_model = copy.deepcopy(model)
    ref_net, ref_net_opt = _weight_net(x.device, kind)
    losses = F.cross_entropy(copy.deepcopy(ref_model)(x).detach(), y, reduction="none")
    start = ref_net(losses)[:, None].repeat(1, C)
    ref_meta_loss(ref_model, x, y, x_meta, y_meta, start, LR).backward()
    ref_net_opt.step()
    with torch.no_grad():
        final = ref_net(losses)[:, None].repeat(1, C)
    stats = copy.deepcopy(ref_model)
    logits = stats(x)
    _, error = ref_error(logits, y)
    grads = torch.autograd.grad((final * error * logits).sum() / N, list(stats.parameters()))
    expected = [p - LR * (g + 5e-4 * p) for p, g in zip(stats.parameters(), grads)]

    net, net_opt = _weight_net(x.device, kind)
    result = MWNet(model, _sgd(model), net, net_opt).step(x, y, x_meta, y_meta)
    assert torch.allclose(result.weights, final, atol=1e-10, rtol=0)
    for got, want in zip(model.parameters(), expected):
        assert torch.allclose(got, want, atol=1e-10, rtol=0)


@pytest.mark.parametrize("kind", NETS)
@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_mwnet_step_ablation_matches_reference(setup, formulation, kind):
    """GDW's outer step on one weight per example: v0 from the net before its update, moved
    along g_i = sum_j dL_meta/dV_ij, clipped, clamped and broadcast over the classes."""
    model, x, y, x_meta, y_meta, _ = setup
    ref_model = copy.deepcopy(model)
    ref_net, ref_net_opt = _weight_net(x.device, kind)
    losses = F.cross_entropy(copy.deepcopy(ref_model)(x).detach(), y, reduction="none")
    instance = ref_net(losses)
    instance.retain_grad()
    ref_meta_loss(ref_model, x, y, x_meta, y_meta, instance[:, None].repeat(1, C), LR).backward()
    grad = instance.grad  # = sum_j G_ij by the chain rule
    ref_net_opt.step()
    step = (OUTER_LR / C * grad / grad.abs().sum()).clamp(-CLIP, CLIP)
    final = (instance.detach() - step).clamp(1e-6, 1e6)[:, None].repeat(1, C)
    stats = copy.deepcopy(ref_model)
    logits = stats(x)
    _, error = ref_error(logits, y)
    grads = torch.autograd.grad((final * error * logits).sum() / N, list(stats.parameters()))
    expected = [p - LR * (g + 5e-4 * p) for p, g in zip(stats.parameters(), grads)]

    net, net_opt = _weight_net(x.device, kind)
    method = MWNetStep(
        model, _sgd(model), net, net_opt, outer_lr=OUTER_LR / C, clip=CLIP, formulation=formulation
    )
    result = method.step(x, y, x_meta, y_meta)
    assert torch.allclose(result.weights, final, atol=1e-10, rtol=0)
    assert torch.allclose(result.instance_weights, instance.detach(), atol=1e-12, rtol=0)
    for got, want in zip(model.parameters(), expected):
        assert torch.allclose(got, want, atol=1e-10, rtol=0)
    for got, want in zip(net.parameters(), ref_net.parameters()):
        assert torch.allclose(got, want, atol=1e-10, rtol=0)


def test_mwnet_step_with_no_outer_step_takes_gdws_step(setup):
    """With an outer lr of 0 both keep the weighting net's output from before its update."""
    model, x, y, x_meta, y_meta, _ = setup
    results, models = [], []
    for cls in (MWNetStep, GDW):
        copy_ = copy.deepcopy(model)
        net, net_opt = _weight_net(x.device)
        results.append(
            cls(copy_, _sgd(copy_), net, net_opt, outer_lr=0.0, clip=CLIP).step(
                x, y, x_meta, y_meta
            )
        )
        models.append(copy_)
    assert torch.allclose(results[0].weights, results[1].weights, atol=1e-12, rtol=0)
    for got, want in zip(*(m.parameters() for m in models)):
        assert torch.allclose(got, want, atol=1e-12, rtol=0)


def test_erm_step_is_a_plain_cross_entropy_sgd_step(setup):
    model, x, y, x_meta, y_meta, _ = setup
    reference = copy.deepcopy(model)
    grads = torch.autograd.grad(F.cross_entropy(reference(x), y), list(reference.parameters()))
    expected = [p - LR * (g + 5e-4 * p) for p, g in zip(reference.parameters(), grads)]
    result = ERM(model, _sgd(model)).step(x, y, x_meta, y_meta)
    assert torch.equal(result.weights, torch.ones(N, C, dtype=torch.float64, device=x.device))
    for got, want in zip(model.parameters(), expected):
        assert torch.allclose(got, want, atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", ["erm", "mwnet", "mwnet-step", "gdw"])
def test_each_method_steps_in_float32(name):
    torch.manual_seed(0)
    model = tiny_bn_net().train()
    x, y = torch.randn(N, 1, 2, 4), torch.randint(0, C, (N,))
    before = [p.detach().clone() for p in model.parameters()]
    method = build_method(RunConfig(method=name), model, WeightNet(), n_classes=C)
    result = method.step(x, y, x[:8], y[:8])
    assert result.weights.shape == (N, C) and result.logits.shape == (N, C)
    assert result.instance_weights.shape == (N,)
    assert torch.isfinite(result.weights).all() and torch.isfinite(result.loss)
    after = list(model.parameters())
    # Biases right before a BatchNorm get no gradient; the weights and the head must move.
    assert not torch.equal(before[0], after[0]) and not torch.equal(before[-1], after[-1])
