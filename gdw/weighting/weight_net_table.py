"""The built-in weighting nets' entries in the weighting-net registry (:mod:`gdw.registry`).

As the methods' and models' entries, they live apart from their class
(:class:`gdw.weighting.weight_net.WeightNet`): configuration checks, the CLI's help and the
dashboard's sidebar read the table without importing torch, and each builder imports the class
when a net is built. docs/algorithm.md ("The weighting net", "Warm-up") says what each net does
and why only the default one starts after a warm-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gdw.registry import WeightNetSpec, register_weight_net

if TYPE_CHECKING:
    from torch import nn

__all__: list[str] = []  # the entries are the registry's


def _weight_net(*, monotone: bool, normalise: bool) -> Callable[[], nn.Module]:
    """The builder of MW-Net's net with our two changes on or off (see ``WeightNet``)."""

    def build() -> nn.Module:
        from gdw.weighting.weight_net import WeightNet

        return WeightNet(monotone=monotone, normalise=normalise)

    return build


register_weight_net(
    WeightNetSpec(
        id="monotone",
        label="monotone, normalised",
        description="its weight can only fall as an example's loss rises, so a low weight means "
        "a distrusted label, and a batch's weights are divided by their mean",
        builder=_weight_net(monotone=True, normalise=True),
        warmup_fraction=0.1,
    )
)
register_weight_net(
    WeightNetSpec(
        id="paper",
        label="the paper's",
        description="the paper's net, unconstrained and unnormalised, whose weights rise with "
        "the loss on many runs, as docs/weights-study.md measures",
        builder=_weight_net(monotone=False, normalise=False),
    )
)
register_weight_net(
    WeightNetSpec(
        id="monotone-raw",
        label="monotone, not normalised",
        description="ablation: the monotone net, its weights not divided by their mean",
        builder=_weight_net(monotone=True, normalise=False),
    )
)
register_weight_net(
    WeightNetSpec(
        id="paper-normalised",
        label="the paper's, normalised",
        description="ablation: the paper's net, its weights divided by their mean",
        builder=_weight_net(monotone=False, normalise=True),
    )
)
