"""The project's four extension points: weighting methods, datasets, models and weighting nets,
one table each.

Every consumer reads these tables when it needs them (configuration checks, the CLI's help, the
dashboard's sidebar, labels and colours of figures, sweeps and their paired comparisons, the
benchmark), so a new method, dataset, model or weighting net is one :func:`register_method`,
:func:`register_dataset`, :func:`register_model` or :func:`register_weight_net` call, not edits
in ten files. This module only keeps the tables: it imports nothing of the project, so everything
can read them. The built-in entries are registered by the package when it is imported, from
tables that import neither torch nor NumPy: :mod:`gdw.weighting.method_table` (each builder
imports its step class when a run is built), :mod:`gdw.models.model_table` (each builder its
classifier), :mod:`gdw.weighting.weight_net_table` (each builder the weighting net) and
:mod:`gdw.data.dataset_table` (each reader imports its module when data is read).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = [
    "DatasetSpec",
    "HumanLabelSpec",
    "MethodSpec",
    "ModelSpec",
    "WeightNetSpec",
    "comparison_pairs",
    "dataset_ids",
    "dataset_spec",
    "lookup",
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
    "unregister",
    "weight_net_ids",
    "weight_net_spec",
]


@dataclass(frozen=True)
class MethodSpec:
    """One weighting method.

    Attributes:
        id: the name used in flags, ``config.json`` and run folder names (``gdw``).
        label: the name shown to people (``GDW``).
        color: its colour in every chart (hex).
        description: one line saying what it does.
        builder: ``builder(model, optimizer, weight_net, weight_optimizer, *, outer_lr, clip,
            formulation)`` returning an object with a ``step(x, y, x_meta, y_meta)`` method
            (see :class:`gdw.weighting.methods.Method`). ``weight_net`` and ``weight_optimizer`` are
            ``None`` for a method that does not learn from the meta set.
        learns_from_meta: whether it uses the clean meta set (and a weighting network).
        uses_outer_lr, uses_clip: whether the outer step's knobs mean anything to it.
        default_outer_lr: ``n_classes -> outer lr`` when none is given (methods that use it).
        weight_kind: what its recorded weights are: ``ones`` (ERM), ``instance`` (one weight
            per example repeated over the classes) or ``class`` (one per class).
        compare_with: baselines its paired differences in a sweep are taken against, each with
            the question the difference answers.
        ablation: an ablation rather than a method of the literature; offered as an extra in
            the dashboard's comparison.
        label_score: the score (:mod:`gdw.runs.label_scores`) ``gdw label-issues`` ranks its runs by
            unless another is asked for; by default the given label's margin, the most reliable
            score in the study (docs/weights-study.md) for every built-in method.
    """

    id: str
    label: str
    color: str
    description: str
    builder: Callable[..., Any]
    learns_from_meta: bool
    uses_outer_lr: bool = False
    uses_clip: bool = False
    default_outer_lr: Callable[[int], float] | None = None
    weight_kind: str = "instance"
    compare_with: tuple[tuple[str, str], ...] = ()
    ablation: bool = False
    label_score: str = "margin"


@dataclass(frozen=True)
class HumanLabelSpec:
    """A dataset's labels as people gave them, in one file index-aligned with its training split
    (CIFAR-N's ``CIFAR-10_human.pt``): the ``noise="human"`` of :class:`gdw.config.DataConfig`.

    Attributes:
        file: the file's usual name, looked for in the data root when no ``noise_file`` is given.
        sets: ``(name, key)`` of every label set: the name used in flags and widgets
            (``worse``) and the array it is in the file (``worse_label``).
        default: the set used when none is chosen.
        clean_key: the file's array of the dataset's own labels; it must equal the training
            split's labels index by index, or the file does not belong to these images.
        source: where to get the file (shown when it is missing).
        help: what the sets are (Markdown).
    """

    file: str
    sets: tuple[tuple[str, str], ...]
    default: str
    clean_key: str
    source: str
    help: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.sets)

    def key(self, name: str) -> str:
        """The file's array of the label set ``name``."""
        return dict(self.sets)[name]


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset.

    Attributes:
        id: the ``--dataset`` name.
        label: the name shown to people.
        reader: ``reader(data_config) -> gdw.data.sources.Source``.
        help: where its files go and what it is (Markdown; ``{root}`` is the data folder).
        files: the folder under the data root where its files are looked for (``""``: none).
        downloadable: whether ``--download`` can fetch it.
        needs_root: whether it reads files from ``--data-root``.
        default_epochs, default_num_meta: used when a run gives none.
        default_model: what ``--model auto`` picks.
        class_names: ``class_names(data_config)`` giving the class names without reading the
            images (``None`` when unknown without them), for pickers such as ``--classes``;
            ``None``: read the source to know them.
        human_labels: its human label sets, for ``noise="human"`` (``None``: it has none).
    """

    id: str
    label: str
    reader: Callable[..., Any]
    help: str
    files: str
    downloadable: bool
    needs_root: bool
    default_epochs: int
    default_num_meta: int
    default_model: str
    class_names: Callable[..., tuple[str, ...] | None] | None = None
    human_labels: HumanLabelSpec | None = None


@dataclass(frozen=True)
class ModelSpec:
    """One classifier.

    Attributes:
        id: the ``--model`` name.
        label: the name shown to people (``ResNet-32``).
        description: its size and speed, for the CLI's help.
        builder: ``builder(image_shape=(channels, height, width), n_classes=C)`` returning the
            ``torch.nn.Module`` (torch is imported when it is called, not when it is registered).
        min_image_size: the smallest height and width of an image it takes.
        meta_gradient: the faster exact meta-gradient on it (``jvp`` or ``double-backward``),
            what ``--meta-gradient auto`` picks; ``python -m gdw bench`` measures both.
        bench_shape: the image shape ``gdw bench`` times it on (the data it is made for).
    """

    id: str
    label: str
    description: str
    builder: Callable[..., Any]
    min_image_size: int = 1
    meta_gradient: str = "jvp"
    bench_shape: tuple[int, int, int] = (3, 32, 32)


@dataclass(frozen=True)
class WeightNetSpec:
    """One weighting net: how the methods that learn from the meta set map an example's loss to
    its weight (``--weight-net``; docs/algorithm.md, "The weighting net").

    Attributes:
        id: the ``--weight-net`` name, as ``config.json`` records it (``monotone``).
        label: the name shown to people (``monotone, normalised``).
        description: one line saying what it does, for the CLI's help and the sidebar.
        builder: ``builder()`` returning the ``torch.nn.Module`` that maps a batch's losses
            ``[N]`` to their weights ``[N]`` (torch is imported when it is called, not when it
            is registered).
        warmup_fraction: the share of a run's epochs (rounded down) trained plainly, every
            weight 1, before it takes over, when the run gives no ``warmup_epochs``.
    """

    id: str
    label: str
    description: str
    builder: Callable[[], Any]
    warmup_fraction: float = 0.0


_METHODS: dict[str, MethodSpec] = {}
_DATASETS: dict[str, DatasetSpec] = {}
_MODELS: dict[str, ModelSpec] = {}
_WEIGHT_NETS: dict[str, WeightNetSpec] = {}
_UNREGISTERED_COLOR = "#495057"  # a method of an old run that is no longer registered


def register_method(spec: MethodSpec) -> MethodSpec:
    """Adds ``spec`` to the method table (replacing an entry of the same id)."""
    _METHODS[spec.id] = spec
    return spec


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    """Adds ``spec`` to the dataset table (replacing an entry of the same id)."""
    _DATASETS[spec.id] = spec
    return spec


def register_model(spec: ModelSpec) -> ModelSpec:
    """Adds ``spec`` to the model table (replacing an entry of the same id)."""
    _MODELS[spec.id] = spec
    return spec


def register_weight_net(spec: WeightNetSpec) -> WeightNetSpec:
    """Adds ``spec`` to the weighting-net table (replacing an entry of the same id)."""
    _WEIGHT_NETS[spec.id] = spec
    return spec


def unregister(spec: MethodSpec | DatasetSpec | ModelSpec | WeightNetSpec) -> None:
    """Removes an entry (tests that register a toy one clean up with this)."""
    tables: dict[type, dict[str, Any]] = {
        MethodSpec: _METHODS,
        DatasetSpec: _DATASETS,
        ModelSpec: _MODELS,
        WeightNetSpec: _WEIGHT_NETS,
    }
    tables[type(spec)].pop(spec.id, None)


def lookup(table: Mapping[str, T], kind: str, key: str) -> T:
    """``table[key]``, or a ``KeyError`` that names the ``kind`` and every registered key (the
    one message of every registry's lookup)."""
    try:
        return table[key]
    except KeyError:
        raise KeyError(f"{kind} {key!r} is not one of: {', '.join(table)}") from None


def method_ids() -> tuple[str, ...]:
    """Every registered method, in registration order."""
    return tuple(_METHODS)


def dataset_ids() -> tuple[str, ...]:
    """Every registered dataset, in registration order."""
    return tuple(_DATASETS)


def model_ids() -> tuple[str, ...]:
    """Every registered model, in registration order (``--model auto`` is none of them: it
    picks the dataset's default model)."""
    return tuple(_MODELS)


def weight_net_ids() -> tuple[str, ...]:
    """Every registered weighting net, in registration order."""
    return tuple(_WEIGHT_NETS)


def warmed_up_nets() -> tuple[WeightNetSpec, ...]:
    """The registered weighting nets that start after a warm-up by default, in registration
    order (what ``--warmup-epochs``' help and the sidebar's say)."""
    return tuple(spec for spec in _WEIGHT_NETS.values() if spec.warmup_fraction > 0)


def method_spec(method: str) -> MethodSpec:
    """The entry of ``method``; ``KeyError`` naming the registered ones if there is none."""
    return lookup(_METHODS, "method", method)


def dataset_spec(dataset: str) -> DatasetSpec:
    """The entry of ``dataset``; ``KeyError`` naming the registered ones if there is none."""
    return lookup(_DATASETS, "dataset", dataset)


def model_spec(model: str) -> ModelSpec:
    """The entry of ``model``; ``KeyError`` naming the registered ones if there is none."""
    return lookup(_MODELS, "model", model)


def weight_net_spec(weight_net: str) -> WeightNetSpec:
    """The entry of ``weight_net``; ``KeyError`` naming the registered ones if there is none."""
    return lookup(_WEIGHT_NETS, "weight net", weight_net)


def recorded_method_spec(method: str) -> MethodSpec:
    """The entry of a method that a record names (a run folder, a sweep's results), whether or
    not it is still registered.

    Code that reads records uses this; code that builds a run uses :func:`method_spec`, which
    refuses an unknown method. For a method no longer registered (an old run folder) it is a
    stand-in that shows and ranks the run as well as can be without the entry: its id as the
    label, grey, its weights read as class-level ones, the default label score; it cannot be
    built.
    """
    spec = _METHODS.get(method)
    if spec is not None:
        return spec
    return MethodSpec(
        id=str(method),
        label=str(method),
        color=_UNREGISTERED_COLOR,
        description="a method that is no longer registered",
        builder=_unregistered_builder,
        learns_from_meta=False,
        weight_kind="class",
    )


def _unregistered_builder(*_args: Any, **_kwargs: Any) -> Any:
    raise LookupError("a method that is no longer registered cannot be built")


def method_label(method: str) -> str:
    """The display label of ``method`` (:func:`recorded_method_spec`: the id itself for a
    method no longer registered)."""
    return recorded_method_spec(method).label


def comparison_pairs(methods: tuple[str, ...] | list[str]) -> list[tuple[str, str, str]]:
    """``(method, baseline, question)`` for every paired difference among ``methods``, in the
    order of the table (GDW's first)."""
    present = set(methods)
    pairs = []
    for spec in reversed(list(_METHODS.values())):
        if spec.id in present:
            pairs += [(spec.id, b, q) for b, q in spec.compare_with if b in present]
    return pairs
