"""GDW: class-level data weighting on noisy, imbalanced data.

The public names below are what the dashboard and notebooks use; everything else is internal.

    >>> from gdw import DataConfig, RunConfig, run, load_run
    >>> run_dir = run(RunConfig(data=DataConfig(noise="uniform", noise_rate=0.4)))
    >>> load_run(run_dir).metrics[["epoch", "test_acc"]].tail()

Each name is imported from its module when it is first used (PEP 562), so that code naming
only light parts (the configuration, the registries, the run reader) does not wait for torch:
the dashboard draws its controls before the training code is loaded. So the names are listed
once, in a table by the module that defines each, rather than imported here.
"""

from __future__ import annotations

import importlib
from typing import Any

# The built-in entries of the registries, registered before any code can read a table (importing
# any gdw module runs this file first). The tables import neither torch nor NumPy.
from gdw.data import dataset_table as _built_in_datasets  # noqa: F401
from gdw.models import model_table as _built_in_models  # noqa: F401
from gdw.weighting import method_table as _built_in_methods  # noqa: F401
from gdw.weighting import weight_net_table as _built_in_weight_nets  # noqa: F401

_PUBLIC = {
    "gdw.config": (
        "DATA_LIMITS",
        "DEFAULT_CANARIES",
        "DEVICES",
        "NOISE_TYPES",
        "ConfigError",
        "DataConfig",
        "DataError",
        "DataNotice",
        "RunConfig",
        "corruption_text",
        "default_epochs",
        "default_num_meta",
    ),
    "gdw.data.classes": ("class_names", "resolve_classes"),
    "gdw.data.dataset": ("NoisyDataset", "describe", "load_dataset"),
    "gdw.data.sources": ("source_file",),
    "gdw.data.transforms": ("augment_batch", "normalize"),
    "gdw.host_memory": ("retain_freed_memory_unless_disabled",),
    "gdw.models.model_table": ("MODELS",),
    "gdw.registry": (
        "DatasetSpec",
        "HumanLabelSpec",
        "MethodSpec",
        "ModelSpec",
        "WeightNetSpec",
        "comparison_pairs",
        "dataset_ids",
        "dataset_spec",
        "method_ids",
        "method_label",
        "method_spec",
        "model_ids",
        "model_spec",
        "recorded_method_spec",
        "register_dataset",
        "register_method",
        "register_model",
        "register_weight_net",
        "warmed_up_nets",
        "weight_net_ids",
        "weight_net_spec",
    ),
    "gdw.runs.files": ("RunPathError", "RunReadError", "RunWriteError", "resolve_run_path"),
    "gdw.runs.label_issues": (
        "FLAG_RULE",
        "LabelIssues",
        "LabelIssuesError",
        "default_score",
        "find_label_issues",
        "held_scores",
        "label_issues_csv",
        "run_default_score",
    ),
    "gdw.runs.label_quality": ("TRUST_GOOD",),
    "gdw.runs.label_scores": ("score_ids", "score_spec"),
    "gdw.runs.label_summary": ("improving_note", "summary_line", "trust_warning"),
    "gdw.runs.listing": ("list_runs", "read_listed_run", "run_ids"),
    "gdw.runs.reader": ("Run", "load_run"),
    "gdw.runs.recording": ("target_weights", "weight_statistics"),
    "gdw.runs.review": (
        "REVIEW_COLUMNS",
        "VERDICTS",
        "ReviewError",
        "Verdict",
        "corrected_labels_csv",
        "read_reviews",
        "record_verdicts",
    ),
    "gdw.runs.state": ("HEARTBEAT_TIMEOUT", "RESUMABLE", "STATES", "live_state"),
    "gdw.runs.story": (
        "LEAN_CLEAR",
        "SIGNALS",
        "STORY_COLUMNS",
        "lean",
        "lean_words",
        "relative_to_instance_weights",
        "signal_quartiles",
        "story_moment",
        "story_signals",
        "story_statistics",
        "telling_order",
    ),
    "gdw.sink": ("TrainingSink",),
    "gdw.sweeps.presets": ("PRESETS", "Preset", "Setting"),
    "gdw.sweeps.results": ("SweepResults", "load_sweep"),
    "gdw.sweeps.running": ("run_sweep",),
    "gdw.sweeps.spec": ("SweepSpec",),
    "gdw.training.background": ("RunHandle", "start"),
    "gdw.training.device": ("available_devices", "resolve_device"),
    "gdw.training.failures": ("TrainingDiverged",),
    "gdw.training.trainer": ("resume", "run"),
    "gdw.weighting.meta_gradient": ("class_level_weights",),
    "gdw.weighting.method_table": ("default_outer_lr",),
}
"""Every public name, once, under the module that defines it."""

_EXPORTS = {name: module for module, names in _PUBLIC.items() for name in names}
"""name -> the module that defines it."""

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
