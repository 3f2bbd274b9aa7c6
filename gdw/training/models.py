"""The classifiers and MW-Net's weighting network. Architecture only, no training logic."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gdw.config import WEIGHT_NETS
from gdw.registry import dataset_spec
from gdw.training.forward_mode import BatchNorm2d
from gdw.training.weighting import batch_normalised

__all__ = [
    "MLP",
    "SmallCNN",
    "LeNet",
    "ResNet32",
    "WeightNet",
    "build_weight_net",
    "MODEL_NAMES",
    "build_model",
    "resolve_model_name",
]


class MLP(nn.Module):
    """Flatten, one hidden ReLU layer, linear output (64-128-10 on digits)."""

    def __init__(self, in_features: int, n_classes: int, *, hidden: int = 128) -> None:
        super().__init__()
        self.hidden = nn.Linear(in_features, hidden)
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.hidden(x.flatten(1))))


def _conv_bn(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class SmallCNN(nn.Module):
    """Two conv + BatchNorm blocks and a linear head; for 28x28 grey or 32x32 colour images."""

    def __init__(self, in_channels: int, n_classes: int, *, width: int = 32) -> None:
        super().__init__()
        self.features = nn.Sequential(_conv_bn(in_channels, width), _conv_bn(width, 2 * width))
        self.head = nn.Linear(2 * width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def _lenet_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 5, padding=2, bias=False),
        BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class LeNet(nn.Module):
    """LeNet-style: two 5x5 conv + BatchNorm + max-pool blocks, then a fully connected head on
    the flattened feature map (for 28x28 grey: 16 and 32 channels, 7x7x32 -> 128 -> classes).

    Unlike :class:`SmallCNN`, whose global average pool sees only a ~10-pixel receptive field,
    the head sees where on the image each feature fired.
    """

    def __init__(
        self,
        in_channels: int,
        n_classes: int,
        *,
        image_size: tuple[int, int] = (28, 28),
        widths: tuple[int, int] = (16, 32),
        hidden: int = 128,
    ) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _lenet_block(in_channels, widths[0]), _lenet_block(widths[0], widths[1])
        )
        flat = widths[1] * (image_size[0] // 4) * (image_size[1] // 4)
        self.hidden = nn.Linear(flat, hidden)
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.hidden(self.features(x).flatten(1))))


class _BasicBlock(nn.Module):
    """ResNet basic block with the parameter-free "option A" shortcut of the CIFAR ResNets."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = BatchNorm2d(out_channels)
        self.stride = stride
        self.extra_channels = out_channels - in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.stride != 1 or self.extra_channels:
            shortcut = x[:, :, :: self.stride, :: self.stride]
            half = self.extra_channels // 2
            shortcut = F.pad(shortcut, (0, 0, 0, 0, half, self.extra_channels - half))
        return F.relu(out + shortcut)


class ResNet32(nn.Module):
    """The paper's CIFAR model: 3 stages of 5 basic blocks with 16/32/64 channels.

    ``blocks_per_stage`` gives the other CIFAR ResNets of depth ``6 * blocks + 2`` (1: ResNet-8,
    2: ResNet-14), with the same option-A shortcuts.
    """

    def __init__(self, in_channels: int, n_classes: int, *, blocks_per_stage: int = 5) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn = BatchNorm2d(16)
        layers: list[nn.Module] = []
        channels = 16
        for stage, width in enumerate((16, 32, 64)):
            for block in range(blocks_per_stage):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(_BasicBlock(channels, width, stride))
                channels = width
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Linear(64, n_classes)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.blocks(F.relu(self.bn(self.conv(x))))
        return self.head(out.mean(dim=(2, 3)))


class WeightNet(nn.Module):
    """MW-Net's weighting network: per-example loss -> weight; 1-100-1, ReLU, sigmoid.

    Two changes of ours, each optional (``--weight-net``, :func:`build_weight_net`):

    - ``monotone``: the weight can only fall as the loss rises. The hidden layer's weights enter
      by their absolute value and the output layer's by minus theirs, so every path from the
      loss to the output has a non-positive slope. The output layer starts ten times smaller
      than PyTorch's default, so the net starts nearly flat (about 0.5 down to 0.3 over the
      usual losses) and the meta set decides how steeply it falls. The paper's net starts with
      a slope of random sign and, as the README's study measures, often learns to *raise* the
      weight of high-loss examples.
    - ``normalise``: the weights of a batch are divided by their mean
      (:func:`gdw.training.weighting.batch_normalised`), so that the net decides how a batch's
      weight is shared out, not how large a step the batch takes (the learning rate's job).
    """

    def __init__(self, hidden: int = 100, *, monotone: bool = False, normalise: bool = False):
        super().__init__()
        self.hidden = nn.Linear(1, hidden)
        self.out = nn.Linear(hidden, 1)
        self.monotone = monotone
        self.normalise = normalise
        if monotone:
            with torch.no_grad():
                self.out.weight.mul_(0.1)

    def forward(self, losses: torch.Tensor) -> torch.Tensor:
        """Maps the losses of a batch [N] to their weights [N]."""
        hidden_weight, out_weight = self.hidden.weight, self.out.weight
        if self.monotone:
            hidden_weight, out_weight = hidden_weight.abs(), -out_weight.abs()
        features = F.relu(F.linear(losses.unsqueeze(1), hidden_weight, self.hidden.bias))
        weights = torch.sigmoid(F.linear(features, out_weight, self.out.bias)).squeeze(1)
        return batch_normalised(weights) if self.normalise else weights


_WEIGHT_NET_KINDS = {
    "monotone": {"monotone": True, "normalise": True},
    "paper": {"monotone": False, "normalise": False},
    "monotone-raw": {"monotone": True, "normalise": False},
    "paper-normalised": {"monotone": False, "normalise": True},
}


def build_weight_net(kind: str) -> WeightNet:
    """The weighting net ``--weight-net`` names (:data:`gdw.config.WEIGHT_NETS`)."""
    if kind not in WEIGHT_NETS:
        raise ValueError(f"weight net {kind!r} is not one of: {', '.join(WEIGHT_NETS)}")
    return WeightNet(**_WEIGHT_NET_KINDS[kind])


_RESNET_BLOCKS_PER_STAGE = {"resnet8": 1, "resnet14": 2, "resnet32": 5}
"""Depth ``6 * blocks + 2``: ResNet-8 and -14 are the compact CIFAR ResNets, -32 the paper's."""

MODEL_NAMES = ("mlp", "cnn", "lenet", *_RESNET_BLOCKS_PER_STAGE)
"""Every classifier :func:`build_model` builds (``auto`` picks one of them)."""


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
    """Builds the classifier named ``model`` (or picked by ``dataset`` for ``auto``).

    Args:
        model: ``auto`` or one of :data:`MODEL_NAMES`.
        image_shape: ``(channels, height, width)`` of one input image.
        n_classes: number of output logits.
        dataset: used only by ``auto``.
    """
    name = resolve_model_name(model, dataset)
    channels = image_shape[0]
    if name == "mlp":
        return MLP(math.prod(image_shape), n_classes)
    if name == "cnn":
        return SmallCNN(channels, n_classes)
    if name == "lenet":
        return LeNet(channels, n_classes, image_size=(image_shape[1], image_shape[2]))
    if name in _RESNET_BLOCKS_PER_STAGE:
        return ResNet32(channels, n_classes, blocks_per_stage=_RESNET_BLOCKS_PER_STAGE[name])
    raise ValueError(f"model {model!r} is not one of: auto, {', '.join(MODEL_NAMES)}")
