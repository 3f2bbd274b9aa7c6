"""Times the same sweep with ``--backend local`` and ``--backend ray`` beside a running training.

    python scripts/bench_ray_beside_training.py                     # 18 digits runs, one pair
    python scripts/bench_ray_beside_training.py --repeats 2 --niceness 15
    python scripts/bench_ray_beside_training.py -- --preset digits --methods erm,gdw --seeds 1

Starts one ``python -m gdw train`` in the background (``--load``; by default digits with the
MLP, for as many epochs as it takes), waits until it trains, then runs the sweep (by default the
digits preset's 9 settings with ERM and GDW, seed 0: 18 runs) once with each backend, alternating
which goes first. With ``--niceness N`` each pair adds a Ray sweep whose workers run at niceness
N (``RAY_worker_niceness``; 15 is Ray's own default), for contrast. It prints the wall times,
the ratios local / Ray, and how fast the training beside it went meanwhile (its epochs per
minute), so that both sides of the sharing show. The background training is stopped at the end.
A benchmark, not a test: the numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ["--preset", "digits", "--methods", "erm,gdw", "--seeds", "1"]
LOAD = "--dataset digits --epochs 1000000 --record-limit 0"
_START_SECONDS = 180.0  # the background training must have finished an epoch by then


def _epochs_done(run_dir: Path) -> int:
    """Epochs the background run has finished (lines of its metrics.csv but the header)."""
    try:
        with (run_dir / "metrics.csv").open() as file:
            return max(sum(1 for _ in file) - 1, 0)
    except FileNotFoundError:
        return 0


def _start_load(flags: str, runs: Path) -> tuple[subprocess.Popen, Path]:
    command = [sys.executable, "-m", "gdw", "train", *flags.split()]
    command += ["--runs-dir", str(runs), "--name", "beside"]
    load = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # A shell's background job ignores Ctrl-C, and a child inherits that: let it stop.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    run_dir = runs / "beside"
    deadline = time.monotonic() + _START_SECONDS
    while _epochs_done(run_dir) < 1:
        if load.poll() is not None:
            raise SystemExit(f"the background training ended (exit {load.returncode}): {command}")
        if time.monotonic() > deadline:
            load.send_signal(signal.SIGINT)
            raise SystemExit(f"the background training finished no epoch in {_START_SECONDS:g} s")
        time.sleep(0.5)
    return load, run_dir


def _stop_load(load: subprocess.Popen) -> None:
    """Stops the background training this script started (Ctrl-C: it ends ``stopped``)."""
    if load.poll() is None:
        load.send_signal(signal.SIGINT)
        try:
            load.wait(timeout=30)
        except subprocess.TimeoutExpired:
            load.kill()
            load.wait()


def _sweep(flags: list[str], out: Path, backend: str, env: dict[str, str]) -> float:
    command = [sys.executable, "-m", "gdw", "sweep", *flags, "--backend", backend]
    began = time.perf_counter()
    done = subprocess.run(
        [*command, "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:  # its last line is gdw's one-line reason
        lines = done.stderr.strip().splitlines() or ["no message"]
        raise SystemExit(f"the {backend} sweep failed (exit {done.returncode}): {lines[-1]}")
    return time.perf_counter() - began


def _timed(
    label: str,
    backend: str,
    env: dict[str, str],
    flags: list[str],
    out: Path,
    load: subprocess.Popen,
    run_dir: Path,
) -> dict[str, float]:
    """Runs one sweep beside the background training: its wall time and the training's pace."""
    before = _epochs_done(run_dir)
    wall = _sweep(flags, out, backend, env)
    if load.poll() is not None:
        raise SystemExit(f"the background training ended during the {label} sweep")
    beside = 60.0 * (_epochs_done(run_dir) - before) / wall
    print(f"  {label}: {wall:.1f} s, training beside it {beside:.1f} epochs/min", flush=True)
    return {f"{label}_s": wall, f"{label}_beside_epm": beside}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="pairs of sweeps (default: 1)")
    parser.add_argument(
        "--niceness",
        type=int,
        metavar="N",
        help="also run each pair's sweep on a Ray whose workers run at niceness N (e.g. 15)",
    )
    parser.add_argument(
        "--load",
        default=LOAD,
        metavar="FLAGS",
        help=f"flags of the background 'gdw train' (default: {LOAD!r})",
    )
    parser.add_argument("flags", nargs="*", help=f"sweep flags after -- (default: {SWEEP})")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    flags = args.flags or SWEEP
    base_env = {k: v for k, v in os.environ.items() if k != "RAY_worker_niceness"}
    variants = [("local", "local", base_env), ("ray", "ray", base_env)]
    if args.niceness is not None:
        niced = {**base_env, "RAY_worker_niceness": str(args.niceness)}
        variants.append((f"ray_nice{args.niceness}", "ray", niced))
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-beside-") as tmp:
        load, run_dir = _start_load(args.load, Path(tmp) / "load")
        try:
            for repeat in range(args.repeats):
                order = variants if repeat % 2 == 0 else [variants[1], variants[0], *variants[2:]]
                print(f"pair {repeat + 1}:", flush=True)
                row: dict[str, float] = {"pair": repeat + 1}
                for label, backend, env in order:
                    out = Path(tmp) / f"{label}-{repeat}"
                    row.update(_timed(label, backend, env, flags, out, load, run_dir))
                rows.append(row)
        finally:
            _stop_load(load)
    table = pd.DataFrame(rows)
    table["local/ray"] = table["local_s"] / table["ray_s"]
    if args.niceness is not None:
        table[f"local/ray_nice{args.niceness}"] = (
            table["local_s"] / table[f"ray_nice{args.niceness}_s"]
        )
    print()
    print(f"sweep: python -m gdw sweep {' '.join(flags)}; beside: python -m gdw train {args.load}")
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---:|" * len(table.columns))
    for values in table.itertuples(index=False):
        cells = [f"{v:.2f}" if isinstance(v, float) else str(v) for v in values]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
