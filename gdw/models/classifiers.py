"""The classifiers. Architecture only, no training logic."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gdw.weighting.forward_mode import BatchNorm2d

__all__ = ["MLP", "SmallCNN", "LeNet", "ResNet32"]


class MLP(nn.Module):
    """Flatten, one hidden ReLU layer, linear output (64-128-10 on digits)."""

    def __init__(self, in_features: int, n_classes: int, *, hidden: int = 128) -> None:
        super().__init__()
        self.hidden = nn.Linear(in_features, hidden)
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.hidden(x.flatten(1))))


def _conv_block(in_channels: int, out_channels: int, kernel: int = 3) -> nn.Sequential:
    """Convolution (size-preserving padding), BatchNorm, ReLU, 2x2 max-pool."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False),
        BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class SmallCNN(nn.Module):
    """Two conv + BatchNorm blocks and a linear head; for 28x28 grey or 32x32 colour images."""

    def __init__(self, in_channels: int, n_classes: int, *, width: int = 32) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _conv_block(in_channels, width), _conv_block(width, 2 * width)
        )
        self.head = nn.Linear(2 * width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


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
            _conv_block(in_channels, widths[0], 5), _conv_block(widths[0], widths[1], 5)
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
