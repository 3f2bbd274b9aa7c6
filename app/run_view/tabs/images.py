"""A run's training images in the page: small data at once, a large dataset once its run ends
(or on a click), since decoding tens of thousands of images takes CPU from the run."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.figures.example import to_display_image
from app.server.dataset_images import dataset_images
from gdw import Run

__all__ = ["SMALL_DATA", "example_image", "images_button", "may_load_images"]

SMALL_DATA = 5_000  # training examples whose images load even while their run trains


def may_load_images(run: Run) -> bool:
    """Small data loads at once; a big dataset waits for its run to end (or for a click):
    decoding tens of thousands of images in the page's process takes CPU from the run."""
    train_count = int(run.data_summary.get("train_count") or 0)
    wanted = st.session_state.get(f"load_images_{run.run_id}", False)
    return wanted or run.state != "running" or train_count <= SMALL_DATA


def images_button(run: Run) -> None:
    """Loads a large dataset's images on a click, while its run trains."""
    key = f"load_images_{run.run_id}"
    st.caption("The images of a large dataset load when its run ends, so as not to slow it.")
    st.button(
        "Show images now",
        key=f"button_{key}",
        icon=":material/image:",
        on_click=_want_images,
        args=(key,),
    )


def _want_images(key: str) -> None:
    st.session_state[key] = True


def example_image(run: Run, index: int, *, size: int = 160) -> np.ndarray | None:
    """Example ``index``'s training image, scaled to ``size`` for display; ``None`` while the
    images are not to be loaded, or (saying why) when they cannot be."""
    images, problem = dataset_images(run, load=may_load_images(run))
    if images is None or not 0 <= index < len(images):
        if problem:
            st.caption(problem)
        return None
    return to_display_image(images[index].numpy(), size=size)
