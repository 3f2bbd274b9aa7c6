"""The epoch pickers above a run's tabs that show one epoch: one for the inspector, which opens
at the epoch where an example's story is clearest, and one the other tabs share, which opens at
the newest epoch (where the ranking of label errors and the weights' final shape are)."""

from __future__ import annotations

import streamlit as st

from gdw import Run

__all__ = ["epoch_key", "epoch_picker"]


def epoch_key(run_id: str, *, inspector: bool = False) -> str:
    """The session-state key of a run's epoch picker: the inspector's, or the other tabs'."""
    return f"{'inspector_' if inspector else ''}epoch_{run_id}"


def epoch_picker(run: Run, *, inspector: bool = False, start: int | None = None) -> int:
    """An epoch slider that follows the newest epoch of a live run until the user moves it;
    ``start`` moves it to that epoch first (the inspector's opening on a story).

    Args:
        inspector: the inspector's own slider, so that its opening on a story's epoch does not
            move the other tabs away from the newest epoch.
    """
    latest = run.epochs_done
    key = epoch_key(run.run_id, inspector=inspector)
    seen_key, kept_key = f"{key}_latest", f"{key}_kept"
    previous = st.session_state.get(seen_key)
    if start is not None:
        st.session_state[key] = start
    elif key not in st.session_state and kept_key in st.session_state:
        # Streamlit forgets a slider's value on a redraw that does not draw it (another tab
        # was open); each picker keeps its own epoch for when its tab opens again.
        st.session_state[key] = st.session_state[kept_key]
    if key not in st.session_state or st.session_state[key] == previous:
        st.session_state[key] = latest
    st.session_state[key] = min(max(1, st.session_state[key]), latest)
    st.session_state[seen_key] = latest
    if latest == 1:
        st.caption("Epoch 1 (the only one recorded so far)")
        epoch = 1
    else:
        epoch = int(
            st.slider(
                "Epoch",
                1,
                latest,
                key=key,
                help="weights as each example got them at its visit in this epoch; "
                "follows the newest epoch while you leave it at the end",
            )
        )
    st.session_state[kept_key] = epoch
    return epoch
