"""Statistics of a sweep's ``results.csv``: means over seeds and paired comparisons.

Pure functions of the results table (one row per run, see
:data:`gdw.sweeps.results.RESULT_COLUMNS`). Runs of the same seed share the meta split, the
corrupted labels, the initial weights and the
batch order, so the difference of two methods is taken seed by seed (a paired comparison):
the seed-to-seed spread that both methods share cancels out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from gdw.registry import comparison_pairs, method_ids, method_label

__all__ = [
    "method_order",
    "paired_differences",
    "setting_label",
    "summary_markdown",
    "summary_table",
]
_SETTING = ["noise", "noise_rate", "imbalance", "human_labels"]
WITHIN_NOISE = "within seed noise"


def setting_label(
    noise: str, noise_rate: float, imbalance: float, human_labels: str | None = None
) -> str:
    """``uniform 40%``, ``human worse``, ``imbalance 0.1``, ``uniform 40% + imbalance 0.1`` or
    ``clean``."""
    parts = []
    if noise == "human":
        parts.append(f"human {human_labels}")
    elif noise != "none" and noise_rate > 0:
        parts.append(f"{noise} {noise_rate * 100:g}%")
    if imbalance != 1.0:
        parts.append(f"imbalance {imbalance:g}")
    return " + ".join(parts) or "clean"


def _with_label_sets(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` with a ``human_labels`` column that is ``""`` where there is no label set
    (results of drawn noise, or written before the column existed): grouping drops missing
    keys."""
    if "human_labels" in results and results["human_labels"].notna().all():
        return results
    labels = results["human_labels"] if "human_labels" in results else None
    labels = pd.Series(labels, index=results.index, dtype=object)
    return results.assign(human_labels=labels.where(labels.notna(), "").astype(str))


def method_order(methods: object) -> list[str]:
    """The distinct ``methods`` in the registry's order; unregistered ones (old results) last."""
    present = list(dict.fromkeys(methods))  # type: ignore[call-overload]
    known = [m for m in method_ids() if m in present]
    return known + [m for m in present if m not in known]


