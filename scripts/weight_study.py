"""When do a run's weights find its label errors, and when do they invert? The study's numbers.

    python scripts/weight_study.py SWEEP_OR_RUNS_DIR... [--window 5] [--csv FILE] [--by-epoch]
    python scripts/weight_study.py SWEEP_DIR... --figure FILE.png [--figure-runs NAME,NAME]

For every completed run whose errors are known (injected noise, human noise or canaries), for
every epoch, and for every registered score (``gdw.runs.label_scores``: the given-class weight,
the instance weight, the given-class weight relative to it, the outer step on the given class,
the model's given-label probability and margin): the AUROC of the score against the errors
(1 = every error scores below every correct label, 0.5 = chance, below 0.5 = inverted) and its
precision at k, k = the number of errors, both for the score averaged over the ``--window``
epochs ending there (what ``gdw label-issues`` ranks by at that epoch). With it, per epoch, the test
accuracy and the weighting net's lean (``gdw.runs.story.lean``: the rank correlation of the
instance weight with the loss; +1 up-weights hard examples, -1 down-weights them).

It prints one markdown table, one line per data set, setting and method (mean over seeds, the
lowest seed in brackets) at the last epoch, and with ``--by-epoch`` the same per epoch;
``--compact`` prints the study's table of docs/weights-study.md instead (GDW with the default
weighting net against the paper's, and the default ranking of ``gdw label-issues``).
``--figure`` draws the mechanism (``scripts/weight_study_figure.py``): the lean and the noise
AUROC of the instance weight epoch by epoch, with the test accuracy, for the runs named (default:
every run of the first seed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, uninstalled
sys.path.insert(1, str(Path(__file__).resolve().parent))  # its neighbours in scripts/
from gdw import Run, corruption_text, list_runs, method_label  # noqa: E402
from gdw.runs.label_issues import DEFAULT_LAST_EPOCHS  # noqa: E402
from gdw.runs.label_quality import ranking_quality  # noqa: E402
from gdw.runs.label_scores import score_ids, score_spec, window_scores  # noqa: E402
from gdw.runs.story import lean  # noqa: E402

KEYS = ("dataset", "model", "setting", "method")


def ranking_rows(
    per_epoch: Mapping[str, Mapping[str, np.ndarray]],
    given: np.ndarray,
    errors: np.ndarray,
    *,
    window: int,
) -> list[dict[str, float | int | str]]:
    """The quality of every score at every epoch.

    Args:
        per_epoch: epoch arrays by name (``weights`` ``[E, R, C]``, others ``[E, R]``); only the
            names a score reads need be present, and scores whose arrays are missing are left
            out.
        given: ``[R]`` given labels; errors: bool ``[R]``, the known label errors.
        window: the number of epochs a score is averaged over, ending at each epoch.

    Returns:
        One dict per (epoch, score): ``epoch`` (1-based), ``score``, ``auroc`` and
        ``precision_at_k`` (k = the number of errors; NaN where undefined).
    """
    errors = np.asarray(errors, dtype=bool)
    epochs = min((len(values) for values in per_epoch.values()), default=0)
    rows: list[dict[str, float | int | str]] = []
    for score in score_ids():
        spec = score_spec(score)
        if not all(name in per_epoch for name in spec.arrays):
            continue
        for epoch in range(1, epochs + 1):
            first = max(1, epoch - window + 1)
            arrays = [
                {name: per_epoch[name][e - 1] for name in spec.arrays}
                for e in range(first, epoch + 1)
            ]
            scores = window_scores(spec, arrays, given)
            quality = ranking_quality(scores, errors, int(errors.sum()))
            rows.append(
                {
                    "epoch": epoch,
                    "score": score,
                    "auroc": _nan(quality["auroc"]),
                    "precision_at_k": _nan(quality["precision_at_k"]),
                }
            )
    return rows


def leans(instance_weights: np.ndarray, given_prob: np.ndarray) -> list[float]:
    """:func:`gdw.runs.story.lean` of every epoch of ``[E, R]`` arrays."""
    return [lean(instance, prob) for instance, prob in zip(instance_weights, given_prob)]


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def setting_of(data: Mapping) -> str:
    """``uniform 5%``, ``flip 40%``, ``human worse``, ``clean + 2% canaries``..."""
    text = corruption_text(data)
    if float(data.get("canaries") or 0) > 0:
        text += f" + {100 * float(data['canaries']):g}% canaries"
    return text


def method_of(run: Run) -> str:
    """The method's label, with its weighting net when that is not the default."""
    config = run.settings
    label = method_label(config.get("method", "?"))
    net = config.get("weight_net")
    return f"{label} ({net} net)" if net and net != "monotone" else label


