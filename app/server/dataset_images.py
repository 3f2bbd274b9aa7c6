"""A run's training images, for the pages that show examples: loaded once per data
configuration and kept, the two most recently shown, for the whole server process.

The same data configuration gives the same examples, so a run's ``instances.csv`` ``index``
points into these images. Loading them imports torch, so it happens only when images are shown.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import asdict
from typing import Any

import streamlit as st

from gdw import DataConfig, DataError, Run

__all__ = ["dataset_images"]


class _ImageStore:
    """The training images of the two most recently shown data configurations (process-wide)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._images: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str) -> Any:
        with self._lock:
            if key in self._images:
                self._images.move_to_end(key)
            return self._images.get(key)

    def load(self, key: str) -> Any:
        from gdw import load_dataset  # torch: only once images are shown

        images = load_dataset(DataConfig(**json.loads(key))).train_images
        with self._lock:
            self._images[key] = images
            while len(self._images) > 2:
                self._images.popitem(last=False)
        return images


@st.cache_resource(show_spinner=False)
def _image_store() -> _ImageStore:
    return _ImageStore()


def dataset_images(run: Run, *, load: bool = True) -> tuple[Any, str | None]:
    """The training images of the run's data (``[N, ch, H, W]`` uint8), or None and why not.

    The same data configuration gives the same examples, so ``instances.csv``'s ``index``
    points into these images. With ``load=False`` only images already in memory are returned.
    """
    if run.run_config is None:
        return None, "images unavailable: the run's configuration cannot be read"
    key = json.dumps({**asdict(run.run_config.data), "download": False}, sort_keys=True)
    images = _image_store().get(key)
    if images is not None or not load:
        return images, None
    try:
        with st.spinner("Loading the run's images…"):
            return _image_store().load(key), None
    except DataError as error:
        return None, f"images unavailable: {error}"
