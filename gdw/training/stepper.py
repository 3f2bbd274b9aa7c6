"""One run's training steps over an in-memory dataset on one device, and their tally per epoch.

The trainer's loop over the epochs drives a :class:`Stepper` and writes what it reports;
``python -m gdw bench`` times the very same :meth:`Stepper.step`, so the benchmark measures what
training does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from gdw.data.dataset import NoisyDataset
from gdw.data.transforms import augment_batch, normalize
from gdw.weighting.methods import ERM, Method

__all__ = [
    "EpochTotals",
    "Stepper",
    "accuracy",
    "channel_constants",
    "given_label_confidence",
    "recorded_arrays",
]


@dataclass(frozen=True)
class EpochTotals:
    """What one epoch's steps add up to.

    Attributes:
        loss: mean cross-entropy against the given labels over the epoch's visits.
        train_acc_given, train_acc_true: accuracy of the step forwards against the given and
            the true labels (on the fly, as the model moved during the epoch).
        first_bad_step: 1-based step whose loss or weights were not finite, or -1.
        visits: what each training example got at its visit, by name (empty tensors of
            length 0 when the stepper does not record): ``weights`` [N, C] the class-level
            weights, ``instance_weights`` [N] the instance weight ``v0``,
            ``predicted`` [N] the class the step's forward predicted, ``given_prob`` [N] the
            probability it gave the given label, ``margin`` [N] that probability minus the
            largest other one, ``given_step`` [N] how far the outer step moved the given-class
            weight (zeros without an outer step).
    """

    loss: float
    train_acc_given: float
    train_acc_true: float
    first_bad_step: int
    visits: dict[str, torch.Tensor]


@torch.no_grad()
def accuracy(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    data: NoisyDataset,
    *,
    chunk: int = 1000,
) -> float:
    """Eval-mode accuracy on uint8 ``images``; NaN for an empty set. Leaves the model in train
    mode."""
    if labels.numel() == 0:
        return float("nan")
    model.eval()
    mean, std = channel_constants(data, images.device)
    correct = torch.zeros((), dtype=torch.long, device=labels.device)
    for start in range(0, labels.numel(), chunk):
        batch = normalize(images[start : start + chunk], mean, std)
        correct += (model(batch).argmax(1) == labels[start : start + chunk]).sum()
    model.train()
    return correct.item() / labels.numel()


def channel_constants(
    data: NoisyDataset, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-channel mean and std of ``data`` as float32 tensors on ``device``, for
    :func:`~gdw.data.transforms.normalize` (built once: each build is a copy to the device)."""
    mean = torch.tensor(data.mean, dtype=torch.float32, device=device)
    std = torch.tensor(data.std, dtype=torch.float32, device=device)
    return mean, std


