"""The package's public names load when first used, so that the dashboard's controls (the
configuration, the registries, the sidebar) are drawn without waiting for torch."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gdw

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_name_is_the_object_of_its_module():
    for name, module in gdw._EXPORTS.items():
        assert getattr(gdw, name) is getattr(importlib.import_module(module), name), name
    assert set(gdw.__all__) == set(gdw._EXPORTS) and set(gdw.__all__) <= set(dir(gdw))


def test_each_public_name_is_listed_once():
    listed = [name for names in gdw._PUBLIC.values() for name in names]
    assert sorted(listed) == gdw.__all__


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        gdw.no_such_name  # noqa: B018


def test_the_sidebar_and_the_tables_need_no_torch_nor_numpy():
    code = (
        "import sys; import app.pages.navigation, app.server.process_tweaks, gdw; "
        "assert gdw.method_ids()[-1] == 'gdw' and 'digits' in gdw.dataset_ids(); "
        "gdw.RunConfig(method='mwnet-step'); gdw.class_names(gdw.DataConfig()); "
        "assert 'torch' not in sys.modules, 'torch was imported'; "
        "assert 'numpy' not in sys.modules, 'numpy was imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_a_sweeps_driver_and_the_command_line_need_no_torch():
    """A sweep on Ray trains in its workers: its driver (and ``--help``) does not pay for torch."""
    code = (
        "import sys; import gdw.cli, gdw.sweeps.running, gdw.sweeps.ray_backend; "
        "gdw.cli.build_parser().parse_args(['sweep', '--preset', 'digits']); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


COLD_FIRST_PAGE = """
import sys
from streamlit.testing.v1 import AppTest

at = AppTest.from_file("streamlit_app.py", default_timeout=120).run()
assert not at.exception, [e.value for e in at.exception]
start = next(b for b in at.sidebar.button if b.key == "start_one")
assert start.label == "Start GDW" and not start.disabled
assert [s.label for s in at.sidebar.selectbox][:2] == ["Dataset", "Label noise"]
assert at.selectbox(key="run_device").options == ["auto", "cpu"]
assert any("Loading the runs" in c.value for c in at.caption)
for heavy in ("torch", "app.pages.train", "numpy", "PIL.Image"):  # the page icon needs Pillow
    assert heavy not in sys.modules, heavy + " was imported for the first page"

at.run()  # what the browser asks for a moment later
assert not at.exception, [e.value for e in at.exception]
assert any("No runs yet" in info.value for info in at.info)
assert at.selectbox(key="run_device").options[0].startswith("auto (")
assert "torch" in sys.modules
"""


def test_a_cold_servers_first_page_draws_its_controls_before_the_heavy_imports(tmp_path):
    env = {**os.environ, "GDW_RUNS_DIR": str(tmp_path / "runs")}
    subprocess.run(
        [sys.executable, "-c", COLD_FIRST_PAGE], cwd=ROOT, env=env, check=True, timeout=300
    )
