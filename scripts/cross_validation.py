"""Out-of-sample probabilities of every training example by stratified K-fold cross-validation,
the reference a one-run ranking of label errors is measured against
(``compare_label_finders.py``): with the run's own model trained as the run trains it
(:func:`own_model_fit`) or with a logistic regression on the pixels (:func:`logistic_fit`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gdw import NoisyDataset, RunConfig, normalize
from gdw.training.failures import TrainingDiverged
from gdw.training.session import lr_schedule, plan_run, seeded_method
from gdw.training.stepper import Stepper, channel_constants

Fit = Callable[[np.ndarray, np.ndarray, int], np.ndarray]
"""``fit(train, test, fold)``: probabilities ``[len(test), C]`` of a model fitted on ``train``."""


def out_of_sample_probs(
    fit: Fit, given: np.ndarray, n_classes: int, *, folds: int, seed: int
) -> np.ndarray:
    """Probabilities ``[N, C]``, each example's from the model of the fold that held it out;
    the folds are stratified by the given labels ``given`` and shuffled by ``seed``."""
    probs = np.zeros((given.size, n_classes))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(np.zeros(given.size), given)):
        probs[test] = fit(train, test, fold)
    return probs


def fold_data(data: NoisyDataset, train: np.ndarray) -> NoisyDataset:
    """``data`` with only the training examples ``train``; its meta and test sets, channel
    statistics and augmentation stay as they are."""
    index = torch.as_tensor(train)
    return dataclasses.replace(
        data,
        train_images=data.train_images[index],
        train_given=data.train_given[index],
        train_true=data.train_true[index],
        train_source_index=data.train_source_index[index],
        train_sources=tuple(data.train_sources[i] for i in train) if data.train_sources else (),
        train_canary=data.train_canary[index],
    )


def train_as_run(
    config: RunConfig, data: NoisyDataset, *, device: torch.device, seeds: Sequence[int]
) -> torch.nn.Module:
    """The classifier of ``config`` trained on ``data``'s training split as the run trains it,
    but as ERM (the registered ``erm`` method), through the trainer's own pieces, so it follows
    them when they change.

    Args:
        seeds: the seeds of the initial weights, the batch order and the augmentation.

    Raises:
        TrainingDiverged: the loss became NaN or infinite.
    """
    erm = config.replace(method="erm")
    plan = plan_run(erm, data, device)
    init_seed, order_seed, augment_seed = seeds
    method = seeded_method(erm, plan, data, init_seed)
    stepper = Stepper(
        method,
        data,
        batch_size=erm.batch_size,
        device=plan.device,
        order_seed=order_seed,
        augment_seed=augment_seed,
        record=False,
    )
    schedule = lr_schedule(method.optimizer, plan.epochs)
    for epoch in range(1, plan.epochs + 1):
        stepper.begin_epoch()
        for step in range(1, plan.steps + 1):
            stepper.step(step)
        if stepper.end_epoch().first_bad_step >= 0:
            raise TrainingDiverged(
                f"the cross-validated {plan.model} diverged in epoch {epoch}; the run's lr "
                f"{config.lr:g} is too large for ERM on a fold"
            )
        schedule.step()
    return method.model


@torch.no_grad()
def held_out_probs(
    model: torch.nn.Module, images: torch.Tensor, data: NoisyDataset, device: torch.device
) -> np.ndarray:
    """Softmax probabilities ``[N, C]`` of uint8 ``images`` in eval mode, normalised as the run
    normalises, without augmentation."""
    model.eval()
    mean, std = channel_constants(data, device)
    probs = [
        torch.softmax(model(normalize(chunk.to(device), mean, std)).float(), dim=1).cpu()
        for chunk in images.split(1000)
    ]
    return torch.cat(probs).double().numpy()


def own_model_fit(
    config: RunConfig, data: NoisyDataset, *, folds: int, device: torch.device
) -> Fit:
    """:data:`Fit` by :func:`train_as_run`; fold ``f`` of K draws its seeds from
    ``(seed, K, f)``."""

    def fit(train: np.ndarray, test: np.ndarray, fold: int) -> np.ndarray:
        seeds = np.random.SeedSequence([config.seed, folds, fold]).generate_state(3)
        model = train_as_run(
            config, fold_data(data, train), device=device, seeds=[int(s) for s in seeds]
        )
        return held_out_probs(model, data.train_images[torch.as_tensor(test)], data, device)

    return fit


def logistic_fit(data: NoisyDataset) -> Fit:
    """:data:`Fit` by a logistic regression on the standardised pixels."""
    pixels = data.train_images.numpy().reshape(data.train_given.numel(), -1) / 255.0
    given = data.train_given.numpy()

    def fit(train: np.ndarray, test: np.ndarray, fold: int) -> np.ndarray:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(pixels[train], given[train])
        return model.predict_proba(pixels[test])

    return fit
