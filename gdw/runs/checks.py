"""How each file of a run folder is checked while it is read (see :mod:`gdw.runs.reader`, the one
reader that uses these): every problem is a :class:`FileProblem` saying what is wrong with the
file, never an exception from deep inside pandas or NumPy."""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gdw.runs.files import (
    FORMAT,
    WRITTEN_STATES,
    ArraySpec,
    NpyLayout,
    array_file,
    npy_layout,
    read_name,
)

__all__ = [
    "INSTANCE_COLUMNS",
    "FileProblem",
    "array_layout",
    "array_specs",
    "check_config",
    "check_status",
    "parse_instances",
    "parse_metrics",
    "read_json_object",
    "read_text",
]

INSTANCE_COLUMNS = ("index", "given_label", "true_label", "is_noisy")


class FileProblem(Exception):
    """What is wrong with one file (the reader turns it into a ``RunReadError`` or a listing
    reason)."""


def read_text(run_dir: Path, name: str, *, required: bool = True) -> str | None:
    path = run_dir / name
    if path.is_symlink() and path.resolve().parent != run_dir.resolve():
        raise FileProblem("is a link to a file outside the run folder")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise FileProblem("is missing") from None
        return None
    except OSError as exc:
        raise FileProblem(f"cannot be read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(f"is not UTF-8 text (byte {exc.start})") from None


def read_json_object(run_dir: Path, name: str, *, required: bool = True) -> dict[str, Any] | None:
    text = read_text(run_dir, name, required=required)
    if text is None:
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileProblem(f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(record, dict):
        raise FileProblem(f"holds a JSON {type(record).__name__}, not an object")
    return record


def check_config(record: dict[str, Any]) -> None:
    fmt = record.get("format", 1)
    if isinstance(fmt, bool) or not isinstance(fmt, int):
        raise FileProblem(f"has format {fmt!r}, not a whole number")
    if fmt > FORMAT:
        raise FileProblem(
            f"was written in format {fmt}, newer than this gdw reads (up to "
            f"{FORMAT}); update gdw to read it"
        )
    for key, kind in (("config", dict), ("classes", list), ("resolved", dict)):
        if key in record and not isinstance(record[key], kind):
            raise FileProblem(f"'{key}' is a {type(record[key]).__name__}, not a {kind.__name__}")
    if not all(isinstance(name, str) for name in record.get("classes", [])):
        raise FileProblem("'classes' holds something other than names")


def array_specs(record: dict[str, Any]) -> dict[str, ArraySpec | None]:
    """The per-epoch arrays ``config.json`` announces, by name (not by the name they are stored
    under, :data:`~gdw.runs.files.STORED_NAMES`; format 1: ``weights`` of any shape)."""
    per_epoch = record.get("per_epoch")
    if per_epoch is None:
        return {"weights": None}
    try:
        return {
            read_name(str(stored)): ArraySpec(
                tuple(int(n) for n in spec["shape"]), str(spec["dtype"])
            )
            for stored, spec in per_epoch["arrays"].items()
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        raise FileProblem("'per_epoch' does not describe the per-epoch arrays") from None


def check_status(record: dict[str, Any]) -> None:
    if record.get("state") not in WRITTEN_STATES:
        raise FileProblem(
            f"state {record.get('state')!r} is not one of {', '.join(WRITTEN_STATES)}"
        )
    epoch = record.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise FileProblem(f"epoch {epoch!r} is not a whole number >= 0")


def parse_metrics(text: str | None) -> pd.DataFrame:
    """``metrics.csv``, one row per epoch, its columns by name (not by the name they are stored
    under, :data:`~gdw.runs.files.STORED_NAMES`)."""
    if text is None or not text.strip():
        return pd.DataFrame()
    if not text.endswith("\n"):
        raise FileProblem("ends in the middle of a line (cut short?)")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    for column in ("epoch", "test_acc"):
        if column not in header:
            raise FileProblem(f"has no '{column}' column")
    values = np.empty((len(body), len(header)), dtype=np.float64)
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise FileProblem(f"line {number} has {len(row)} values, the header {len(header)}")
        for j, cell in enumerate(row):
            try:
                values[number - 2, j] = float(cell) if cell else np.nan
            except ValueError:
                raise FileProblem(
                    f"line {number}, column '{header[j]}': {cell[:20]!r} is not a number"
                ) from None
    if len(set(header)) < len(header):
        raise FileProblem("names a column twice")
    columns = {read_name(stored): values[:, j] for j, stored in enumerate(header)}
    epochs = columns["epoch"]
    if not np.array_equal(epochs, np.arange(1, len(body) + 1)):
        raise FileProblem(f"its epochs are {epochs[:6].tolist()}..., not 1, 2, 3, ...")
    columns["epoch"] = epochs.astype(np.int64)
    return pd.DataFrame(columns)


def parse_instances(text: str, n_classes: int) -> pd.DataFrame:
    if text and not text.endswith("\n"):
        raise FileProblem("ends in the middle of a line (cut short?)")
    header = text.partition("\n")[0].strip().split(",")
    for column in INSTANCE_COLUMNS:
        if column not in header:
            raise FileProblem(f"has no '{column}' column")
    table = _whole_numbers(text, header)
    fast = table is not None
    if table is None:  # text columns (file names), or damage: the general parser tells
        table = _table(text)
    for column in INSTANCE_COLUMNS if not fast else ():
        kind = table[column].dtype
        whole = pd.api.types.is_integer_dtype(kind) or pd.api.types.is_bool_dtype(kind)
        if len(table) and not whole:
            raise FileProblem(f"column '{column}' holds values that are not whole numbers")
    for column in ("given_label", "true_label"):
        labels = table[column].to_numpy()
        if labels.size and (labels.min() < 0 or (n_classes and labels.max() >= n_classes)):
            raise FileProblem(f"column '{column}' holds a class outside 0..{n_classes - 1}")
    return table if fast else table.astype({column: np.int64 for column in INSTANCE_COLUMNS})


def _whole_numbers(text: str, header: list[str]) -> pd.DataFrame | None:
    """The table when every cell is a whole number (or True/False), parsed by NumPy at once
    (a tenth of pandas' time for a run's few thousand rows); None otherwise."""
    body = text.partition("\n")[2]
    rows = body.count("\n")
    flat = body.replace("True", "1").replace("False", "0").replace("\n", ",")
    with warnings.catch_warnings():  # NumPy warns (or raises) when it stops early
        warnings.simplefilter("ignore")
        try:
            values = np.fromstring(flat, dtype=np.int64, sep=",")
        except ValueError:
            return None
    if values.size != rows * len(header) or flat.count(",") != values.size:
        return None
    return pd.DataFrame(values.reshape(rows, len(header)), columns=header)


def _table(text: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileProblem(f"is not a readable table ({reason})") from None


def array_layout(
    run_dir: Path, name: str, spec: ArraySpec | None, rows: int, epochs: int
) -> NpyLayout:
    path = run_dir / array_file(name)
    if path.is_symlink() and path.resolve().parent != run_dir.resolve():
        raise FileProblem("is a link to a file outside the run folder")
    try:
        layout = npy_layout(path)
        size = path.stat().st_size
    except FileNotFoundError:
        raise FileProblem("is missing") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise FileProblem(f"is not a NumPy array file ({str(exc)[:80]})") from None
    expected = spec.shape if spec is not None else (rows, *layout.shape[2:])
    if spec is not None and layout.dtype != np.dtype(spec.dtype):
        raise FileProblem(f"holds {layout.dtype}, not {spec.dtype}")
    if tuple(layout.shape[1:]) != tuple(expected):
        raise FileProblem(f"has rows of shape {list(layout.shape[1:])}, not {list(expected)}")
    if size < layout.offset + layout.data_bytes:
        raise FileProblem(
            f"is cut short: {size:,} of the {layout.offset + layout.data_bytes:,} "
            f"bytes its header announces"
        )
    if layout.shape[0] < epochs:
        raise FileProblem(f"holds {layout.shape[0]} epoch(s), metrics.csv lists {epochs}")
    return layout
