"""The files of a run folder at the lowest level, shared by its writer and its reader.

What a run folder holds (its ``format``, the states a run writes, the per-epoch arrays and the
names some of them are stored under), atomic replacement of small files, run ids that cannot
leave the runs folder, the layout of the per-epoch arrays (``weights.npy`` and any others) and
the in-place resizing of a ``.npy`` file's first axis (a header rewrite and a truncate: no copy,
so it works on a full disk too).
"""

from __future__ import annotations

import ast
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "EPOCH_ARRAYS",
    "FORMAT",
    "WRITTEN_STATES",
    "ArraySpec",
    "RunExistsError",
    "RunPathError",
    "RunReadError",
    "RunWriteError",
    "STORED_NAMES",
    "array_file",
    "as_recorded",
    "atomic_write_bytes",
    "atomic_write_json",
    "is_run_id",
    "npy_layout",
    "read_name",
    "resize_npy_rows",
    "resolve_run_path",
    "stored_name",
]

FORMAT = 2
"""Version of the run folder's layout, recorded in ``config.json`` as ``format``. Format 1 (no
``format`` key) had ``weights.npy`` alone and no checkpoint; a later format is refused."""

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")

WRITTEN_STATES = ("running", "completed", "stopped", "failed")
"""The states a run writes in its ``status.json``."""

EPOCH_ARRAYS: dict[str, tuple[str, bool]] = {
    "weights": ("float16", True),
    "instance_weights": ("float16", False),
    "predicted": ("int16", False),
    "given_prob": ("float16", False),
    "margin": ("float16", False),
    "given_step": ("float16", False),
}
"""What the trainer records per epoch for every recorded example: name -> (dtype, one column
per class). ``weights``: the class-level weights at its visit (ERM: ones; instance weighting:
its weight in every column); ``instance_weights``: the instance weight ``v0`` the step started
from (ones for ERM); ``predicted``: the class the step's forward predicted; ``given_prob``: the
probability that forward gave the given label; ``margin``: that probability minus the largest
other one; ``given_step``: how far the outer step moved the given-class weight before the clamp
(zeros without an outer step). Each is the file :func:`array_file` names, ``[epochs, recorded
examples(, classes)]``; runs of format 1 hold ``weights`` alone."""


