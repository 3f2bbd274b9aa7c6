"""Times the same sweep with ``--backend local`` and ``--backend ray``, side by side.

    python scripts/bench_sweep_backends.py                    # the digits preset, once each
    python scripts/bench_sweep_backends.py --repeats 3 -- --preset digits --seeds 2
    python scripts/bench_sweep_backends.py --ray-head -- --preset digits --seeds 2

Each pair runs the two whole commands (``python -m gdw sweep ... --out DIR``) one after the
other, alternating which goes first, so that a drift of a shared machine's speed hits both.
It checks that both wrote the same ``results.csv`` (all columns but ``seconds``), then prints
the wall times, their ratio, and Ray's overheads measured apart: starting Ray, getting a worker
per CPU ready to train (starting it and importing gdw and torch) and dispatching one task to a
warm worker. With ``--ray-head``, a Ray head is started once on this machine (``ray start
--head``) and the Ray sweeps join it (``--ray-address``), as on a cluster, so they do not pay for
starting and stopping Ray. A benchmark, not a test: the numbers depend on the machine and its
load.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def _sweep(flags: list[str], out: Path, backend: str, env: dict[str, str] | None = None) -> float:
    command = [sys.executable, "-m", "gdw", "sweep", *flags, "--backend", backend, "--out", out]
    began = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - began


def _results(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "results.csv")


def _ray_overheads(cpus: int, tasks: int) -> dict[str, float]:
    """Seconds to start Ray and to ready ``cpus`` workers; milliseconds per no-op task."""
    import ray

    from gdw.sweeps.ray_backend import RayBackend

    def ready() -> int:
        # What a run's task imports first: the trainer, torch and torchvision.
        importlib.import_module("gdw.training.trainer")
        return os.getpid()

    def nothing() -> None:
        return None

    began = time.perf_counter()
    ray.init(
        num_cpus=cpus,
        include_dashboard=False,
        runtime_env=RayBackend.runtime_env,
        log_to_driver=False,
        logging_level="error",
    )
    started = time.perf_counter()
    ready_task = ray.remote(num_cpus=1)(ready)
    pids: set[int] = set()
    while len(pids) < cpus:  # until every CPU has a warm worker
        pids |= set(ray.get([ready_task.remote() for _ in range(cpus)]))
    warm = time.perf_counter()
    nothing_task = ray.remote(num_cpus=1)(nothing)
    ray.get(nothing_task.remote())
    dispatch_began = time.perf_counter()
    ray.get([nothing_task.remote() for _ in range(tasks)])
    dispatched = time.perf_counter()
    ray.shutdown()
    return {
        "start": started - began,
        "workers": warm - started,
        "dispatch_ms": 1000 * (dispatched - dispatch_began) / tasks,
    }


def _start_head(cpus: int) -> None:
    """Starts a Ray head on this machine with ``cpus`` CPUs (with the token authentication
    'ray start' turns on by default; the Ray sweeps join it with RAY_AUTH_MODE=token)."""
    subprocess.run(
        ["ray", "start", "--head", f"--num-cpus={cpus}", "--include-dashboard=false"]
        + ["--disable-usage-stats"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _pairs(
    repeats: int, flags: list[str], ray_flags: list[str], tmp: Path, rows: list[dict]
) -> None:
    """Runs ``repeats`` pairs of the sweep, alternating which backend goes first; a row of
    ``rows`` each."""
    ray_env = {**os.environ, "RAY_AUTH_MODE": "token"} if ray_flags else None
    for repeat in range(repeats):
        order = ("local", "ray") if repeat % 2 == 0 else ("ray", "local")
        walls, outs = {}, {}
        for backend in order:
            outs[backend] = tmp / f"{backend}-{repeat}"
            extra, env = (ray_flags, ray_env) if backend == "ray" else ([], None)
            walls[backend] = _sweep([*flags, *extra], outs[backend], backend, env)
        local, ray = _results(outs["local"]), _results(outs["ray"])
        same = local.drop(columns="seconds").equals(ray.drop(columns="seconds"))
        rows.append(
            {
                "pair": repeat + 1,
                "runs": len(local),
                "local_s": walls["local"],
                "ray_s": walls["ray"],
                "ratio": walls["local"] / walls["ray"],
                "train_s_local": local["seconds"].sum(),
                "train_s_ray": ray["seconds"].sum(),
                "same_results": same,
            }
        )
        print(pd.DataFrame(rows[-1:]).to_string(index=False, float_format="%.2f"), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="pairs of sweeps (default: 1)")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1, help="Ray's CPUs")
    parser.add_argument(
        "--ray-head",
        action="store_true",
        help="start a Ray head once (ray start --head) and let the Ray sweeps join it",
    )
    parser.add_argument("flags", nargs="*", help="sweep flags after -- (default: --preset digits)")
    args = parser.parse_args()
    flags = args.flags or ["--preset", "digits"]
    sys.path.insert(0, str(ROOT))
    rows = []
    if args.ray_head:
        _start_head(args.cpus)
    ray_flags = ["--ray-address", "auto"] if args.ray_head else []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
            _pairs(args.repeats, flags, ray_flags, Path(tmp), rows)
    finally:
        if args.ray_head:
            subprocess.run(["ray", "stop"], check=False, stdout=subprocess.DEVNULL)
    overheads = _ray_overheads(args.cpus, tasks=200)
    table = pd.DataFrame(rows)
    print()
    head = " (Ray sweeps joining a running head: --ray-address)" if args.ray_head else ""
    print(f"sweep: python -m gdw sweep {' '.join(flags)}{head}")
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---:|" * len(table.columns))
    for row in table.itertuples(index=False):
        cells = [f"{value:.2f}" if isinstance(value, float) else str(value) for value in row]
        print("| " + " | ".join(cells) + " |")
    print(
        f"\nwall-time ratio local / ray: median {statistics.median(table['ratio']):.2f} over "
        f"{len(table)} pair(s)"
    )
    print(
        f"Ray overheads: start {overheads['start']:.1f} s, a warm worker per CPU "
        f"({args.cpus}) {overheads['workers']:.1f} s, dispatch {overheads['dispatch_ms']:.2f} ms "
        "per task"
    )
    return 0 if table["same_results"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
