"""Which example the inspector shows, and the moment it opens at.

The chosen example is a *dataset index* kept in ``st.session_state["example_index"]``: runs on
the same data share their examples, so switching from a GDW run to its MW-Net twin keeps the
same image in view. Without a choice, or when this run did not record the one chosen, the
inspector shows the most telling mislabelled example; on the first look at a finished run it
opens on the example and the epoch where that story is clearest.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.server.runs_folder import get_run
from gdw import Run, story_moment, telling_order

__all__ = [
    "next_telling",
    "open_at_story",
    "opened_at_story",
    "pick_example",
    "row_of",
    "shown_example",
    "telling_rows",
]

EXAMPLE_KEY = "example_index"
TELLING_KEY = "telling_position"
OPENED_KEY = "inspector_opened_at_story"
STORY_ROWS = 2_000  # mislabelled examples searched for the clearest story (a seeded sample)


def row_of(run: Run, index: int) -> int | None:
    """The row of dataset example ``index`` among the run's recorded examples; ``None`` when
    the run did not record it."""
    hits = np.flatnonzero(run.instances["index"].to_numpy() == index)
    return int(hits[0]) if len(hits) else None


def telling_rows(run: Run, epoch: int) -> np.ndarray:
    """Recorded rows of mislabelled examples, the most telling at ``epoch`` first: those whose
    class-level step separated "not bird" from "not cat" most relative to their instance
    weight (:func:`gdw.telling_order`). Empty without label noise or recorded instance
    weights."""
    instances = run.instances
    if not run.has_array("instance_weights") or not instances["is_noisy"].any():
        return np.zeros(0, dtype=np.int64)
    return telling_order(
        run.weights(epoch),
        run.instance_weights(epoch),
        instances["given_label"].to_numpy(),
        instances["true_label"].to_numpy(),
    )


def open_at_story(run: Run) -> int | None:
    """On the first look at a finished run's inspector (no example picked yet), picks the
    mislabelled example and the epoch where its story is easiest to see
    (:func:`gdw.story_moment`) and returns that epoch for the epoch picker; ``None`` otherwise
    (an example is picked, the run is still training, or it has no such example)."""
    if EXAMPLE_KEY in st.session_state or run.state == "running" or run.epochs_done == 0:
        return None
    instances = run.instances
    noisy = np.flatnonzero(instances["is_noisy"].to_numpy().astype(bool))
    if not len(noisy):
        return None
    if len(noisy) > STORY_ROWS:
        noisy = np.sort(np.random.default_rng(0).choice(noisy, STORY_ROWS, replace=False))
    moment = story_moment(
        run.weights_of(noisy),
        instances["given_label"].to_numpy()[noisy],
        instances["true_label"].to_numpy()[noisy],
    )
    if moment is None:
        return None
    row, epoch = moment
    st.session_state[EXAMPLE_KEY] = int(instances["index"].iloc[noisy[row]])
    st.session_state[OPENED_KEY] = epoch
    return epoch


def opened_at_story() -> int | None:
    """The epoch :func:`open_at_story` opened the inspector at, once: ``None`` at later looks
    and when it did not open it."""
    return st.session_state.pop(OPENED_KEY, None)


def _default_index(run: Run, epoch: int) -> int:
    instances = run.instances
    telling = telling_rows(run, epoch)
    if len(telling):
        return int(instances["index"].iloc[telling[0]])
    noisy = np.flatnonzero(instances["is_noisy"].to_numpy())
    return int(instances["index"].iloc[noisy[0] if len(noisy) else 0])


def shown_example(run: Run, epoch: int) -> tuple[int, int]:
    """The example the inspector shows, as its dataset index and its row in ``run``: the one
    picked, else the most telling at ``epoch`` (saying so when the one picked is not recorded in
    this run)."""
    index = st.session_state.get(EXAMPLE_KEY)
    row = None if index is None else row_of(run, index)
    if row is None:
        if index is not None:
            st.caption(f"Example #{index} is not recorded in this run; showing another.")
        index = _default_index(run, epoch)
        row = row_of(run, index)
        st.session_state[EXAMPLE_KEY] = index
        st.session_state[TELLING_KEY] = 0
    return index, row


def next_telling(run_id: str, epoch: int) -> None:
    """The Next telling example button: picks the next of the most telling examples at
    ``epoch`` (after the last, the first again)."""
    run = get_run(run_id)
    if run is None:
        return
    telling = telling_rows(run, epoch)
    if not len(telling):
        return
    position = (st.session_state.get(TELLING_KEY, 0) + 1) % len(telling)
    st.session_state[TELLING_KEY] = position
    pick_example(int(run.instances["index"].iloc[telling[position]]))


def pick_example(index: int) -> None:
    """Shows example ``index`` (a dataset index) in the inspector from the next redraw on."""
    st.session_state[EXAMPLE_KEY] = int(index)
