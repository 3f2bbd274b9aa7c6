"""Two sweeps of the same grid made two ways (e.g. two weighting nets), compared per method and
setting, paired by seed.

    python scripts/compare_sweeps.py SWEEP_A SWEEP_B [--names default,paper]

For every method and setting both sweeps finished: the mean test accuracy of each (the last 5
epochs, as in ``results.csv``) and A minus B, paired by seed (the same seed gives both the same
data, initial weights and batch order), with its 95% Student t interval; ``*`` marks an
interval that excludes 0. A method whose runs do not differ between the two ways (ERM ignores the
weighting net) shows a difference of exactly 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, uninstalled
from gdw import load_sweep, method_label  # noqa: E402
from gdw.sweeps.stats import method_order, paired_differences  # noqa: E402


def compare(a: pd.DataFrame, b: pd.DataFrame, names: tuple[str, str]) -> pd.DataFrame:
    """One row per method and setting found in both ``results.csv`` tables: ``setting``,
    ``method``, ``mean_a``, ``mean_b``, ``seeds`` and the paired difference A - B
    (``mean_diff``, ``low``, ``high``)."""
    rows = []
    for method in method_order(set(a["method"]) & set(b["method"])):
        tagged = pd.concat(
            [
                a[a["method"] == method].assign(method=f"{method}@{names[0]}"),
                b[b["method"] == method].assign(method=f"{method}@{names[1]}"),
            ],
            ignore_index=True,
        )
        paired = paired_differences(
            tagged, method=f"{method}@{names[0]}", baseline=f"{method}@{names[1]}"
        )
        for row in paired.itertuples(index=False):
            key = (
                (a["noise"] == row.noise)
                & (a["noise_rate"] == row.noise_rate)
                & (a["imbalance"] == row.imbalance)
            )
            key_b = (
                (b["noise"] == row.noise)
                & (b["noise_rate"] == row.noise_rate)
                & (b["imbalance"] == row.imbalance)
            )
            rows.append(
                {
                    "setting": row.setting,
                    "method": method,
                    "mean_a": a.loc[key & (a["method"] == method), "final_acc"].mean(),
                    "mean_b": b.loc[key_b & (b["method"] == method), "final_acc"].mean(),
                    "seeds": row.seeds,
                    "mean_diff": row.mean_diff,
                    "low": row.low,
                    "high": row.high,
                }
            )
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, names: tuple[str, str]) -> str:
    a, b = names
    lines = [
        f"| setting | method | seeds | {a} | {b} | {a} minus {b} [95% interval] |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in table.itertuples(index=False):
        star = " *" if row.low > 0 or row.high < 0 else ""
        lines.append(
            f"| {row.setting} | {method_label(row.method)} | {row.seeds} | {row.mean_a:.1f} | "
            f"{row.mean_b:.1f} | {row.mean_diff:+.1f} [{row.low:+.1f}, {row.high:+.1f}]{star} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_a", type=Path)
    parser.add_argument("sweep_b", type=Path)
    parser.add_argument("--names", default="A,B", help="what A and B are, e.g. default,paper")
    args = parser.parse_args(argv)
    names = tuple(part.strip() for part in args.names.split(","))
    if len(names) != 2 or not all(names):
        print(f"error: --names needs two names, got {args.names!r}", file=sys.stderr)
        return 2
    try:
        a, b = load_sweep(args.sweep_a).results, load_sweep(args.sweep_b).results
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    table = compare(a, b, names)
    if table.empty:
        print("error: the two sweeps share no method and setting", file=sys.stderr)
        return 2
    print(markdown(table, names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
