"""Pure computations over a loaded run: tables, rankings, labels and the classroom text.

Nothing here imports Streamlit or plotly, so every function is tested without a browser. The
functions read only what they are asked about: one epoch of weights (memory-mapped), or the
weights of a few rows over all epochs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gdw import lean, method_label, recorded_method_spec

if TYPE_CHECKING:
    from gdw import Run

__all__ = [
    "ACCURACY_COLUMNS",
    "method_of",
    "run_label",
    "format_weight",
    "signal_names",
    "given_weights",
    "nontarget_mean",
    "has_noise",
    "noise_rate_of",
    "weights_below_chance",
    "lean_at",
    "lean_series",
    "precision_at_k",
    "heatmap_sample",
    "class_weight_table",
    "explain_example",
    "progress_of",
    "format_seconds",
    "runs_table",
    "config_table",
    "comparable_runs",
    "data_text",
    "example_weights_csv",
    "rows_weights_csv",
]

ACCURACY_COLUMNS = {
    "test_acc": "test",
    "meta_acc": "meta (clean)",
    "train_acc_true": "train vs true labels",
    "train_acc_given": "train vs given labels",
}


def method_of(run: Run) -> str:
    """The run's method name (``gdw``, ``mwnet`` or ``erm``)."""
    return run.method


def run_label(run: Run) -> str:
    """A short legend label: method, then the run id."""
    return f"{method_label(method_of(run))} · {run.run_id}"


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


def lean_at(run: Run, epoch: int) -> float | None:
    """Which way the run's weighting net leans at ``epoch`` (:func:`gdw.lean`): its
    ``metrics.csv`` column, or for a run recorded before it, computed from its ``v0`` and
    given-label probabilities; ``None`` when neither is there or it is undefined (ERM)."""
    series = lean_series(run)
    value = series.get(epoch) if series is not None else None
    return None if value is None or not math.isfinite(value) else float(value)


def lean_series(run: Run) -> pd.Series | None:
    """:func:`lean_at` of every finished epoch, indexed by epoch; ``None`` when unknown."""
    metrics = run.metrics
    if "lean" in metrics and len(metrics):
        return pd.Series(metrics["lean"].to_numpy(dtype=float), index=metrics["epoch"].astype(int))
    if not (run.has_array("base_weights") and run.has_array("given_prob")):
        return None
    epochs = range(1, run.epochs_done + 1)
    values = [lean(run.base_weights(e), run.epoch_array("given_prob", e)) for e in epochs]
    return pd.Series(values, index=list(epochs), dtype=float)


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


def _story_sentence(
    names: list[str], given: int, true: int, weights: np.ndarray, base: float
) -> str:
    """The three signals with their values and the instance weight they started from."""
    fw = format_weight
    rest = [j for j in range(len(names)) if j not in (given, true)]
    w_given = float(weights[given])
    parts = [f"'{names[given]}' **{fw(w_given)}**"]
    ratios = [w_given]
    if true != given:
        parts.append(f"the wrong '{names[true]}' **{fw(float(weights[true]))}**")
        ratios.append(float(weights[true]))
    if rest:
        w_rest = float(np.mean(weights[rest]))
        which = f"'{names[rest[0]]}'" if len(rest) == 1 else f"the {len(rest)} correct 'not …'"
        parts.append(f"{which} **{fw(w_rest)}**" + ("" if len(rest) == 1 else " on average"))
        ratios.append(w_rest)
    text = (
        f" Its signals: {', '.join(parts)}; its instance weight, the MW-Net-style weight "
        f"the class-level step started from, is **{fw(base)}**"
    )
    if base > 0:
        text += " (" + ", ".join(f"×{fw(r / base)}" for r in ratios) + " of it)"
    return text + "."


