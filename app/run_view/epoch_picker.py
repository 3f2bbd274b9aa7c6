"""The epoch picker above a run's tabs that show one epoch."""

from __future__ import annotations

import streamlit as st

from gdw import Run

__all__ = ["epoch_picker"]


def epoch_picker(run: Run, *, start: int | None = None) -> int:
    """An epoch slider that follows the newest epoch of a live run until the user moves it;
    ``start`` moves it to that epoch first (the inspector's opening on a story)."""
    latest = run.epochs_done
    key, seen_key = f"epoch_{run.run_id}", f"epoch_latest_{run.run_id}"
    previous = st.session_state.get(seen_key)
    if start is not None:
        st.session_state[key] = start
    elif key not in st.session_state or st.session_state[key] == previous:
        st.session_state[key] = latest
    st.session_state[key] = min(max(1, st.session_state[key]), latest)
    st.session_state[seen_key] = latest
    if latest == 1:
        st.caption("Epoch 1 (the only one recorded so far)")
        return 1
    return int(
        st.slider(
            "Epoch",
            1,
            latest,
            key=key,
            help="weights as each example got them at its visit in this epoch; "
            "follows the newest epoch while you leave it at the end",
        )
    )
