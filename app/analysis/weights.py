"""Pure computations over a loaded run's recorded weights: the signals' names and weights, the
noise found, the lean, the heatmap's sample, per-class tables and the CSV downloads.

Nothing here imports Streamlit or plotly, so every function is tested without a browser. The
functions read only what they are asked about: one epoch of weights (memory-mapped), or the
weights of a few rows over all epochs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from gdw import Run

__all__ = [
    "class_weight_table",
    "example_weights_csv",
    "format_weight",
    "given_weights",
    "has_noise",
    "heatmap_sample",
    "noise_rate_of",
    "nontarget_mean",
    "precision_at_k",
    "rows_weights_csv",
    "signal_names",
    "weights_below_chance",
]


def format_weight(weight: float) -> str:
    """Two decimals, or three significant digits for small weights (0.0042, not 0.00)."""
    return f"{weight:.2f}" if abs(weight) >= 0.095 else f"{weight:.2g}"


def signal_names(classes: Sequence[str], given: int) -> list[str]:
    """The paper's names of an example's class-level signals: the given class as itself
    ("dog"), every other class as "not cat", "not bird"."""
    return [name if j == given else f"not {name}" for j, name in enumerate(classes)]


def given_weights(weights: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Weight of each row's given-class signal. weights [R, C], given [R] -> [R]."""
    return weights[np.arange(len(given)), given]


def nontarget_mean(weights: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Mean weight of each row's other-class ("not ...") signals. [R, C], [R] -> [R]."""
    n_classes = weights.shape[1]
    if n_classes < 2:
        return np.full(len(given), np.nan, dtype=np.float32)
    total = weights.sum(axis=1) - given_weights(weights, given)
    return total / (n_classes - 1)


def has_noise(run: Run) -> bool:
    """True when the run's data carries injected label noise (so noise scores mean something)."""
    data = run.data
    return data.get("noise", "none") != "none" and bool(run.instances["is_noisy"].any())


def noise_rate_of(run: Run) -> float:
    """Realised fraction of recorded examples whose given label differs from the true one."""
    return float(run.instances["is_noisy"].mean()) if len(run.instances) else 0.0


def weights_below_chance(aurocs: Sequence[float], *, epochs: int = 3) -> bool:
    """True when the last ``epochs`` noise AUROCs are all below 0.5: for that long, the weights
    ranked the mislabelled examples *above* the clean ones. False with fewer epochs (or a
    missing value among them): one bad epoch early on is common and says little.

    Args:
        aurocs: the ``noise_auroc`` column of a run's metrics, oldest first, up to the epoch
            being looked at.
        epochs: how many of the latest epochs must all be below 0.5.
    """
    latest = [float(value) for value in list(aurocs)[-epochs:]]
    return len(latest) == epochs and all(value < 0.5 for value in latest)


def precision_at_k(run: Run, epoch: int, ks: Sequence[int]) -> pd.DataFrame:
    """Precision of the k lowest given-class weights as a detector of the injected noise.

    Returns columns ``k, precision, chance`` (chance = realised noise rate); empty when the run
    has no injected noise.
    """
    if not has_noise(run):
        return pd.DataFrame(columns=["k", "precision", "chance"])
    instances = run.instances
    scores = given_weights(run.weights(epoch), instances["given_label"].to_numpy())
    order = np.argsort(scores, kind="stable")
    noisy = instances["is_noisy"].to_numpy().astype(bool)[order]
    hits = np.cumsum(noisy)
    rows = [
        {"k": k, "precision": hits[k - 1] / k, "chance": noisy.mean()}
        for k in sorted({int(k) for k in ks if 1 <= k <= len(order)})
    ]
    return pd.DataFrame(rows, columns=["k", "precision", "chance"])


def heatmap_sample(run: Run, *, max_rows: int = 160, seed: int = 0) -> np.ndarray:
    """Rows for the weight heatmap: a fixed random sample, stratified by given class and
    clean/noisy, ordered by given class then clean before noisy."""
    instances = run.instances
    n = len(instances)
    if n <= max_rows:
        picked = np.arange(n)
    else:
        rng = np.random.default_rng(seed)
        picked = np.sort(rng.choice(n, size=max_rows, replace=False))
    keys = instances.iloc[picked]
    order = np.lexsort(
        (keys["index"].to_numpy(), keys["is_noisy"].to_numpy(), keys["given_label"].to_numpy())
    )
    return picked[order]


def class_weight_table(run: Run, epoch: int) -> pd.DataFrame:
    """Per class: its training size and the mean weights of its signals at ``epoch``.

    Columns: ``class``, ``size`` (recorded examples labelled with it), ``target`` (mean weight of
    the "is this class" signal of examples labelled with it), ``not_class`` (mean weight of the
    "not this class" signal of the examples labelled otherwise). Ordered by size, largest first.
    """
    instances = run.instances
    weights = run.weights(epoch)
    given = instances["given_label"].to_numpy()
    n_classes = weights.shape[1]
    size = np.bincount(given, minlength=n_classes)
    target_sum = np.bincount(given, weights=given_weights(weights, given), minlength=n_classes)
    column_sum = weights.sum(axis=0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        target = target_sum / size
        not_class = (column_sum - target_sum) / (len(given) - size)
    table = pd.DataFrame(
        {"class": run.classes[:n_classes], "size": size, "target": target, "not_class": not_class}
    )
    return table.sort_values("size", ascending=False, kind="stable").reset_index(drop=True)


def example_weights_csv(run: Run, row: int) -> bytes:
    """All epochs of one example's class-level weights as CSV (one column per class signal)."""
    instance = run.instances.iloc[row]
    block = run.weights_of([row])[:, 0, :]
    names = signal_names(run.classes, int(instance["given_label"]))
    table = pd.DataFrame(block, columns=names)
    table.insert(0, "epoch", np.arange(1, len(block) + 1))
    table.insert(1, "index", int(instance["index"]))
    return table.to_csv(index=False).encode()


def rows_weights_csv(run: Run, rows: Sequence[int], epoch: int) -> bytes:
    """The weights of some examples at one epoch, with their labels, as CSV."""
    rows = np.asarray(rows, dtype=np.int64)
    table = run.instances.iloc[rows].reset_index(drop=True).copy()
    classes = run.classes
    table["given_class"] = [classes[c] for c in table["given_label"]]
    table["true_class"] = [classes[c] for c in table["true_label"]]
    weights = run.weights(epoch)[rows]
    for j, name in enumerate(classes):
        table[f"w[{name}]"] = weights[:, j]
    table.insert(0, "epoch", epoch)
    return table.to_csv(index=False).encode()
