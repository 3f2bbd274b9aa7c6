"""GDW: class-level data weighting on noisy, imbalanced data.

The public names below are what the dashboard and notebooks use; everything else is internal.
"""

from __future__ import annotations

from gdw.config import (
    DATASETS,
    DEVICES,
    METHODS,
    MODELS,
    NOISE_TYPES,
    ConfigError,
    DataConfig,
    RunConfig,
)

__all__ = [
    "DATASETS",
    "DEVICES",
    "METHODS",
    "MODELS",
    "NOISE_TYPES",
    "ConfigError",
    "DataConfig",
    "RunConfig",
]
