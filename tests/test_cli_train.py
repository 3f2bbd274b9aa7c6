"""`python -m gdw train` and `python -m gdw bench`: outputs, exit codes, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gdw import load_run
from gdw.cli import main
from gdw.training.bench import UNRECORDED

TINY = ["--train-subset", "300", "--epochs", "2", "--noise", "flip", "--noise-rate", "0.3"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("method", ["erm", "mwnet", "gdw"])
def test_train_prints_the_run_directory(tmp_path, capsys, method):
    code = main(["train", *TINY, "--method", method, "--runs-dir", str(tmp_path), "--name", method])
    out = capsys.readouterr()
    assert code == 0
    assert out.out.strip() == str(tmp_path / method)
    assert load_run(tmp_path / method).state == "completed"
    assert "step" in out.err  # the progress bar


BAD_INPUTS = {
    "noise rate above 1": (["--noise-rate", "1.5", "--noise", "uniform"], "noise rate"),
    "negative noise rate": (["--noise-rate", "-0.1", "--noise", "uniform"], "noise rate"),
    "imbalance zero": (["--imbalance", "0"], "imbalance factor"),
    "imbalance above 1": (["--imbalance", "2"], "imbalance factor"),
    "unknown method": (["--method", "l2rw"], "method 'l2rw' is not one of"),
    "unknown model": (["--model", "vit"], "model 'vit' is not one of"),
    "zero epochs": (["--epochs", "0"], "epochs"),
    "zero batch size": (["--batch-size", "0"], "batch size"),
    "negative lr": (["--lr", "-1"], "learning rate"),
    "run name leaving the folder": (["--name", "../escape"], "run name"),
    "meta set too large": (["--num-meta", "5000"], "num-meta"),
    "unknown dataset": (["--dataset", "svhn"], "dataset 'svhn'"),
    "not a number": (["--lr", "fast"], "invalid float value"),
}


@pytest.mark.parametrize("args, message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_training_input_exits_2_with_one_line(tmp_path, capsys, args, message):
    code = main(["train", "--runs-dir", str(tmp_path), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and "Traceback" not in err
    if "invalid float" not in message:
        assert len(err.splitlines()) == 1 and err.startswith("gdw: error: ")
    assert not any(tmp_path.iterdir())  # nothing was started


def test_absent_gpu_is_refused(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["train", "--device", "cuda", "--runs-dir", str(tmp_path)]) == 2
    assert "device 'cuda' is not available" in capsys.readouterr().err


def test_bench_prints_ratios_as_json(capsys):
    code = main(["bench", "--model", "mlp", "--steps", "2", "--warmup", "1", "--batch-size", "16"])
    record = json.loads(capsys.readouterr().out)
    assert code == 0
    assert record["model"] == "mlp" and record["batch_size"] == 16 and record["threads"] >= 1
    assert set(record["ms_per_step"]) == {"erm", "mwnet", "mwnet-step", "gdw", UNRECORDED}
    assert set(record["ratio_to_erm"]) == {"mwnet", "mwnet-step", "gdw"}
    assert all(value > 0 for value in record["ms_per_step"].values())
    assert isinstance(record["recording_overhead"], float)


def test_bench_refuses_an_unknown_model(capsys):
    assert main(["bench", "--model", "vgg"]) == 2
    assert "model 'vgg' is not one of" in capsys.readouterr().err


def _sigint_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_run_cleanly(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "gdw",
        "train",
        "--epochs",
        "500",
        "--runs-dir",
        str(tmp_path),
        "--name",
        "interrupted",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        # Ctrl-C as from a terminal, also where the suite runs as a background job (its
        # children then inherit an ignored SIGINT, and the signal below would do nothing).
        preexec_fn=_sigint_as_in_a_terminal,
    )
    metrics = tmp_path / "interrupted" / "metrics.csv"
    deadline = time.monotonic() + 120
    while not metrics.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert b"Traceback" not in err and b"stopped" in err
    loaded = load_run(tmp_path / "interrupted")
    assert loaded.state == "stopped" and loaded.epochs_done >= 1