def as_recorded(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """An epoch's arrays (:data:`EPOCH_ARRAYS`) rounded to the precision their files hold, each
    in its own dtype.

    The trainer measures an epoch (``metrics.csv``) from these, so the metrics, the files and
    every view of them agree. It matters when a weighting net goes flat: weights that differ by
    less than float16 holds (about 0.05%) are one weight in the files and the charts, and their
    noise AUROC is 0.5, not a ranking of differences of a millionth.
    """
    rounded = {}
    for name, values in arrays.items():
        values = np.asarray(values)
        rounded[name] = values.astype(EPOCH_ARRAYS[name][0]).astype(values.dtype)
    return rounded


STORED_NAMES = {
    "instance_weights": "base_weights",
    "instance_median_noisy": "base_median_noisy",
    "instance_median_clean": "base_median_clean",
}
"""What a run folder stores under an earlier name of its quantity: the per-epoch array
``instance_weights`` is the file ``base_weights.npy`` (and ``base_weights`` among the arrays of
``config.json``), the ``metrics.csv`` columns ``instance_median_noisy`` and
``instance_median_clean`` are ``base_median_noisy`` and ``base_median_clean``. New runs are
stored the same way, so that every run folder, old or new, reads and resumes alike; the writer
and the reader translate (:func:`stored_name`, :func:`read_name`), and nothing else sees these
names."""

_READ_NAMES = {stored: name for name, stored in STORED_NAMES.items()}


def stored_name(name: str) -> str:
    """The name a per-epoch array or a ``metrics.csv`` column ``name`` has in a run folder."""
    return STORED_NAMES.get(name, name)


def read_name(stored: str) -> str:
    """The name of what a run folder stores as ``stored`` (the inverse of :func:`stored_name`)."""
    return _READ_NAMES.get(stored, stored)


def array_file(name: str) -> str:
    """The file of the per-epoch array ``name`` in a run folder (``instance_weights``:
    ``base_weights.npy``, see :data:`STORED_NAMES`)."""
    return f"{stored_name(name)}.npy"


class RunPathError(ValueError):
    """A run name or path would leave the runs folder, or names no run."""


class RunExistsError(FileExistsError):
    """The run folder name asked for is taken."""


class RunReadError(RunPathError):
    """A file of a run folder is missing, damaged or of an unknown format.

    Attributes:
        path: the run folder.
        file: the file's name inside it (``""`` for the folder itself).
        problem: what is wrong with it, e.g. ``is cut short: 100 of 6,144 bytes``.
    """

    def __init__(self, path: str | Path, file: str, problem: str) -> None:
        self.path, self.file, self.problem = Path(path), file, problem
        super().__init__(f"{self.path.name}/{file}: {problem}" if file else f"{path}: {problem}")

    @property
    def reason(self) -> str:
        """``file: problem``, as the listings show it."""
        return f"{self.file}: {self.problem}" if self.file else self.problem


class RunWriteError(RuntimeError):
    """Writing a file of a run failed (a full disk, a removed folder, no permission)."""

    def __init__(self, path: Path, cause: OSError) -> None:
        self.path, self.cause = path, cause
        reason = cause.strerror or str(cause)
        code = f" (errno {cause.errno})" if cause.errno else ""
        super().__init__(f"could not write {path}: {reason}{code}")


def _replace_file(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replaces ``path`` with ``data`` (a temporary file renamed over it); an OSError becomes a
    :class:`RunWriteError` naming the file, and the old file stays as it was."""
    path = Path(path)
    try:
        _replace_file(path, data)
    except OSError as error:
        raise RunWriteError(path, error) from error


def atomic_write_json(path: Path, record: Mapping[str, Any]) -> None:
    """Replaces ``path`` with ``record`` as JSON (NaN written as null)."""
    text = json.dumps(_json_ready(record), indent=2, allow_nan=False)
    atomic_write_bytes(Path(path), (text + "\n").encode())


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def is_run_id(name: str) -> bool:
    """Whether ``name`` can name a run folder: letters, digits, ``.``, ``-`` and ``_``, not
    starting with a dot (so never a hidden staging folder)."""
    return isinstance(name, str) and _RUN_ID.match(name) is not None


def resolve_run_path(runs_dir: str | Path, run_id: str) -> Path:
    """The folder of run ``run_id`` inside ``runs_dir``; refuses ids that would leave it."""
    if not is_run_id(run_id):
        raise RunPathError(
            f"run id {run_id!r} is not allowed: use letters, digits, '.', '-' and '_' only"
        )
    root = Path(runs_dir).resolve()
    path = (root / run_id).resolve()
    if path.parent != root:
        raise RunPathError(f"run id {run_id!r} would leave the runs folder {root}")
    return path


@dataclass(frozen=True)
class ArraySpec:
    """One per-epoch array of a run, ``<name>.npy`` of shape ``[epochs, *shape]``.

    Attributes:
        shape: the shape of one epoch's row, e.g. ``(recorded examples, classes)``.
        dtype: its NumPy dtype name.
    """

    shape: tuple[int, ...]
    dtype: str = "float16"

    def to_dict(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True)
class NpyLayout:
    """Where a ``.npy`` file's data lies: its header's shape and dtype, the data offset."""

    shape: tuple[int, ...]
    dtype: np.dtype
    offset: int

    @property
    def data_bytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


def npy_layout(path: Path) -> NpyLayout:
    """Reads a ``.npy`` header. Raises ValueError when the file is not one (or Fortran-ordered,
    which this library never writes)."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise ValueError(f"unsupported .npy version {version}")
        if fortran:
            raise ValueError("the array is in Fortran order")
        return NpyLayout(tuple(int(n) for n in shape), np.dtype(dtype), handle.tell())


def resize_npy_rows(path: Path, rows: int) -> None:
    """Sets the first axis of the C-ordered ``.npy`` file ``path`` to ``rows``, in place.

    The header is rewritten with the same length (NumPy pads headers, so a first axis with as
    many digits as when the file was made always fits), then the file is truncated or extended
    (with zeros). Raises :class:`RunWriteError` when the file cannot be written.
    """
    layout = npy_layout(path)
    shape = (rows, *layout.shape[1:])
    descr = np.lib.format.dtype_to_descr(layout.dtype)
    text = repr({"descr": descr, "fortran_order": False, "shape": shape})
    assert ast.literal_eval(text)["shape"] == shape
    prefix = 12 if layout.offset - 12 > 0xFFFF else 10  # magic + version + header length
    room = layout.offset - prefix - 1  # the header ends with "\n"
    if len(text) > room:
        raise ValueError(f"{path.name}: no room in its header for {rows} rows")
    body = (text + " " * (room - len(text)) + "\n").encode("latin1")
    row_bytes = int(np.prod(layout.shape[1:], dtype=np.int64)) * layout.dtype.itemsize
    size = layout.offset + rows * row_bytes
    try:
        with open(path, "r+b") as handle:
            handle.seek(prefix)
            handle.write(body)
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise RunWriteError(path, error) from error