def run_rows(run: Run, *, window: int) -> pd.DataFrame:
    """:func:`ranking_rows` of one run with its description, test accuracy and lean."""
    instances = run.instances
    given = instances["given_label"].to_numpy(dtype=np.int64)
    errors = instances["is_noisy"].to_numpy().astype(bool)
    names = {name for score in score_ids() for name in score_spec(score).arrays}
    per_epoch = {name: run.array(name) for name in names if run.has_array(name)}
    rows = pd.DataFrame(ranking_rows(per_epoch, given, errors, window=window))
    metrics = run.metrics.set_index("epoch")
    rows["test_acc"] = rows["epoch"].map(metrics["test_acc"])
    if "instance_weights" in per_epoch and "given_prob" in per_epoch:
        by_epoch = leans(per_epoch["instance_weights"], per_epoch["given_prob"])
        rows["lean"] = rows["epoch"].map(lambda e: by_epoch[e - 1])
    data = run.data
    rows["dataset"] = data.get("dataset")
    rows["model"] = run.resolved.get("model")
    rows["setting"] = setting_of(data)
    rows["noise"] = data.get("noise")
    rows["noise_rate"] = float(data.get("noise_rate") or 0)
    rows["method"] = method_of(run)
    rows["seed"] = data.get("seed")
    rows["run"] = run_key(run)
    rows["errors"] = int(errors.sum())
    return rows


def run_key(run: Run) -> str:
    """``SWEEP/RUN`` for a run of a sweep folder (``SWEEP/runs/RUN``), ``FOLDER/RUN`` otherwise:
    two sweeps of one grid name their runs alike."""
    folder = run.path.parent
    owner = folder.parent if folder.name == "runs" else folder
    return f"{owner.name}/{run.run_id}"


def completed_runs(folders: Iterable[Path]) -> list[Run]:
    """The completed runs with known errors in sweep folders (``DIR/runs``) or runs folders."""
    runs = []
    for folder in folders:
        where = folder / "runs" if (folder / "runs").is_dir() else folder
        for run in list_runs(where):
            if run.state == "completed" and len(run.instances) and run.instances["is_noisy"].any():
                runs.append(run)
    return runs


