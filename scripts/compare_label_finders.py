"""Finding the injected label errors: cleanlab with K-fold probabilities next to the runs' scores.

For every data configuration (dataset, noise, seed, ...) found in the given sweep folders, this
rebuilds the same corrupted training set from the runs' ``config.json`` and compares:

- cleanlab's ``find_label_issues`` and ``get_label_quality_scores`` on out-of-sample predicted
  probabilities from stratified K-fold cross-validation, with a scikit-learn logistic regression
  on the pixels and with the project's own model (the run's architecture, trained as ERM with the
  run's optimiser settings on each K-1 folds);
- each run's own ranking (``gdw label-issues``: given-class weight for methods that learn from
  the meta set, the given label's probability for ERM, averaged over the last epochs).

It prints, per finder, mean ± standard deviation over seeds of: the AUROC of the scores against
the injected noise, the precision among the k lowest scores with k = the number of injected
errors, the accuracy of the suggested label (arg max probability; for runs the most frequent
prediction) on the mislabelled examples, and the precision and recall of the finder's own flag
(cleanlab's ``find_label_issues``; the runs' ``is_label_issue``).

Usage::

    python -m gdw sweep --noise uniform --noise-rates 0.4 --seeds 3 \\
        --methods erm,mwnet,mwnet-step,gdw --lr 0.03 --epochs 30 --out sweeps/finders-uniform40
    python scripts/compare_label_finders.py sweeps/finders-uniform40 [--folds 5] [--csv FILE]

cleanlab is a development dependency (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, uninstalled
from gdw import RunConfig, list_runs, load_dataset, method_label, normalize  # noqa: E402
from gdw.runs.label_issues import LabelIssuesError  # noqa: E402
from gdw.runs.label_issues import find_label_issues as run_label_issues  # noqa: E402
from gdw.training.session import build_model, resolve_model_name  # noqa: E402

METRICS = ("auroc", "precision_at_errors", "suggested_acc", "flag_precision", "flag_recall")


def quality(scores, suggested, flagged, noisy, true) -> dict[str, float]:
    """The metrics of one finder on one data set (low score = suspect)."""
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


def logistic_probs(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, **_):
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(x[train], y[train])
    return model.predict_proba(x[test])


def own_model_probs(x, y, train, test, *, config: RunConfig, data, seed: int) -> np.ndarray:
    """The run's architecture trained as ERM on ``train`` (SGD, cosine schedule, the run's
    epochs, lr, momentum and weight decay); softmax probabilities of ``test``."""
    generator = torch.Generator().manual_seed(seed)
    name = resolve_model_name(config.model, config.data.dataset)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(name, image_shape=data.image_shape, n_classes=data.n_classes)
    images = normalize(data.train_images, data.mean, data.std)
    labels = torch.as_tensor(y)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )
    epochs = config.resolved_epochs
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    train = torch.as_tensor(train)
    model.train()
    for _ in range(epochs):
        order = train[torch.randperm(train.numel(), generator=generator)]
        for batch in order.split(config.batch_size):
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        schedule.step()
    model.eval()
    with torch.no_grad():
        return torch.softmax(model(images[torch.as_tensor(test)]), dim=1).numpy()


def out_of_sample(fit, x, y, *, folds: int, seed: int, **kw) -> np.ndarray:
    probs = np.zeros((y.size, int(y.max()) + 1))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(x, y)):
        probs[test] = fit(x, y, train, test, seed=seed * 100 + fold, **kw)
    return probs


def cleanlab_quality(probs: np.ndarray, given: np.ndarray, noisy, true) -> dict[str, float]:
    scores = get_label_quality_scores(given, probs)
    flagged = find_label_issues(given, probs)
    return quality(scores, probs.argmax(axis=1), flagged, noisy, true)


def compare(sweeps: list[Path], *, folds: int, last_epochs: int) -> pd.DataFrame:
    """One row per (data configuration, finder) with :data:`METRICS`."""
    groups = defaultdict(list)
    for sweep in sweeps:
        for run in list_runs(sweep / "runs"):
            if run.state == "completed" and run.run_config is not None:
                groups[json.dumps(dict(run.data), sort_keys=True)].append(run)
    rows = []
    for _, runs in sorted(groups.items()):
        config = runs[0].run_config
        data = load_dataset(config.data)
        given, true = data.train_given.numpy(), data.train_true.numpy()
        noisy = given != true
        setting = {
            "dataset": config.data.dataset,
            "noise": config.data.noise,
            "noise_rate": config.data.noise_rate,
            "seed": config.seed,
        }
        pixels = data.train_images.numpy().reshape(given.size, -1) / 255.0
        finders = {
            "cleanlab + logistic regression": (logistic_probs, {}),
            f"cleanlab + own {resolve_model_name(config.model, config.data.dataset)}": (
                own_model_probs,
                {"config": config, "data": data},
            ),
        }
        for finder, (fit, kw) in finders.items():
            probs = out_of_sample(fit, pixels, given, folds=folds, seed=config.seed, **kw)
            print(f"{setting} {finder}", file=sys.stderr)
            rows.append(
                {**setting, "finder": finder, **cleanlab_quality(probs, given, noisy, true)}
            )
        for run in sorted(runs, key=lambda r: r.method):
            try:
                table = run_label_issues(run, last_epochs=last_epochs).table
            except LabelIssuesError as error:
                print(f"skipped {run.run_id}: {error}", file=sys.stderr)
                continue
            table = table.sort_values("index")
            index = table["index"].to_numpy()
            if index.size != given.size:
                print(
                    f"skipped {run.run_id}: records {index.size} of {given.size} examples",
                    file=sys.stderr,
                )
                continue
            rows.append(
                {
                    **setting,
                    "finder": f"run: {method_label(run.config['config']['method'])}",
                    **quality(
                        table["label_score"].to_numpy(),
                        table["suggested_label"].to_numpy(),
                        table["is_label_issue"].to_numpy().astype(bool),
                        noisy[index],
                        true[index],
                    ),
                }
            )
    return pd.DataFrame(rows)


def markdown(results: pd.DataFrame) -> str:
    """Mean ± standard deviation over seeds, one line per setting and finder."""
    lines = [
        "| setting | finder | seeds | AUROC | precision at #errors | suggested label right "
        "| flag precision | flag recall |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    keys = ["dataset", "noise", "noise_rate", "finder"]
    for (dataset, noise, rate, finder), group in results.groupby(keys, sort=False):
        cells = [
            (
                f"{group[m].mean():.3f} ± {group[m].std(ddof=1):.3f}"
                if len(group) > 1
                else f"{group[m].mean():.3f}"
            )
            for m in METRICS
        ]
        lines.append(
            f"| {dataset} {noise} {100 * rate:g}% | {finder} | {len(group)} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path, metavar="SWEEP_DIR")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (5)")
    parser.add_argument(
        "--epochs",
        type=int,
        default=5,
        metavar="LAST_K",
        help="the runs' scores: mean over the last LAST_K epochs (5)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1)")
    parser.add_argument("--csv", type=Path, help="also write one row per seed and finder")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.sweeps if not (p / "runs").is_dir()]
    if missing:
        print(f"error: no sweep folder (with runs/) at {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.folds < 2:
        print(f"error: --folds must be at least 2, got {args.folds}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    results = compare(args.sweeps, folds=args.folds, last_epochs=args.epochs)
    if results.empty:
        print("error: the sweep folders hold no completed runs", file=sys.stderr)
        return 2
    if args.csv:
        results.to_csv(args.csv, index=False, float_format="%.6g")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
