"""The built-in classifiers' entries in the model registry (:mod:`gdw.registry`).

As the methods' entries, they live apart from their classes (:mod:`gdw.models.classifiers`):
everything that names or lists models (configuration checks, the CLI's help, the dashboard's
sidebar) reads the table without importing torch, and each builder imports its class when a
model is built. A model of your own can register itself next to its class instead.

The descriptions give each model's size and ERM's milliseconds per step of 100 images, as timed
by ``gdw bench`` on 2 shared CPU cores. Every model's faster exact meta-gradient is the
forward-mode one (``jvp``), as ``python -m gdw bench --meta-gradient {jvp,double-backward}``
measured on 2 CPU cores: on the MLP the two are even (GDW about 2.9x an ERM step); with
BatchNorm the double backward is slower (small CNN 4.0x vs 3.4x, ResNet-32 4.9x vs 3.8x), as
differentiating BatchNorm's backward costs more than a forward-mode pass through it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from gdw.registry import ModelSpec, model_ids, register_model

if TYPE_CHECKING:
    from torch import nn

__all__ = ["MODELS"]

_DIGITS, _MNIST, _CIFAR = (1, 8, 8), (1, 28, 28), (3, 32, 32)
_CONVOLUTIONS = 8  # the smallest height and width the models with pooling or strides take


def _mlp(*, image_shape: tuple[int, int, int], n_classes: int) -> nn.Module:
    from gdw.models.classifiers import MLP

    return MLP(math.prod(image_shape), n_classes)


def _small_cnn(*, image_shape: tuple[int, int, int], n_classes: int) -> nn.Module:
    from gdw.models.classifiers import SmallCNN

    return SmallCNN(image_shape[0], n_classes)


def _lenet(*, image_shape: tuple[int, int, int], n_classes: int) -> nn.Module:
    from gdw.models.classifiers import LeNet

    channels, height, width = image_shape
    return LeNet(channels, n_classes, image_size=(height, width))


def _resnet(blocks_per_stage: int) -> Callable[..., nn.Module]:
    """The CIFAR ResNet of depth ``6 * blocks_per_stage + 2``."""

    def build(*, image_shape: tuple[int, int, int], n_classes: int) -> nn.Module:
        from gdw.models.classifiers import ResNet32

        return ResNet32(image_shape[0], n_classes, blocks_per_stage=blocks_per_stage)

    return build


register_model(
    ModelSpec(
        id="mlp",
        label="MLP",
        description="9.6k parameters on digits; ERM 0.6-0.7 ms a step",
        builder=_mlp,
        bench_shape=_DIGITS,
    )
)
register_model(
    ModelSpec(
        id="cnn",
        label="small CNN",
        description="the small CNN, 20k; 34-36 ms",
        builder=_small_cnn,
        min_image_size=_CONVOLUTIONS,
        bench_shape=_MNIST,
    )
)
register_model(
    ModelSpec(
        id="lenet",
        label="LeNet",
        description="215k on 28x28; 29 ms",
        builder=_lenet,
        min_image_size=_CONVOLUTIONS,
        bench_shape=_MNIST,
    )
)
for _blocks, _label, _description in (
    (1, "ResNet-8", "75k"),
    (2, "ResNet-14", "173k"),
    (5, "ResNet-32", "the paper's, 464k; 325 ms"),
):
    register_model(
        ModelSpec(
            id=f"resnet{6 * _blocks + 2}",
            label=_label,
            description=_description,
            builder=_resnet(_blocks),
            min_image_size=_CONVOLUTIONS,
            bench_shape=_CIFAR,
        )
    )

MODELS = ("auto", *model_ids())
"""``--model``'s choices as the package ships them: ``auto`` (the dataset's default model) and
the built-in models. The configuration checks a model against the registry
(:func:`gdw.registry.model_ids`), which a model of your own joins."""