def summary_markdown(rows: pd.DataFrame, *, epoch: str = "last") -> str:
    """Mean over seeds (lowest seed in brackets) of each score's AUROC, per data set, setting
    and method, at each run's last epoch (``epoch="last"``) or at every epoch (``"all"``)."""
    if epoch == "last":
        rows = rows[rows["epoch"] == rows.groupby("run")["epoch"].transform("max")]
    scores = [s for s in score_ids() if s in set(rows["score"])]
    keys = [*KEYS, "epoch"] if epoch == "all" else list(KEYS)
    header = [*keys, "seeds", "test acc", "lean", *(score_spec(s).label for s in scores)]
    header.append("precision at k (margin)")
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(keys) + "---:|" * (len(header) - len(keys)),
    ]
    for key, group in rows.groupby(keys, sort=False):
        cells = [str(k) for k in key]
        per_run = group.drop_duplicates("run")
        cells += [str(len(per_run)), f"{100 * per_run['test_acc'].mean():.1f}%"]
        cells.append(f"{per_run['lean'].mean():+.2f}" if "lean" in per_run else "")
        for score in scores:
            values = group.loc[group["score"] == score, "auroc"].dropna()
            cells.append(f"{values.mean():.3f} ({values.min():.2f})" if len(values) else "–")
        margin = group.loc[group["score"] == "margin", "precision_at_k"].dropna()
        cells.append(f"{margin.mean():.3f}" if len(margin) else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


DATA_ORDER = {"digits": 0, "imagefolder": 1, "mnist": 2, "cifar10": 3}
NOISE_ORDER = {"uniform": 0, "flip": 1, "human": 2}
"""The compact table's row order: the study's data sets as docs/weights-study.md lists them,
and per data set the noise types by rising rate."""


def compact_markdown(rows: pd.DataFrame, *, method: str = "GDW") -> str:
    """The study's table (docs/weights-study.md): per data set and setting, at each run's last
    epoch, ``method`` with the default weighting net against the paper's (test accuracy, the
    AUROC of the given-class weight and of the instance weight, the lean), then the default
    ranking of ``gdw
    label-issues`` (the margin of the default run: AUROC and precision at k) and ERM's margin.
    AUROCs are means over seeds with the lowest seed in brackets."""
    rows = rows[rows["epoch"] == rows.groupby("run")["epoch"].transform("max")]
    rows = rows.assign(
        data_order=rows["dataset"].map(lambda name: DATA_ORDER.get(name, len(DATA_ORDER))),
        noise_order=rows["noise"].map(lambda name: NOISE_ORDER.get(name, len(NOISE_ORDER))),
    ).sort_values(["data_order", "model", "noise_order", "noise_rate", "setting"], kind="stable")
    paper = f"{method} (paper net)"

    def cell(group: pd.DataFrame, who: str, score: str, column: str = "auroc") -> str:
        values = group.loc[(group["method"] == who) & (group["score"] == score), column]
        values = values.dropna()
        return f"{values.mean():.3f} ({values.min():.2f})" if len(values) else "–"

    def mean(group: pd.DataFrame, who: str, column: str, scale: float, form: str) -> str:
        values = group.loc[group["method"] == who].drop_duplicates("run")[column].dropna()
        return format(scale * values.mean(), form) if len(values) else "–"

    header = (
        "| data | setting | seeds | test acc, default / paper | given-class weight, default "
        "| given-class weight, paper | instance weight, default | instance weight, paper "
        "| lean, default / paper "
        "| label-issues (margin) | its precision at k | ERM's margin |"
    )
    lines = [header, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (dataset, model, setting), group in rows.groupby(
        ["dataset", "model", "setting"], sort=False
    ):
        seeds = group.loc[group["method"] == method, "run"].nunique()
        if not seeds:
            continue
        cells = [
            f"{dataset} ({model})",
            setting,
            str(seeds),
            " / ".join(mean(group, who, "test_acc", 100, ".1f") for who in (method, paper)),
            cell(group, method, "given_weight"),
            cell(group, paper, "given_weight"),
            cell(group, method, "instance_weight"),
            cell(group, paper, "instance_weight"),
            " / ".join(mean(group, who, "lean", 1, "+.2f") for who in (method, paper)),
            cell(group, method, "margin"),
            cell(group, method, "margin", "precision_at_k"),
            cell(group, "ERM", "margin"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, metavar="DIR")
    parser.add_argument(
        "--window",
        type=int,
        default=DEFAULT_LAST_EPOCHS,
        help="epochs a score is averaged over, as gdw label-issues does (default: %(default)s)",
    )
    parser.add_argument("--csv", type=Path, help="write every run, epoch and score to FILE")
    parser.add_argument("--by-epoch", action="store_true", help="the table at every epoch")
    parser.add_argument(
        "--compact",
        action="store_true",
        help="the study's table (docs/weights-study.md): GDW with the default net against the "
        "paper's, and the ranking",
    )
    parser.add_argument("--figure", type=Path, help="draw the mechanism into FILE (.png, .html)")
    parser.add_argument(
        "--figure-runs",
        help="comma-separated runs for --figure, as SWEEP/RUN (e.g. a sweep "
        "folder's name, a slash, and a run's)",
    )
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.folders if not p.is_dir()]
    if missing:
        print(f"error: no folder {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.window < 1:
        print(f"error: --window must be at least 1, got {args.window}", file=sys.stderr)
        return 2
    runs = completed_runs(args.folders)
    if not runs:
        print("error: no completed run with known label errors in those folders", file=sys.stderr)
        return 2
    rows = pd.concat([run_rows(run, window=args.window) for run in runs], ignore_index=True)
    if args.csv:
        rows.to_csv(args.csv, index=False, float_format="%.6g")
    if args.compact:
        print(compact_markdown(rows))
    else:
        print(summary_markdown(rows, epoch="all" if args.by_epoch else "last"))
    if args.figure:
        names = (
            args.figure_runs.split(",")
            if args.figure_runs
            else sorted(rows.loc[rows["seed"] == rows["seed"].min(), "run"].unique())
        )
        per_epoch = pd.concat(  # the figure shows each epoch's own weights, not a window's mean
            [run_rows(run, window=1) for run in runs if run_key(run) in names], ignore_index=True
        )
        from weight_study_figure import mechanism_figure, save_figure  # plotly, only here

        save_figure(mechanism_figure(per_epoch, names), args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
