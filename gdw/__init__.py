"""GDW: class-level data weighting on noisy, imbalanced data.

The public names below are what the dashboard and notebooks use; everything else is internal.

    >>> from gdw import DataConfig, RunConfig, run, load_run
    >>> run_dir = run(RunConfig(data=DataConfig(noise="uniform", noise_rate=0.4)))
    >>> load_run(run_dir).metrics[["epoch", "test_acc"]].tail()

Each name is imported from its module when it is first used (PEP 562), so that code naming
only light parts (the configuration, the registries, the run reader) does not wait for torch:
the dashboard draws its controls before the training code is loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> the module that defines it
_EXPORTS = {
    "class_names": "gdw.classes",
    "resolve_classes": "gdw.classes",
    "ConfigError": "gdw.config",
    "DEFAULT_CANARIES": "gdw.config",
    "DEVICES": "gdw.config",
    "DataConfig": "gdw.config",
    "DataNotice": "gdw.config",
    "MODELS": "gdw.config",
    "NOISE_TYPES": "gdw.config",
    "RunConfig": "gdw.config",
    "WEIGHT_NETS": "gdw.config",
    "default_epochs": "gdw.config",
    "default_num_meta": "gdw.config",
    "default_outer_lr": "gdw.config",
    "NoisyDataset": "gdw.data",
    "augment_batch": "gdw.data",
    "describe": "gdw.data",
    "load_dataset": "gdw.data",
    "normalize": "gdw.data",
    "available_devices": "gdw.device",
    "resolve_device": "gdw.device",
    "retain_freed_memory_unless_disabled": "gdw.host_memory",
    "FLAG_RULE": "gdw.label_issues",
    "LabelIssues": "gdw.label_issues",
    "LabelIssuesError": "gdw.label_issues",
    "TRUST_GOOD": "gdw.label_issues",
    "default_score": "gdw.label_issues",
    "find_label_issues": "gdw.label_issues",
    "held_scores": "gdw.label_issues",
    "run_default_score": "gdw.label_issues",
    "trust_warning": "gdw.label_issues",
    "score_ids": "gdw.label_scores",
    "score_spec": "gdw.label_scores",
    "label_issues_csv": "gdw.label_issues",
    "summary_line": "gdw.label_issues",
    "class_level_weights": "gdw.methods",
    "PRESETS": "gdw.presets",
    "Preset": "gdw.presets",
    "Setting": "gdw.presets",
    "target_weights": "gdw.recording",
    "weight_statistics": "gdw.recording",
    "DatasetSpec": "gdw.registry",
    "HumanLabelSpec": "gdw.registry",
    "MethodSpec": "gdw.registry",
    "comparison_pairs": "gdw.registry",
    "dataset_ids": "gdw.registry",
    "dataset_spec": "gdw.registry",
    "method_ids": "gdw.registry",
    "method_label": "gdw.registry",
    "method_spec": "gdw.registry",
    "register_dataset": "gdw.registry",
    "register_method": "gdw.registry",
    "REVIEW_COLUMNS": "gdw.review",
    "ReviewError": "gdw.review",
    "VERDICTS": "gdw.review",
    "Verdict": "gdw.review",
    "corrected_labels_csv": "gdw.review",
    "read_reviews": "gdw.review",
    "record_verdicts": "gdw.review",
    "HEARTBEAT_TIMEOUT": "gdw.runs",
    "Run": "gdw.runs",
    "RunPathError": "gdw.runs",
    "RunReadError": "gdw.runs",
    "RunWriteError": "gdw.runs",
    "STATES": "gdw.runs",
    "list_runs": "gdw.runs",
    "live_state": "gdw.runs",
    "load_run": "gdw.runs",
    "read_listed_run": "gdw.runs",
    "resolve_run_path": "gdw.runs",
    "run_ids": "gdw.runs",
    "DataError": "gdw.config",
    "source_file": "gdw.sources",
    "SIGNALS": "gdw.story",
    "LEAN_CLEAR": "gdw.story",
    "STORY_COLUMNS": "gdw.story",
    "lean": "gdw.story",
    "lean_words": "gdw.story",
    "story_moment": "gdw.story",
    "relative_to_base": "gdw.story",
    "signal_quartiles": "gdw.story",
    "story_signals": "gdw.story",
    "story_statistics": "gdw.story",
    "telling_order": "gdw.story",
    "SweepResults": "gdw.sweep",
    "SweepSpec": "gdw.sweep",
    "load_sweep": "gdw.sweep",
    "run_sweep": "gdw.sweep",
    "RunHandle": "gdw.trainer",
    "TrainingDiverged": "gdw.trainer",
    "TrainingSink": "gdw.sink",
    "resume": "gdw.trainer",
    "run": "gdw.trainer",
    "start": "gdw.trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gdw' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and editors see: the same names, imported eagerly
    from gdw.classes import class_names, resolve_classes
    from gdw.config import (
        DEFAULT_CANARIES,
        DEVICES,
        MODELS,
        NOISE_TYPES,
        WEIGHT_NETS,
        ConfigError,
        DataConfig,
        DataError,
        DataNotice,
        RunConfig,
        default_epochs,
        default_num_meta,
        default_outer_lr,
    )
    from gdw.data import NoisyDataset, augment_batch, describe, load_dataset, normalize
    from gdw.device import available_devices, resolve_device
    from gdw.host_memory import retain_freed_memory_unless_disabled
    from gdw.label_issues import (
        FLAG_RULE,
        TRUST_GOOD,
        LabelIssues,
        LabelIssuesError,
        default_score,
        find_label_issues,
        held_scores,
        label_issues_csv,
        run_default_score,
        summary_line,
        trust_warning,
    )
    from gdw.label_scores import score_ids, score_spec
    from gdw.methods import class_level_weights
    from gdw.presets import PRESETS, Preset, Setting
    from gdw.recording import target_weights, weight_statistics
    from gdw.registry import (
        DatasetSpec,
        HumanLabelSpec,
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
    from gdw.sink import TrainingSink
    from gdw.sources import source_file
    from gdw.story import (
        LEAN_CLEAR,
        SIGNALS,
        STORY_COLUMNS,
        lean,
        lean_words,
        relative_to_base,
        signal_quartiles,
        story_moment,
        story_signals,
        story_statistics,
        telling_order,
    )
    from gdw.sweep import SweepResults, SweepSpec, load_sweep, run_sweep
    from gdw.trainer import RunHandle, TrainingDiverged, resume, run, start