class Stepper:
    """Takes a run's training steps: each step's batch and meta batch, their augmentation, the
    method's step, and the tally of the epoch they belong to. It loops over nothing: the
    trainer's loop over the epochs calls it once per step.

    All data lives on ``device``. :meth:`begin_epoch`, called before each epoch's steps, draws
    the epoch's batch order and the meta-batch indices of all its steps on the host and copies
    each to the device at once; a step then makes no host round trip: it slices those orders,
    normalises with constants built once, and its bookkeeping stays in device tensors until
    :meth:`end_epoch`. ``steps`` is the number of batches of an epoch. A *plain* step (the
    warm-up's) is ERM's on the method's classifier and optimiser: every weight 1, the
    weighting net untouched.
    """

    def __init__(
        self,
        method: Method,
        data: NoisyDataset,
        *,
        batch_size: int,
        device: torch.device,
        order_seed: int,
        augment_seed: int,
        record: bool = True,
    ) -> None:
        self.method, self.data, self.batch_size, self.device = method, data, batch_size, device
        self._plain = ERM(method.model, method.optimizer)
        self.record = record
        self.images = data.train_images.to(device)
        self.given = data.train_given.to(device)
        self.true = data.train_true.to(device)
        self.meta_images = data.meta_images.to(device)
        self.meta_labels = data.meta_labels.to(device)
        self.steps = math.ceil(self.given.numel() / batch_size)
        self._meta_size = min(batch_size, self.meta_labels.numel())
        self._mean, self._std = channel_constants(data, device)
        self._order_rng = torch.Generator().manual_seed(order_seed)
        # Runs have always drawn one batch order here that no epoch uses; drawing it still
        # keeps every run's batches, and so every result recorded so far, as they were.
        torch.randperm(self.given.numel(), generator=self._order_rng)
        self._augment_seed = augment_seed
        self._augment_rng = torch.Generator(device=device).manual_seed(augment_seed)
        self._meta_order = torch.empty(0, dtype=torch.long, device=device)

    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        if self.data.augment:
            images = augment_batch(images, self._augment_rng)
        return normalize(images, self._mean, self._std)

    def _meta_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        size = self._meta_size
        take, self._meta_order = self._meta_order[:size], self._meta_order[size:]
        return self._prepare(self.meta_images[take]), self.meta_labels[take]

    def _queue_meta_batches(self) -> None:
        """Appends whole permutations of the meta set to the queue of meta-batch indices until
        it holds this epoch's steps' worth: the permutations a step would draw when the queue
        ran short, in the same order, drawn before the steps instead of in them."""
        n_meta, fresh = self.meta_labels.numel(), []
        short = self.steps * self._meta_size - self._meta_order.numel()
        while short > 0:
            fresh.append(torch.randperm(n_meta, generator=self._order_rng))
            short -= n_meta
        if fresh:
            self._meta_order = torch.cat([self._meta_order, torch.cat(fresh).to(self.device)])

    def begin_epoch(self) -> None:
        """Draws the epoch's batch order and meta-batch indices and clears its totals."""
        n, device = self.given.numel(), self.device
        self._order = torch.randperm(n, generator=self._order_rng).to(device)
        self._queue_meta_batches()
        rows = n if self.record else 0
        self._visits = {
            "weights": torch.zeros(rows, self.data.n_classes, device=device),
            "instance_weights": torch.zeros(rows, device=device),
            "predicted": torch.zeros(rows, dtype=torch.long, device=device),
            "given_prob": torch.zeros(rows, device=device),
            "margin": torch.zeros(rows, device=device),
            "given_step": torch.zeros(rows, device=device),
        }
        self._loss_sum = torch.zeros((), device=device)
        self._hits_given = torch.zeros((), dtype=torch.long, device=device)
        self._hits_true = torch.zeros((), dtype=torch.long, device=device)
        self._first_bad = torch.full((), -1, dtype=torch.long, device=device)

    def step(self, step: int, *, plain: bool = False) -> None:
        """Trains on batch ``step`` (1-based) of the epoch's order; ``plain``: ERM's step."""
        idx = self._order[(step - 1) * self.batch_size : step * self.batch_size]
        x_meta, y_meta = self._meta_batch()
        given = self.given[idx]
        method = self._plain if plain else self.method
        result = method.step(self._prepare(self.images[idx]), given, x_meta, y_meta)
        predicted = result.logits.argmax(1)
        if self.record:
            visits = self._visits
            visits["weights"][idx] = result.weights.to(visits["weights"].dtype)
            visits["instance_weights"][idx] = result.instance_weights.to(
                visits["instance_weights"].dtype
            )
            visits["predicted"][idx] = predicted
            given_prob, margin = given_label_confidence(result.logits, given)
            visits["given_prob"][idx] = given_prob
            visits["margin"][idx] = margin
            visits["given_step"][idx] = result.given_step.to(visits["given_step"].dtype)
        self._loss_sum += result.loss * idx.numel()
        self._hits_given += (predicted == given).sum()
        self._hits_true += (predicted == self.true[idx]).sum()
        finite = torch.isfinite(result.loss) & torch.isfinite(result.weights).all()
        self._first_bad = torch.where((self._first_bad < 0) & ~finite, step, self._first_bad)

    def state_dict(self) -> dict[str, torch.Tensor | str]:
        """The random state between epochs: both generators (the augmentation's with the kind
        of device it draws on) and the meta-batch queue."""
        return {
            "order_rng": self._order_rng.get_state(),
            "augment_rng": self._augment_rng.get_state(),
            "augment_device": self.device.type,
            "meta_order": self._meta_order.cpu(),
        }

    def load_state_dict(self, state: dict[str, torch.Tensor | str], *, epoch: int) -> None:
        """Continues from :meth:`state_dict` of the same run's stepper after epoch ``epoch``, as
        if never stopped.

        The augmentation generator's state fits only a generator of the device kind that saved
        it (a CUDA generator's state is not a CPU generator's). Saved on another kind, it is
        replaced by a generator seeded from the run's augmentation seed and ``epoch``: the
        same checkpoint always continues the same way on a device, but not as the run would
        have on its first device (which other kernels would not do either).
        """
        self._order_rng.set_state(state["order_rng"])
        if self._same_device_kind(state):
            self._augment_rng.set_state(state["augment_rng"])
        else:
            seed = np.random.SeedSequence([self._augment_seed, epoch]).generate_state(1)[0]
            self._augment_rng.manual_seed(int(seed))
        self._meta_order = state["meta_order"].to(self.device)

    def _same_device_kind(self, state: dict[str, torch.Tensor | str]) -> bool:
        """Whether ``state``'s augmentation generator drew on this stepper's kind of device;
        checkpoints written before the kind was stored tell it by their state's size."""
        kind = state.get("augment_device")
        if kind is not None:
            return kind == self.device.type
        return state["augment_rng"].numel() == self._augment_rng.get_state().numel()

    def first_bad_step(self) -> int:
        """The first step of this epoch with a non-finite loss or weight, or -1 (syncs)."""
        return int(self._first_bad.item())

    def end_epoch(self) -> EpochTotals:
        n = self.given.numel()
        return EpochTotals(
            loss=self._loss_sum.item() / n,
            train_acc_given=self._hits_given.item() / n,
            train_acc_true=self._hits_true.item() / n,
            first_bad_step=self.first_bad_step(),
            visits=self._visits,
        )


def given_label_confidence(
    logits: torch.Tensor, given: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The probability of the given label [N] and its margin over the most probable other
    class [N] (in ``[-1, 1]``; negative when the model prefers another class)."""
    probs = torch.softmax(logits.float(), dim=1)
    given_prob = probs.gather(1, given.unsqueeze(1)).squeeze(1)
    others = probs.scatter(1, given.unsqueeze(1), -1.0)  # the given class can never be the max
    return given_prob, given_prob - others.max(1).values


def recorded_arrays(visits: dict[str, torch.Tensor], recorded: np.ndarray) -> dict[str, np.ndarray]:
    """The rows of every ``visits`` array that a run records, on the host."""
    arrays = {}
    for name, values in visits.items():
        arrays[name] = values[torch.as_tensor(recorded, device=values.device)].cpu().numpy()
    return arrays
