"""MW-Net's weighting network: an example's loss to its weight (``--weight-net``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gdw.registry import weight_net_spec
from gdw.weighting.formulas import batch_normalised

__all__ = ["WeightNet", "build_weight_net"]


class WeightNet(nn.Module):
    """MW-Net's weighting network: per-example loss -> weight; 1-100-1, ReLU, sigmoid.

    Two changes of ours, each optional (``--weight-net``, :func:`build_weight_net`):

    - ``monotone``: the weight can only fall as the loss rises. The hidden layer's weights enter
      by their absolute value and the output layer's by minus theirs, so every path from the
      loss to the output has a non-positive slope. The output layer starts ten times smaller
      than PyTorch's default, so the net starts nearly flat (about 0.5 down to 0.3 over the
      usual losses) and the meta set decides how steeply it falls. The paper's net starts with
      a slope of random sign and, as docs/weights-study.md measures, often learns to *raise* the
      weight of high-loss examples.
    - ``normalise``: the weights of a batch are divided by their mean
      (:func:`gdw.weighting.formulas.batch_normalised`), so that the net decides how a batch's
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


def build_weight_net(kind: str) -> nn.Module:
    """The weighting net ``--weight-net`` names, made by its entry in the registry
    (:func:`gdw.registry.weight_net_spec`; the built-in ones:
    :mod:`gdw.weighting.weight_net_table`).
    """
    try:
        spec = weight_net_spec(kind)
    except KeyError as error:
        raise ValueError(error.args[0]) from None
    return spec.builder()
