"""A person's verdicts on suspected label errors: ``review.csv`` in the run folder.

The table has one row per reviewed example (:data:`REVIEW_COLUMNS`); a later verdict on the
same example replaces the earlier one. :func:`merge_reviews` and :func:`corrected_labels` are
pure; :func:`record_verdicts` reads the file, merges and replaces it whole (atomically) while
holding a lock, so two tabs saving at once both keep their verdicts and a reader never sees
half a file.
"""

from __future__ import annotations

import fcntl
import io
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gdw.runs.files import atomic_write_bytes

__all__ = [
    "REVIEW_COLUMNS",
    "REVIEW_FILE",
    "VERDICTS",
    "ReviewError",
    "Verdict",
    "corrected_labels",
    "corrected_labels_csv",
    "merge_reviews",
    "read_reviews",
    "record_verdicts",
]

REVIEW_FILE = "review.csv"
VERDICTS = ("correct", "wrong", "unsure")
"""``correct``: the given label is right; ``wrong``: it should be ``new_label``; ``unsure``."""
REVIEW_COLUMNS = ("index", "source", "given_label", "verdict", "new_label", "reviewed_at")
_LOCK = threading.Lock()  # one server process, many sessions; the file lock covers processes


class ReviewError(ValueError):
    """A verdict is invalid, or ``review.csv`` cannot be read; the message says which."""


@dataclass(frozen=True)
class Verdict:
    """One verdict on training example ``index`` (its dataset index, as in instances.csv)."""

    index: int
    source: str
    given_label: int
    verdict: str
    new_label: int | None = None
    reviewed_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ReviewError(f"verdict {self.verdict!r} is not one of: {', '.join(VERDICTS)}")
        if (self.verdict == "wrong") != (self.new_label is not None):
            raise ReviewError("a 'wrong' verdict needs a new label, and only it has one")
        if self.new_label is not None and self.new_label == self.given_label:
            raise ReviewError(f"the new label of example {self.index} is its given label")


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REVIEW_COLUMNS})


def read_reviews(run_dir: str | Path) -> pd.DataFrame:
    """The verdicts saved in ``run_dir`` (:data:`REVIEW_COLUMNS`; empty when there are none).

    Raises:
        ReviewError: the file is there but is not a review table.
    """
    path = Path(run_dir) / REVIEW_FILE
    try:
        table = pd.read_csv(path, dtype={"source": str})
    except FileNotFoundError:
        return _empty()
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ReviewError(f"{path} is damaged ({error}); move it aside to start over") from None
    missing = [c for c in REVIEW_COLUMNS if c not in table]
    if missing:
        raise ReviewError(f"{path} lacks the column(s) {', '.join(missing)}")
    table = table[list(REVIEW_COLUMNS)]
    return table.astype({"index": int, "given_label": int, "new_label": "Int64"})


def merge_reviews(existing: pd.DataFrame, verdicts: Iterable[Verdict]) -> pd.DataFrame:
    """``existing`` with ``verdicts`` applied: a newer verdict on an example replaces its older
    one (by ``reviewed_at``; ties go to the one applied last). Sorted by ``index``."""
    new = pd.DataFrame(
        [{c: getattr(v, c) for c in REVIEW_COLUMNS} for v in verdicts], columns=list(REVIEW_COLUMNS)
    )
    parts = [part for part in (existing, new) if len(part)]
    if not parts:
        return _empty()
    table = pd.concat(parts, ignore_index=True)
    table["_order"] = range(len(table))
    table = table.sort_values(["reviewed_at", "_order"], kind="stable")
    table = table.drop_duplicates("index", keep="last").drop(columns="_order")
    table = table.sort_values("index", kind="stable").reset_index(drop=True)
    return table.astype({"index": int, "given_label": int, "new_label": "Int64"})


@contextmanager
def _locked(run_dir: Path) -> Iterator[None]:
    with _LOCK, open(run_dir / f".{REVIEW_FILE}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def record_verdicts(run_dir: str | Path, verdicts: Sequence[Verdict]) -> pd.DataFrame:
    """Adds ``verdicts`` to ``run_dir``'s review.csv (read, merged, replaced whole under a
    lock) and returns the table now saved."""
    run_dir = Path(run_dir)
    with _locked(run_dir):
        table = merge_reviews(read_reviews(run_dir), verdicts)
        buffer = io.StringIO()
        table.to_csv(buffer, index=False)
        atomic_write_bytes(run_dir / REVIEW_FILE, buffer.getvalue().encode())
    return table


def corrected_labels(
    reviews: pd.DataFrame, classes: Sequence[str], *, leave_out: Iterable[int] = ()
) -> pd.DataFrame:
    """``source, old_label, new_label`` (class names) of every example judged ``wrong``,
    except the dataset indices in ``leave_out`` (canaries, whose labels were planted)."""
    skip = {int(i) for i in leave_out}
    wrong = reviews[(reviews["verdict"] == "wrong") & ~reviews["index"].isin(skip)]
    return pd.DataFrame(
        {
            "source": wrong["source"].astype(str).to_numpy(),
            "old_label": [classes[int(c)] for c in wrong["given_label"]],
            "new_label": [classes[int(c)] for c in wrong["new_label"]],
        }
    )


def corrected_labels_csv(
    reviews: pd.DataFrame, classes: Sequence[str], *, leave_out: Iterable[int] = ()
) -> bytes:
    """:func:`corrected_labels` as CSV."""
    return corrected_labels(reviews, classes, leave_out=leave_out).to_csv(index=False).encode()
