"""The package's public names load when first used, so that the dashboard's controls (the
configuration, the registries, the sidebar) are drawn without waiting for torch."""

from __future__ import annotations

import ast
import importlib
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


def test_the_names_editors_see_are_the_names_served():
    tree = ast.parse((ROOT / "gdw" / "__init__.py").read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If))  # if TYPE_CHECKING:
    seen = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert seen == gdw._EXPORTS


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        gdw.no_such_name  # noqa: B018


def test_the_sidebar_and_the_tables_need_no_torch():
    code = (
        "import sys; import app.pages, app.process, gdw; "
        "assert gdw.method_ids()[-1] == 'gdw' and 'digits' in gdw.dataset_ids(); "
        "gdw.RunConfig(method='mwnet-step'); gdw.class_names(gdw.DataConfig()); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
