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

# The built-in entries of the registries, registered before any code can read a table (importing
# any gdw module runs this file first). The tables import neither torch nor NumPy.
from gdw.data import dataset_table as _built_in_datasets
from gdw.models import model_table as _built_in_models
from gdw.weighting import method_table as _built_in_methods

# name -> the module that defines it
_EXPORTS = {
    "class_names": "gdw.data.classes",
    "resolve_classes": "gdw.data.classes",
    "ConfigError": "gdw.config",
    "DATA_LIMITS": "gdw.config",
    "DEFAULT_CANARIES": "gdw.config",
    "DEVICES": "gdw.config",
    "DataConfig": "gdw.config",
    "DataNotice": "gdw.config",
    "MODELS": "gdw.models.model_table",
    "NOISE_TYPES": "gdw.config",
    "RunConfig": "gdw.config",
    "corruption_text": "gdw.config",
    "WEIGHT_NETS": "gdw.config",
    "default_epochs": "gdw.config",
    "default_num_meta": "gdw.config",
    "default_outer_lr": "gdw.weighting.method_table",
    "NoisyDataset": "gdw.data.dataset",
    "augment_batch": "gdw.data.transforms",
    "describe": "gdw.data.dataset",
    "load_dataset": "gdw.data.dataset",
    "normalize": "gdw.data.transforms",
    "available_devices": "gdw.training.device",
    "resolve_device": "gdw.training.device",
    "retain_freed_memory_unless_disabled": "gdw.host_memory",
    "FLAG_RULE": "gdw.runs.label_issues",
    "LabelIssues": "gdw.runs.label_issues",
    "LabelIssuesError": "gdw.runs.label_issues",
    "TRUST_GOOD": "gdw.runs.label_quality",
    "default_score": "gdw.runs.label_issues",
    "find_label_issues": "gdw.runs.label_issues",
    "held_scores": "gdw.runs.label_issues",
    "run_default_score": "gdw.runs.label_issues",
    "trust_warning": "gdw.runs.label_summary",
    "score_ids": "gdw.runs.label_scores",
    "score_spec": "gdw.runs.label_scores",
    "label_issues_csv": "gdw.runs.label_issues",
    "summary_line": "gdw.runs.label_summary",
    "class_level_weights": "gdw.weighting.meta_gradient",
    "PRESETS": "gdw.sweeps.presets",
    "Preset": "gdw.sweeps.presets",
    "Setting": "gdw.sweeps.presets",
    "target_weights": "gdw.runs.recording",
    "weight_statistics": "gdw.runs.recording",
    "DatasetSpec": "gdw.registry",
    "HumanLabelSpec": "gdw.registry",
    "MethodSpec": "gdw.registry",
    "ModelSpec": "gdw.registry",
    "comparison_pairs": "gdw.registry",
    "dataset_ids": "gdw.registry",
    "dataset_spec": "gdw.registry",
    "method_ids": "gdw.registry",
    "method_label": "gdw.registry",
    "method_spec": "gdw.registry",
    "model_ids": "gdw.registry",
    "model_spec": "gdw.registry",
    "recorded_method_spec": "gdw.registry",
    "register_dataset": "gdw.registry",
    "register_method": "gdw.registry",
    "register_model": "gdw.registry",
    "REVIEW_COLUMNS": "gdw.runs.review",
    "ReviewError": "gdw.runs.review",
    "VERDICTS": "gdw.runs.review",
    "Verdict": "gdw.runs.review",
    "corrected_labels_csv": "gdw.runs.review",
    "read_reviews": "gdw.runs.review",
    "record_verdicts": "gdw.runs.review",
    "HEARTBEAT_TIMEOUT": "gdw.runs.state",
    "Run": "gdw.runs.reader",
    "RunPathError": "gdw.runs.files",
    "RunReadError": "gdw.runs.files",
    "RunWriteError": "gdw.runs.files",
    "RESUMABLE": "gdw.runs.state",
    "STATES": "gdw.runs.state",
    "list_runs": "gdw.runs.listing",
    "live_state": "gdw.runs.state",
    "load_run": "gdw.runs.reader",
    "read_listed_run": "gdw.runs.listing",
    "resolve_run_path": "gdw.runs.files",
    "run_ids": "gdw.runs.listing",
    "DataError": "gdw.config",
    "source_file": "gdw.data.sources",
    "SIGNALS": "gdw.runs.story",
    "LEAN_CLEAR": "gdw.runs.story",
    "STORY_COLUMNS": "gdw.runs.story",
    "lean": "gdw.runs.story",
    "lean_words": "gdw.runs.story",
    "story_moment": "gdw.runs.story",
    "relative_to_instance_weights": "gdw.runs.story",
    "signal_quartiles": "gdw.runs.story",
    "story_signals": "gdw.runs.story",
    "story_statistics": "gdw.runs.story",
    "telling_order": "gdw.runs.story",
    "SweepResults": "gdw.sweeps.results",
    "SweepSpec": "gdw.sweeps.spec",
    "load_sweep": "gdw.sweeps.results",
    "run_sweep": "gdw.sweeps.running",
    "RunHandle": "gdw.training.background",
    "TrainingDiverged": "gdw.training.failures",
    "TrainingSink": "gdw.sink",
    "resume": "gdw.training.trainer",
    "run": "gdw.training.trainer",
    "start": "gdw.training.background",
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
    from gdw.config import (
        DATA_LIMITS,
        DEFAULT_CANARIES,
        DEVICES,
        NOISE_TYPES,
        WEIGHT_NETS,
        ConfigError,
        DataConfig,
        DataError,
        DataNotice,
        RunConfig,
        corruption_text,
        default_epochs,
        default_num_meta,
    )
    from gdw.data.classes import class_names, resolve_classes
    from gdw.data.dataset import NoisyDataset, describe, load_dataset
    from gdw.data.sources import source_file
    from gdw.data.transforms import augment_batch, normalize
    from gdw.host_memory import retain_freed_memory_unless_disabled
    from gdw.models.model_table import MODELS
    from gdw.registry import (
        DatasetSpec,
        HumanLabelSpec,
        MethodSpec,
        ModelSpec,
        comparison_pairs,
        dataset_ids,
        dataset_spec,
        method_ids,
        method_label,
        method_spec,
        model_ids,
        model_spec,
        recorded_method_spec,
        register_dataset,
        register_method,
        register_model,
    )
    from gdw.runs.files import RunPathError, RunReadError, RunWriteError, resolve_run_path
    from gdw.runs.label_issues import (
        FLAG_RULE,
        LabelIssues,
        LabelIssuesError,
        default_score,
        find_label_issues,
        held_scores,
        label_issues_csv,
        run_default_score,
    )
    from gdw.runs.label_quality import TRUST_GOOD
    from gdw.runs.label_scores import score_ids, score_spec
    from gdw.runs.label_summary import summary_line, trust_warning
    from gdw.runs.listing import list_runs, read_listed_run, run_ids
    from gdw.runs.reader import Run, load_run
    from gdw.runs.recording import target_weights, weight_statistics
    from gdw.runs.review import (
        REVIEW_COLUMNS,
        VERDICTS,
        ReviewError,
        Verdict,
        corrected_labels_csv,
        read_reviews,
        record_verdicts,
    )
    from gdw.runs.state import HEARTBEAT_TIMEOUT, RESUMABLE, STATES, live_state
    from gdw.runs.story import (
        LEAN_CLEAR,
        SIGNALS,
        STORY_COLUMNS,
        lean,
        lean_words,
        relative_to_instance_weights,
        signal_quartiles,
        story_moment,
        story_signals,
        story_statistics,
        telling_order,
    )
    from gdw.sink import TrainingSink
    from gdw.sweeps.presets import PRESETS, Preset, Setting
    from gdw.sweeps.results import SweepResults, load_sweep
    from gdw.sweeps.running import run_sweep
    from gdw.sweeps.spec import SweepSpec
    from gdw.training.background import RunHandle, start
    from gdw.training.device import available_devices, resolve_device
    from gdw.training.failures import TrainingDiverged
    from gdw.training.trainer import resume, run
    from gdw.weighting.meta_gradient import class_level_weights
    from gdw.weighting.method_table import default_outer_lr
