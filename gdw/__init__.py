"""GDW: class-level data weighting on noisy, imbalanced data.

The public names below are what the dashboard and notebooks use; everything else is internal.

    >>> from gdw import DataConfig, RunConfig, run, load_run
    >>> run_dir = run(RunConfig(data=DataConfig(noise="uniform", noise_rate=0.4)))
    >>> load_run(run_dir).metrics[["epoch", "test_acc"]].tail()
"""

from __future__ import annotations

from gdw.classes import class_names, resolve_classes
from gdw.config import (
    DEVICES,
    MODELS,
    NOISE_TYPES,
    ConfigError,
    DataConfig,
    RunConfig,
    default_epochs,
    default_num_meta,
    default_outer_lr,
)
from gdw.data import DataError, NoisyDataset, augment_batch, describe, load_dataset, normalize
from gdw.device import available_devices, resolve_device
from gdw.host_memory import retain_freed_memory_unless_disabled
from gdw.label_issues import (
    FLAG_RULE,
    LabelIssues,
    LabelIssuesError,
    find_label_issues,
    label_issues_csv,
    summary_line,
)
from gdw.methods import class_level_weights
from gdw.presets import PRESETS, Preset, Setting
from gdw.recording import target_weights, weight_statistics
from gdw.registry import (
    DatasetSpec,
    MethodSpec,
    comparison_pairs,
    dataset_ids,
    dataset_spec,
    method_ids,
    method_label,
    method_spec,
    register_dataset,
    register_method,
)
from gdw.review import (
    REVIEW_COLUMNS,
    VERDICTS,
    ReviewError,
    Verdict,
    corrected_labels_csv,
    read_reviews,
    record_verdicts,
)
from gdw.runs import (
    HEARTBEAT_TIMEOUT,
    STATES,
    Run,
    RunPathError,
    RunReadError,
    RunWriteError,
    list_runs,
    live_state,
    load_run,
    read_listed_run,
    resolve_run_path,
    run_ids,
)
from gdw.sources import source_file
from gdw.story import (
    SIGNALS,
    STORY_COLUMNS,
    relative_to_base,
    signal_quartiles,
    story_signals,
    story_statistics,
    telling_order,
)
from gdw.sweep import SweepResults, SweepSpec, load_sweep, run_sweep
from gdw.trainer import RunHandle, TrainingDiverged, TrainingSink, resume, run, start

__all__ = [
    "DEVICES",
    "HEARTBEAT_TIMEOUT",
    "FLAG_RULE",
    "LabelIssues",
    "LabelIssuesError",
    "REVIEW_COLUMNS",
    "ReviewError",
    "VERDICTS",
    "Verdict",
    "corrected_labels_csv",
    "find_label_issues",
    "label_issues_csv",
    "read_reviews",
    "record_verdicts",
    "source_file",
    "summary_line",
    "MODELS",
    "NOISE_TYPES",
    "PRESETS",
    "SIGNALS",
    "STORY_COLUMNS",
    "Preset",
    "ConfigError",
    "DataConfig",
    "DatasetSpec",
    "MethodSpec",
    "DataError",
    "NoisyDataset",
    "Run",
    "RunConfig",
    "RunHandle",
    "RunPathError",
    "RunReadError",
    "RunWriteError",
    "STATES",
    "Setting",
    "SweepResults",
    "SweepSpec",
    "TrainingDiverged",
    "TrainingSink",
    "augment_batch",
    "available_devices",
    "class_level_weights",
    "class_names",
    "comparison_pairs",
    "dataset_ids",
    "dataset_spec",
    "default_epochs",
    "default_num_meta",
    "default_outer_lr",
    "describe",
    "list_runs",
    "live_state",
    "read_listed_run",
    "resume",
    "retain_freed_memory_unless_disabled",
    "run_ids",
    "load_dataset",
    "load_run",
    "load_sweep",
    "method_ids",
    "method_label",
    "method_spec",
    "normalize",
    "register_dataset",
    "register_method",
    "resolve_classes",
    "resolve_device",
    "relative_to_base",
    "resolve_run_path",
    "run",
    "run_sweep",
    "signal_quartiles",
    "story_signals",
    "story_statistics",
    "telling_order",
    "start",
    "target_weights",
    "weight_statistics",
]
