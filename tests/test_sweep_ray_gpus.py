"""`gdw sweep --backend ray` and GPUs, on a Ray of its own that declares two logical GPUs (Ray
lets a machine without any do so): a run given a GPU trains in a worker process of its own, and
a run given none is sent to the CPU. Its own module: one process holds one Ray at a time."""

from __future__ import annotations

import json

import pytest
from conftest import start_local_ray

from gdw import load_run
from gdw.cli import build_parser, sweep_spec_from_args
from gdw.sweeps.ray_backend import RayBackend
from gdw.sweeps.running import run_sweep


def tiny_sweep(seeds: int):
    flags = "--methods erm --noise flip --noise-rates 0.2 --epochs 1 --train-subset 100".split()
    spec, _ = sweep_spec_from_args(
        build_parser().parse_args(["sweep", *flags, "--seeds", str(seeds)])
    )
    return spec


@pytest.fixture(scope="module")
def ray_with_gpus():
    ray = pytest.importorskip("ray")
    start_local_ray(ray, RayBackend.runtime_env, num_gpus=2)
    yield ray
    ray.shutdown()


def test_each_run_given_a_gpu_trains_in_a_worker_process_of_its_own(ray_with_gpus, tmp_path):
    """A reused worker would keep training on the GPU its first run set CUDA up on."""
    spec = tiny_sweep(seeds=3)  # two at a time: the third would reuse a worker
    with RayBackend(gpus_per_run=1) as backend:
        outcome = run_sweep(spec, tmp_path, backend=backend)
    assert outcome.finished == 3 and not outcome.failed
    runs = [load_run(tmp_path / "runs" / config.name) for config in spec.runs()]
    assert len({run.status["pid"] for run in runs}) == 3  # the process that trained each run
    assert {run.run_config.device for run in runs} == {"auto"}  # the GPU Ray gives it


def test_a_run_given_no_gpu_is_sent_to_the_cpu_on_a_node_with_gpus(ray_with_gpus, tmp_path):
    """Ray 2.60 no longer hides a node's GPUs from a task that reserved none."""
    spec = tiny_sweep(seeds=1)
    with RayBackend() as backend:
        outcome = run_sweep(spec, tmp_path, backend=backend)
    assert outcome.finished == 1
    (config,) = spec.runs()
    record = json.loads((tmp_path / "runs" / config.name / "config.json").read_text())
    assert record["config"]["device"] == "cpu" and record["resolved"]["device"] == "cpu"