def explain_example(
    *,
    classes: Sequence[str],
    given: int,
    true: int,
    weights: np.ndarray,
    method: str,
    epoch: int,
    base_weight: float | None = None,
) -> str:
    """The classroom sentence for one example: what its class-level weights say (Markdown).

    Args:
        weights: the example's weights [C] at ``epoch``.
        base_weight: its first-stage instance weight ``v0`` at that visit, when recorded: the
            sentence then names "dog", "not cat" and "not bird" with their values relative to it.
    """
    names = signal_names(classes, given)
    fw = format_weight
    noisy = true != given
    label = f"This image is labelled **{classes[given]}**"
    label += (
        f", but it really is a **{classes[true]}** (an injected label error)." if noisy else "."
    )
    w_given = float(weights[given])
    n_signals = len(classes)
    kind = recorded_method_spec(method).weight_kind
    if kind == "ones":
        return (
            f"{label} {method_label(method)} trusts every signal of every example fully: "
            f"'{names[given]}' and all the 'not …' signals keep weight 1.0."
        )
    if kind == "instance":
        return (
            f"{label} At epoch {epoch}, {method_label(method)} gives the whole example one "
            f"weight, **{fw(w_given)}**: '{names[given]}' and every 'not …' signal are scaled "
            "alike, so the useful 'not …' information is kept or cut together with the label."
        )
    story = (
        ""
        if base_weight is None
        else _story_sentence(names, given, true, weights, float(base_weight))
    )
    correct = [j for j in range(n_signals) if j not in (given, true)]
    if not correct:
        return (
            f"{label} At epoch {epoch}, GDW weighs '{names[given]}' at **{fw(w_given)}**." + story
        )
    best = max(correct, key=lambda j: weights[j])
    w_best = float(weights[best])
    low = min(float(weights[j]) for j in correct)
    top = max(w_given, w_best, float(weights[true]))
    cut = w_given < w_best - 0.1 or w_given < 0.5 * w_best
    alike = not cut and w_given <= w_best
    if top < 0.01:
        core = (
            f"At epoch {epoch}, GDW has all but switched this example off: every one of "
            f"its signals weighs less than 0.01 ('{names[given]}' {fw(w_given)})"
        )
    elif cut:
        core = (
            f"At epoch {epoch}, GDW keeps the '{names[best]}' signal at **{fw(w_best)}** "
            f"while cutting '{names[given]}' to **{fw(w_given)}**"
        )
    elif alike:
        core = (
            f"At epoch {epoch}, GDW weighs '{names[given]}' (**{fw(w_given)}**) about as "
            f"much as the 'not …' signals ({fw(low)}–{fw(w_best)})"
            + ("" if noisy else ": it finds nothing to distrust here")
        )
    else:
        core = (
            f"At epoch {epoch}, GDW weighs '{names[given]}' at **{fw(w_given)}**, more "
            f"than any 'not …' signal (highest: '{names[best]}' at {fw(w_best)})"
        )
    if noisy:
        core += f"; the wrong 'not {classes[true]}' signal gets **{fw(float(weights[true]))}**"
    spread = (
        f" The {len(correct)} correct 'not …' signals get {fw(low)}–{fw(w_best)}."
        if len(correct) > 1 and not alike and top >= 0.01
        else ""
    )
    if top < 0.01 and base_weight is not None:
        return (
            f"{label} {core}. Its instance weight is tiny too, so read the signals "
            f"relative to it.{story}"
        )
    if top < 0.01:
        return (
            f"{label} {core}. GDW could weigh the {n_signals} signals apart; for this "
            "example it agrees with instance weighting (MW-Net), which can only scale them "
            "all together."
        )
    return (
        f"{label} {core}.{spread}{story} Each signal has its own weight; an "
        f"instance-weighting method such as MW-Net would give all {n_signals} of them one "
        "weight."
    )


