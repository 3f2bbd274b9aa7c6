"""Finding label errors: cleanlab on K-fold probabilities next to each run's own rankings.

For every data configuration (dataset, corruption, seed, ...) found in the given sweep folders,
this rebuilds the runs' training set from their ``config.json`` and compares these finders:

- ``cleanlab K-fold + own <model>``, one for each K of ``--folds``: cleanlab's
  ``get_label_quality_scores`` (the ranking) and ``find_label_issues`` (the flag) on
  out-of-sample probabilities from stratified K-fold cross-validation (folds stratified by the
  given labels; ``cross_validation.py``). On each K-1 folds the run's classifier is trained as
  the run trains it, as ERM: the run's model and seeded initialisation
  (:func:`gdw.training.session.seeded_method` with the registered ``erm`` method: SGD with the
  run's lr, momentum and weight decay), the run's batch size, epochs and learning-rate schedule
  (:func:`gdw.training.session.lr_schedule`), and the run's batches
  (:class:`gdw.training.stepper.Stepper`: batch order, crop-and-flip augmentation exactly where
  the data augments, i.e. 32x32 colour images, normalisation by the data's channel statistics).
  The held-out fold's probabilities are the softmax in eval mode, without augmentation. The
  suggested label is their arg max.
- ``cleanlab K-fold + logistic regression``: the same with a scikit-learn logistic regression on
  the standardised pixels. It is left out, with a note, on data that augments (CIFAR, image
  folders): on 32x32 colour pixels it finds little and takes long. ``--no-logistic`` leaves it
  out everywhere.
- ``run: <method>, <score>``: each run's own ranking (``gdw label-issues``), averaged over its
  last ``--epochs`` epochs, by its method's default score first and then by every other
  registered score (:func:`gdw.runs.label_scores.score_ids`) whose arrays the run holds, so a
  score registered later shows up here by itself. The suggested label is the most frequent
  prediction, the flag ``is_label_issue``. A run that recorded a subset of its examples is
  skipped, with a message.

The known errors are the examples whose given label differs from the true one: injected noise,
or human labels (``noise human``, CIFAR-10N), which the dataset reads itself from the fields of
``config.json``. Where the runs' data root does not exist here, ``--data-root DIR`` reads the
files from ``DIR`` (the human label file too, unless the run named its own ``noise_file``).

It prints a markdown table, per setting and finder, mean ± standard deviation over seeds of: the
AUROC of the scores against the known errors, the precision among the k lowest scores with k =
the number of known errors, the accuracy of the suggested label on the mislabelled examples,
the precision and recall of the finder's own flag, and its cost in seconds:

- a cleanlab finder's cost is process CPU seconds (``time.process_time()``, every thread of the
  process, ``--threads`` torch threads) of its K trainings, the held-out predictions and
  cleanlab's calls; the models train on ``--device`` (cpu unless told), and on a GPU this counts
  the host's side only;
- a run's cost is the wall seconds of its epochs, summed: ``metrics.csv``'s ``seconds``, each
  epoch's training steps and its evaluation on the test and meta sets (not loading the data nor
  writing checkpoints), on the run's own device and threads, and the same on every score's row
  (one training gives them all).

``--csv FILE`` writes one row per seed, setting and finder, with ``cost_s`` and ``cost_kind``,
and for a run's rows ``trust_rise``: how much the ranking's AUROC rose over its last 3 epochs
(``gdw label-issues`` says "still improving" from 0.01). An ERM run is listed by the scores of its
predictions only (its weights are all 1).

Usage::

    python -m gdw sweep --noise uniform --noise-rates 0.4 --seeds 3 \\
        --methods erm,mwnet,mwnet-step,gdw --lr 0.03 --epochs 30 --out sweeps/finders-uniform40
    python scripts/compare_label_finders.py sweeps/finders-uniform40 [--folds 2,5] \\
        [--epochs LAST_K] [--no-logistic] [--data-root DIR] [--device cpu] [--threads 1] \\
        [--seeds 0] [--csv FILE]

cleanlab is a development dependency (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

# torch.optim imports torch._dynamo when the first optimiser is built: seconds of CPU that would
# count into the first finder's cost; imported here, they count into none.
import torch._dynamo  # noqa: F401
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, uninstalled
sys.path.insert(1, str(Path(__file__).resolve().parent))  # its neighbours in scripts/
from cross_validation import Fit, logistic_fit, out_of_sample_probs, own_model_fit  # noqa: E402
from study_output import report, run_cost, sweeps_missing  # noqa: E402

from gdw import (  # noqa: E402
    ConfigError,
    DataError,
    NoisyDataset,
    Run,
    corruption_text,
    list_runs,
    load_dataset,
    method_label,
    recorded_method_spec,
)
from gdw.runs.label_issues import LabelIssuesError, held_scores, run_default_score  # noqa: E402
from gdw.runs.label_issues import find_label_issues as run_label_issues  # noqa: E402
from gdw.runs.label_quality import trust_ends  # noqa: E402
from gdw.runs.label_scores import score_spec  # noqa: E402
from gdw.training.device import resolve_device  # noqa: E402
from gdw.training.session import resolve_model_name  # noqa: E402

MODEL_ARRAYS = {"margin", "given_prob"}
"""The recorded arrays that come from the model's predictions, not from weights: the scores an
ERM run can be ranked by."""
METRICS = ("auroc", "precision_at_errors", "suggested_acc", "flag_precision", "flag_recall")
CPU_COST, RUN_COST = "process CPU", "run wall"
COST_NOTE = (
    "cost (s): cleanlab rows, process CPU seconds of the K trainings, the held-out predictions "
    "and cleanlab (every thread); run rows, the wall seconds of the run's epochs (metrics.csv "
    "`seconds`: training steps and test and meta evaluation), on the run's own device"
)


class DataUnavailable(RuntimeError):
    """The data of a group of runs cannot be loaded here; the one-line message says why."""


def quality(
    scores: np.ndarray,
    suggested: np.ndarray,
    flagged: np.ndarray,
    noisy: np.ndarray,
    true: np.ndarray,
) -> dict[str, float]:
    """The :data:`METRICS` of one finder on one data set from its scores (low = suspect),
    suggested labels and flags, against the known errors ``noisy`` and the true labels."""
    n_errors = int(noisy.sum())
    lowest = np.argsort(scores, kind="stable")[:n_errors]
    hits = int((flagged & noisy).sum())
    return {
        "auroc": float(roc_auc_score(noisy, -scores)),
        "precision_at_errors": float(noisy[lowest].mean()),
        "suggested_acc": float((suggested[noisy] == true[noisy]).mean()),
        "flag_precision": hits / int(flagged.sum()) if flagged.any() else float("nan"),
        "flag_recall": hits / n_errors,
    }


def cleanlab_row(fit: Fit, data: NoisyDataset, *, folds: int, seed: int) -> dict[str, float | str]:
    """cleanlab on the out-of-sample probabilities of ``fit`` over stratified ``folds``: the
    :data:`METRICS` and the process CPU seconds it all took."""
    given, true = data.train_given.numpy(), data.train_true.numpy()
    began = time.process_time()
    probs = out_of_sample_probs(fit, given, data.n_classes, folds=folds, seed=seed)
    scores = get_label_quality_scores(given, probs)
    flagged = find_label_issues(given, probs)
    cost = time.process_time() - began
    metrics = quality(scores, probs.argmax(axis=1), flagged, given != true, true)
    return {**metrics, "cost_s": cost, "cost_kind": CPU_COST}


def run_rows(run: Run, data: NoisyDataset, *, last_epochs: int) -> list[dict[str, float | str]]:
    """One row per score the run can be ranked by, its default first; none (with a message)
    for a run that recorded a subset of its examples."""
    given, true = data.train_given.numpy(), data.train_true.numpy()
    noisy = given != true
    default = run_default_score(run)
    scores = [default, *(s for s in held_scores(run) if s != default)]
    if recorded_method_spec(run.method).weight_kind == "ones":  # its weights are all 1
        scores = [s for s in scores if set(score_spec(s).arrays) <= MODEL_ARRAYS]
    rows = []
    for score in scores:
        try:
            issues = run_label_issues(run, score=score, last_epochs=last_epochs)
        except LabelIssuesError as error:
            print(f"skipped {run.run_id} by {score}: {error}", file=sys.stderr)
            continue
        table = issues.table.sort_values("index")
        index = table["index"].to_numpy()
        if index.size != given.size:
            print(
                f"skipped {run.run_id}: records {index.size} of {given.size} examples",
                file=sys.stderr,
            )
            return []
        metrics = quality(
            table["label_score"].to_numpy(),
            table["suggested_label"].to_numpy(),
            table["is_label_issue"].to_numpy().astype(bool),
            noisy[index],
            true[index],
        )
        finder = f"run: {method_label(run.method)}, {score}"
        ends = trust_ends([point["auroc"] for point in issues.summary["trust_by_epoch"]])
        rows.append(
            {
                "finder": finder,
                **metrics,
                "cost_s": run_cost(run),
                "cost_kind": RUN_COST,
                "trust_rise": float("nan") if ends is None else ends[1] - ends[0],
            }
        )
    return rows


def load_group_data(runs: list[Run], data_root: Path | None) -> NoisyDataset:
    """The training set of runs that share their data configuration, from ``data_root`` when
    given instead of the recorded one.

    Raises:
        DataUnavailable: the data cannot be read; one line naming the run and the root.
    """
    config = runs[0].run_config.data
    if data_root is not None:
        config = dataclasses.replace(config, data_root=str(data_root))
    try:
        return load_dataset(config)
    except (ConfigError, DataError) as error:
        raise DataUnavailable(
            f"cannot load the data of run {runs[0].run_id} ({config.dataset} from data root "
            f"{config.data_root}): {error}; pass --data-root DIR where its files are"
        ) from None


def compare(
    sweeps: list[Path],
    *,
    folds: Sequence[int],
    last_epochs: int,
    logistic: bool,
    data_root: Path | None,
    device: torch.device,
    seeds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """One row per data configuration and finder (a run's rows: one per score): the setting,
    :data:`METRICS` and the cost; only the runs of ``seeds`` when given.

    Raises:
        DataUnavailable: a configuration's data cannot be read here.
    """
    groups = defaultdict(list)
    for sweep in sweeps:
        for run in list_runs(sweep / "runs"):
            if run.state != "completed" or run.run_config is None:
                continue
            if seeds is None or run.run_config.seed in seeds:
                groups[json.dumps(dict(run.data), sort_keys=True)].append(run)
    rows = []
    for _, runs in sorted(groups.items()):
        config = runs[0].run_config
        data = load_group_data(runs, data_root)
        setting = {
            "dataset": config.data.dataset,
            "setting": f"{config.data.dataset} {corruption_text(runs[0].data)}",
            "noise": config.data.noise,
            "noise_rate": config.data.noise_rate,
            "seed": config.seed,
            "n_errors": int(data.is_noisy.sum()),
        }
        model = resolve_model_name(config.model, config.data.dataset)
        finders: list[tuple[str, int, Fit]] = []
        for k in folds:
            own = own_model_fit(config, data, folds=k, device=device)
            finders.append((f"cleanlab {k}-fold + own {model}", k, own))
            if logistic and not data.augment:
                finders.append((f"cleanlab {k}-fold + logistic regression", k, logistic_fit(data)))
        if logistic and data.augment:
            print(f"{setting['setting']}: no logistic regression on its pixels", file=sys.stderr)
        for finder, k, fit in finders:
            row = cleanlab_row(fit, data, folds=k, seed=config.seed)
            print(
                f"{setting['setting']}, seed {config.seed}, {finder}: {row['cost_s']:.1f} s CPU",
                file=sys.stderr,
            )
            rows.append({**setting, "finder": finder, **row})
        for run in sorted(runs, key=lambda r: r.method):
            rows.extend({**setting, **row} for row in run_rows(run, data, last_epochs=last_epochs))
    return pd.DataFrame(rows)


def _mean_std(values: pd.Series, digits: int) -> str:
    if len(values) > 1:
        return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"
    return f"{values.mean():.{digits}f}"


def markdown(results: pd.DataFrame) -> str:
    """Mean ± standard deviation over seeds, one line per setting and finder."""
    lines = [
        "| setting | finder | seeds | AUROC | precision at #errors | suggested label right "
        "| flag precision | flag recall | cost (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (setting, finder), group in results.groupby(["setting", "finder"], sort=False):
        cells = [_mean_std(group[m], 3) for m in METRICS] + [_mean_std(group["cost_s"], 1)]
        lines.append(f"| {setting} | {finder} | {len(group)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n\n{COST_NOTE}."


def _whole_numbers(text: str, least: int) -> tuple[int, ...] | None:
    """``2,5`` as ``(2, 5)``; None unless every number is whole and at least ``least``."""
    try:
        numbers = tuple(dict.fromkeys(int(part) for part in text.split(",")))
    except ValueError:
        return None
    return numbers if min(numbers) >= least else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path, metavar="SWEEP_DIR")
    parser.add_argument(
        "--folds",
        default="5",
        metavar="K[,K...]",
        help="cross-validation folds, one finder each (5)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=5,
        metavar="LAST_K",
        help="the runs' scores: mean over the last LAST_K epochs (5)",
    )
    parser.add_argument(
        "--no-logistic",
        action="store_true",
        help="leave out the logistic regression (left out anyway on data that augments)",
    )
    parser.add_argument(
        "--data-root", type=Path, metavar="DIR", help="read the data from DIR, not the runs' root"
    )
    parser.add_argument(
        "--device", default="cpu", help="where the cross-validated models train (cpu)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1)")
    parser.add_argument(
        "--seeds",
        metavar="S[,S...]",
        help="only the runs of these seeds (all): the cross-validation trains K models per seed",
    )
    parser.add_argument("--csv", type=Path, help="also write one row per seed and finder")
    args = parser.parse_args(argv)
    if sweeps_missing(args.sweeps):
        return 2
    folds = _whole_numbers(args.folds, 2)
    if folds is None:
        print(
            f"error: --folds takes whole numbers >= 2 like 2,5; got {args.folds}", file=sys.stderr
        )
        return 2
    seeds = None if args.seeds is None else _whole_numbers(args.seeds, 0)
    if args.seeds is not None and seeds is None:
        print(f"error: --seeds takes seeds like 0 or 0,2; got {args.seeds}", file=sys.stderr)
        return 2
    try:
        device = resolve_device(args.device)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    try:
        results = compare(
            args.sweeps,
            folds=folds,
            last_epochs=args.epochs,
            logistic=not args.no_logistic,
            data_root=args.data_root,
            device=device,
            seeds=seeds,
        )
    except DataUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if results.empty:
        of_seeds = "" if seeds is None else f" with --seeds {args.seeds}"
        print(f"error: the sweep folders hold no completed runs{of_seeds}", file=sys.stderr)
        return 2
    return report(results, markdown(results), args.csv)


if __name__ == "__main__":
    sys.exit(main())