def _with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    labels = [setting_label(*row) for row in frame[_SETTING].itertuples(index=False)]
    return frame.assign(setting=labels)


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per setting and method, settings in the order they first appear.

    Columns: ``setting``, the setting's columns (``noise, noise_rate, imbalance,
    human_labels``), ``method, seeds, mean, std`` (of ``final_acc``; ``std`` over seeds with
    ``ddof=1``, NaN for one seed), ``best_mean``, ``noise_auroc`` (mean) and ``seconds`` (mean).
    """
    columns = [
        "setting",
        *_SETTING,
        "method",
        "seeds",
        "mean",
        "std",
        "best_mean",
        "noise_auroc",
        "seconds",
    ]
    if results.empty:
        return pd.DataFrame(columns=columns)
    results = _with_label_sets(results)
    grouped = results.groupby(_SETTING + ["method"], sort=False)
    table = grouped.agg(
        seeds=("final_acc", "count"),
        mean=("final_acc", "mean"),
        std=("final_acc", "std"),
        best_mean=("best_acc", "mean"),
        noise_auroc=("noise_auroc", "mean"),
        seconds=("seconds", "mean"),
    ).reset_index()
    order = {method: rank for rank, method in enumerate(method_order(results["method"]))}
    first = {
        key: rank
        for rank, key in enumerate(
            dict.fromkeys(results[_SETTING].itertuples(index=False, name=None))
        )
    }
    table["_setting"] = [first[tuple(row)] for row in table[_SETTING].itertuples(index=False)]
    table["_method"] = table["method"].map(order).fillna(len(order))
    table = table.sort_values(["_setting", "_method"]).drop(columns=["_setting", "_method"])
    return _with_labels(table)[columns].reset_index(drop=True)


def paired_differences(
    results: pd.DataFrame,
    *,
    method: str = "gdw",
    baseline: str = "mwnet",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """``method`` minus ``baseline`` in ``final_acc`` per setting, over the seeds both finished.

    For the per-seed differences ``d``: ``mean_diff``, ``std_diff`` (``ddof=1``), the
    ``confidence`` interval ``[low, high]`` of the mean (Student t with ``seeds - 1`` degrees
    of freedom) and the two-sided paired t-test ``p_value``. ``verdict`` says
    ``"<method> ahead"`` or ``"<method> behind"`` when the interval excludes 0,
    :data:`WITHIN_NOISE` when it includes 0, ``"too few seeds"`` below two seeds.
    """
    from scipy import stats  # scipy comes with scikit-learn

    columns = [
        "setting",
        *_SETTING,
        "seeds",
        "mean_diff",
        "std_diff",
        "low",
        "high",
        "p_value",
        "verdict",
    ]
    name = method_label(method)
    rows = []
    for key, by_seed in _accuracies_by_setting(results).items():
        present = set().union(*by_seed.values())
        if method not in present or baseline not in present:
            continue
        pairs = [accs for accs in by_seed.values() if method in accs and baseline in accs]
        diffs = np.array([accs[method] - accs[baseline] for accs in pairs], dtype=float)
        n = diffs.size
        mean = float(diffs.mean()) if n else math.nan
        std = float(diffs.std(ddof=1)) if n > 1 else math.nan
        low = high = p_value = math.nan
        verdict = "too few seeds"
        if n > 1:
            half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n)
            low, high = mean - half, mean + half
            if std > 0:
                p_value = float(2 * stats.t.sf(abs(mean) / (std / math.sqrt(n)), n - 1))
            else:
                p_value = 1.0 if mean == 0 else 0.0
            if low > 0:
                verdict = f"{name} ahead"
            elif high < 0:
                verdict = f"{name} behind"
            else:
                verdict = WITHIN_NOISE
        rows.append([*key, n, mean, std, low, high, p_value, verdict])
    frame = pd.DataFrame(rows, columns=columns[1:])
    return _with_labels(frame)[columns]


def _accuracies_by_setting(results: pd.DataFrame) -> dict[tuple, dict[Any, dict[str, float]]]:
    """``{setting: {seed: {method: final_acc}}}``, settings in the order they first appear,
    runs without an accuracy left out.

    Plain dictionaries: a sweep's summary is rewritten after every run, and one pandas pivot
    per setting and comparison made that rewrite cost the driver 0.4-0.6 s of CPU (taken from
    the runs training beside it) on a digits sweep.
    """
    results = _with_label_sets(results)
    table: dict[tuple, dict[Any, dict[str, float]]] = {}
    columns = [*_SETTING, "seed", "method", "final_acc"]
    for *setting, seed, method, accuracy in results[columns].itertuples(index=False, name=None):
        if accuracy == accuracy:  # not NaN
            table.setdefault(tuple(setting), {}).setdefault(seed, {})[method] = float(accuracy)
    return table


def _number(value: float, digits: int = 1, *, sign: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _accuracy_section(table: pd.DataFrame, methods: list[str]) -> list[str]:
    labels = [method_label(m) for m in methods]
    lines = ["| setting | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(methods)]
    rows: dict[str, dict[str, tuple[float, float, int]]] = {}
    for setting, method, mean, std, seeds in table[
        ["setting", "method", "mean", "std", "seeds"]
    ].itertuples(index=False, name=None):
        rows.setdefault(setting, {})[method] = (mean, std, seeds)
    for setting, by_method in rows.items():
        best = max(mean for mean, _, _ in by_method.values())
        cells = []
        for method in methods:
            if method not in by_method:
                cells.append("–")
                continue
            mean, std, seeds = by_method[method]
            text = f"{_number(mean)} ± {_number(std)}" + (f" ({seeds})" if seeds < 2 else "")
            cells.append(f"**{text}**" if len(by_method) > 1 and mean == best else text)
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    return lines


def _auroc_section(results: pd.DataFrame, methods: list[str]) -> list[str]:
    """Noise AUROC (last epoch) per noisy setting and method, mean ± sd over seeds: how well
    each method's weights picked out the wrong labels (ERM's weights are all 1: 0.5)."""
    if results.empty or not np.isfinite(results["noise_auroc"].astype(float)).any():
        return []
    lines = [
        "## Noise AUROC (last epoch), mean ± sd over seeds",
        "",
        "How well low weights pick out the examples whose label is wrong (0.5: no better than "
        "chance; below: the wrong labels are trusted most). ERM's weights are all 1: 0.5.",
        "",
        "| setting | " + " | ".join(method_label(m) for m in methods) + " |",
        "|---|" + "---:|" * len(methods),
    ]
    results = _with_label_sets(results).assign(noise_auroc=results["noise_auroc"].astype(float))
    grouped = results.groupby(_SETTING + ["method"], sort=False)["noise_auroc"]
    stats_by_key = grouped.agg(["mean", "std"])
    for setting, frame in _with_labels(results).groupby("setting", sort=False):
        if not np.isfinite(frame["noise_auroc"]).any():
            continue  # clean labels: nothing to find
        key = tuple(frame[_SETTING].iloc[0])
        cells = []
        for method in methods:
            if (*key, method) not in stats_by_key.index:
                cells.append("–")
                continue
            mean, std = stats_by_key.loc[(*key, method)]
            cells.append(f"{_number(mean, 3)} ± {_number(std, 3)}")
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    return lines + [""]


def _paired_section(paired: pd.DataFrame, method: str, baseline: str, question: str) -> list[str]:
    first, second = method_label(method), method_label(baseline)
    lines = [
        f"## {first} minus {second}, paired by seed",
        "",
        f"What it measures: {question}.",
        "",
        "| setting | seeds | mean difference | sd of differences | 95% interval | p (paired t) "
        "| verdict |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in paired.itertuples(index=False):
        interval = f"[{_number(row.low, sign=True)}, {_number(row.high, sign=True)}]"
        p_value = "–" if not np.isfinite(row.p_value) else f"{row.p_value:.2g}"
        lines.append(
            f"| {row.setting} | {row.seeds} | {_number(row.mean_diff, sign=True)} | "
            f"{_number(row.std_diff)} | {interval} | {p_value} | {row.verdict} |"
        )
    groups: dict[str, list[str]] = {}
    for row in paired.itertuples(index=False):
        groups.setdefault(row.verdict, []).append(row.setting)
    lines.append("")
    lines += [f"- {verdict}: {', '.join(settings)}" for verdict, settings in groups.items()]
    return lines + [""]


def summary_markdown(
    results: pd.DataFrame,
    *,
    spec: Mapping[str, Any],
    planned: int,
    failed: Mapping[str, str] | None = None,
    command: str | None = None,
) -> str:
    """The text of ``summary.md``: the accuracy table and the paired comparisons."""
    base = spec.get("base", {})
    dataset = base.get("data", {}).get("dataset", "?")
    title = f"preset {spec['preset']}" if spec.get("preset") else f"{dataset}, custom grid"
    seeds = len(spec.get("seeds", []))
    lines = [
        f"# Sweep: {title}",
        "",
        f"{len(results)} of {planned} runs finished"
        + (" (partial)." if len(results) < planned else "."),
        f"Dataset {dataset}, model {base.get('model')}, {base.get('epochs')} epochs, "
        f"lr {base.get('lr')}, batch {base.get('batch_size')}, seeds {spec.get('seeds')}.",
    ]
    if command:
        lines.append(f"Command: `{command}`")
    lines += [
        "",
        f"## Test accuracy (%), mean ± sd over {seeds} seeds",
        "",
        "Test accuracy is the mean of the last 5 epochs. Bold: the best mean of the row. A count "
        "in brackets: fewer than two seeds finished.",
        "",
    ]
    methods = method_order(results["method"])
    lines += _accuracy_section(summary_table(results), methods) + [""]
    lines += _auroc_section(results, methods)
    for method, baseline, question in comparison_pairs(methods):
        paired = paired_differences(results, method=method, baseline=baseline)
        lines += _paired_section(paired, method, baseline, question)
    lines += [
        "The same seed gives every method the same meta split, corrupted labels, initial weights "
        "and batch order, so differences are taken seed by seed. The 95% interval is a Student t "
        f"interval of the mean difference; {WITHIN_NOISE!r} means it includes 0. Many settings "
        "are compared at once: at the 5% level about one in twenty such intervals misses 0 by "
        "chance alone.",
        "",
    ]
    if not results.empty:
        seconds = results.groupby("method", sort=False)["seconds"].mean()
        lines += [
            "Mean seconds per run: "
            + ", ".join(f"{method_label(m)} {seconds[m]:.1f}" for m in methods)
            + ".",
            "",
        ]
    if failed:
        lines += (
            ["## Failed runs", ""]
            + [f"- `{name}`: {error}" for name, error in failed.items()]
            + [""]
        )
    return "\n".join(lines)