def progress_of(
    status: dict[str, Any], metrics: pd.DataFrame, *, now: float | None = None
) -> dict[str, Any]:
    """Progress of a run from its status and metrics: fraction done, elapsed and ETA (seconds).

    The ETA uses the mean duration of finished epochs when there are any, else the elapsed
    time over the fraction done; it is ``None`` when nothing can be estimated yet.
    """
    now = time.time() if now is None else now
    state = status.get("state", "unknown")
    epochs = int(status.get("epochs") or 0)
    epoch = int(status.get("epoch") or 0)
    step, steps = int(status.get("step") or 0), int(status.get("steps") or 0)
    within = step / steps if steps and epoch < epochs else 0.0
    fraction = min(1.0, (epoch + within) / epochs) if epochs else 0.0
    if state == "running" and status.get("started_at"):
        elapsed = max(0.0, now - float(status["started_at"]))
    else:
        elapsed = float(status.get("elapsed") or 0.0)
    eta = None
    if state == "running" and epochs:
        if "seconds" in metrics and len(metrics):
            per_epoch = float(pd.to_numeric(metrics["seconds"], errors="coerce").tail(5).mean())
            if math.isfinite(per_epoch):
                eta = max(0.0, (epochs - epoch - within) * per_epoch)
        if eta is None and fraction > 0:
            eta = elapsed * (1 - fraction) / fraction
    return {
        "state": state,
        "epoch": epoch,
        "epochs": epochs,
        "step": step,
        "steps": steps,
        "fraction": fraction,
        "elapsed": elapsed,
        "eta": eta,
    }


def format_seconds(seconds: float | None) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``; ``None`` -> ``–``."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def data_text(data: dict[str, Any]) -> str:
    """ "uniform 40%, imbalance 0.2" from a data configuration record."""
    noise = data.get("noise", "none")
    if noise == "none":
        text = "clean"
    elif noise == "human":
        text = f"human {data.get('human_labels')}"
    else:
        text = f"{noise} {100 * float(data.get('noise_rate', 0)):g}%"
    imbalance = float(data.get("imbalance", 1.0))
    if imbalance < 1.0:
        text += f", imbalance {imbalance:g}"
    return text


def _planned_epochs(run: Run) -> Any:
    return run.planned_epochs or "?"


def runs_table(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run for the runs list: id, method, data, state, progress, test accuracy."""
    rows = []
    for run in runs:
        data = run.data
        last = run.metrics.iloc[-1] if len(run.metrics) else None
        started = run.status.get("started_at")
        rows.append(
            {
                "run": run.run_id,
                "method": method_label(run.method) if run.settings else "",
                "dataset": data.get("dataset"),
                "data": data_text(data) if data else "",
                "state": f"unreadable: {run.reason}" if run.problems else run.state,
                "epochs": f"{run.epochs_done}/{_planned_epochs(run)}",
                "test acc %": None if last is None else round(100 * float(last["test_acc"]), 1),
                "started": (
                    pd.Timestamp(started, unit="s", tz="UTC")
                    .tz_convert(None)
                    .strftime("%Y-%m-%d %H:%M")
                    if started
                    else ""
                ),
            }
        )
    columns = ["run", "method", "dataset", "data", "state", "epochs", "test acc %", "started"]
    return pd.DataFrame(rows, columns=columns)


def config_table(run: Run) -> pd.DataFrame:
    """The run's configuration flattened to ``setting, value`` rows (resolved values marked)."""
    rows: list[tuple[str, str]] = []

    unset = {
        "data.train_subset": "all",
        "data.num_meta": "default (by dataset)",
        "epochs": "default (by dataset)",
        "outer_lr": "default (by classes)",
        "record_limit": "automatic",
        "name": "–",
    }

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        else:
            rows.append((prefix, unset.get(prefix, "–") if value is None else str(value)))

    walk("", dict(run.settings))
    walk("resolved", dict(run.resolved))
    walk("recording", dict(run.recording))
    walk("versions", run.config.get("versions", {}))
    return pd.DataFrame(rows, columns=["setting", "value"])


def comparable_runs(run: Run, runs: Sequence[Run]) -> list[Run]:
    """Runs trained on the same data and seed as ``run`` (itself first): the side-by-side set."""
    same = [other for other in runs if not other.problems and other.data == run.data]
    return [run] + [other for other in same if other.run_id != run.run_id]


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
