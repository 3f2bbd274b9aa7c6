"""Reading pickled data files as plain data, without running code from them.

CIFAR's batches and CIFAR-N's label files are pickles, and unpickling calls whatever the file
names: a file from elsewhere could run any code. :func:`load_plain` builds only plain
containers (dicts, lists, tuples, strings, bytes, numbers) and NumPy arrays of numbers; a file
that asks for anything else is refused with a one-line :class:`PickleReadError` naming it.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import IO, Any

import numpy as np

__all__ = ["PickleReadError", "load_plain"]

_NUMBER_KINDS = "biuf"  # bool, signed and unsigned integers, floats
_MAX_DEPTH = 4  # a data file's dict of lists (of bytes) is two levels deep


class PickleReadError(ValueError):
    """A pickle could not be read as plain data.

    Attributes:
        refused: ``True`` when the file asks for something that is not plain data (code,
            objects, arrays of objects); ``False`` when it is cut short or garbled.
    """

    def __init__(self, message: str, *, refused: bool) -> None:
        super().__init__(message)
        self.refused = refused


def _refuse(what: str) -> PickleReadError:
    return PickleReadError(f"it asks for {what}, which plain data does not need", refused=True)


def _array(cls: type, shape: Any, dtype: Any) -> np.ndarray:
    """``numpy.core.multiarray._reconstruct``, for plain arrays only (not subclasses)."""
    if cls is not np.ndarray:
        raise _refuse(f"an array of class {getattr(cls, '__name__', cls)!r}")
    return np.ndarray.__new__(np.ndarray, shape, _dtype(dtype))


def _dtype(*args: Any) -> np.dtype:
    """``numpy.dtype``, for dtypes of numbers and raw bytes only."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise _refuse("an array of Python objects")
    return dtype


def _from_buffer(buffer: Any, dtype: Any, shape: Any, order: str) -> np.ndarray:
    """``numpy.core.numeric._frombuffer`` (protocol 5's arrays), copied out of the buffer."""
    array = np.frombuffer(buffer, dtype=_dtype(dtype))
    return array.reshape(shape, order=order if order in ("C", "F") else "C").copy()


def _latin1(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` as protocol 2 uses it for an array's bytes: latin-1 only."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise _refuse(f"_codecs.encode with {encoding!r}")
    return text.encode("latin-1")


_ALLOWED: dict[tuple[str, str], Callable[..., Any] | type] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _latin1,
}
for _core in ("numpy.core", "numpy._core"):  # NumPy 1 and NumPy 2 spell the module apart
    _ALLOWED[(f"{_core}.multiarray", "_reconstruct")] = _array
    _ALLOWED[(f"{_core}.numeric", "_frombuffer")] = _from_buffer


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise _refuse(f"{module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:  # torch.save's tensors live outside the pickle
        raise _refuse("data stored outside the pickle (a torch tensor?)")


def _check_plain(value: Any, depth: int = 0) -> None:
    """Raises unless ``value`` is made of plain containers, scalars and arrays of numbers."""
    if depth > _MAX_DEPTH:
        raise _refuse("containers nested deeper than a data file's")
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _NUMBER_KINDS + "SU":
            raise _refuse(f"an array of {value.dtype}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_plain(key, depth + 1)
            _check_plain(item, depth + 1)
    elif isinstance(value, (list, tuple)):
        # Long lists of labels are checked by their first items' types and then as one array.
        if value and all(type(item) is int for item in value[:8]):
            if not all(type(item) is int for item in value):
                raise _refuse("a list mixing numbers and other things")
            return
        for item in value:
            _check_plain(item, depth + 1)
    elif not isinstance(value, (str, bytes, int, float, bool, type(None))):
        raise _refuse(f"an object of type {type(value).__name__}")


def load_plain(file: IO[bytes], *, encoding: str = "ASCII") -> Any:
    """Unpickles ``file`` as plain data (see the module's docstring).

    Args:
        file: an open binary file positioned at the pickle.
        encoding: how Python 2 strings are decoded (``latin1`` for CIFAR's original files, as
            torchvision reads them).

    Raises:
        PickleReadError: the file asks for something else (``refused``), or is cut short or
            garbled; the message is one line, to be prefixed with the file's name.
    """
    try:
        value = _PlainUnpickler(file, encoding=encoding).load()
    except PickleReadError:
        raise
    except MemoryError:
        message = "it is garbled (it asks for more memory than there is)"
        raise PickleReadError(message, refused=False) from None
    except Exception as error:  # noqa: BLE001 - garbage bytes raise any of a dozen types
        detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise PickleReadError(f"it is cut short or garbled ({detail})", refused=False) from None
    _check_plain(value)
    return value
