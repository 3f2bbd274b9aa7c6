"""The built-in methods' entries in the method registry (:mod:`gdw.registry`).

They live apart from their step classes (:mod:`gdw.methods`) because the table is read by
everything that names or lists methods (configuration checks, the CLI's help, the dashboard's
sidebar), and none of those should pay for importing torch: a builder imports its class only
when a run is built. A method of your own can register itself next to its class instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gdw.config import default_outer_lr
from gdw.registry import MethodSpec, register_method

__all__: list[str] = []


def _plain(model, optimizer, weight_net, weight_optimizer, **_):  # type: ignore[no-untyped-def]
    from gdw.methods import ERM

    return ERM(model, optimizer)


def _meta(class_name: str) -> Callable[..., Any]:
    """A builder of the meta-weighted method ``gdw.methods.<class_name>``; the outer step's knobs
    go to the methods that have one (``build_method`` passes ``outer_lr=None`` to the others, as
    ``RunConfig`` resolves it)."""

    def build(model, optimizer, weight_net, weight_optimizer, *, outer_lr, clip, formulation):  # type: ignore[no-untyped-def]
        from gdw import methods

        cls = getattr(methods, class_name)
        knobs = {} if outer_lr is None else {"outer_lr": outer_lr, "clip": clip}
        return cls(model, optimizer, weight_net, weight_optimizer, formulation=formulation, **knobs)

    return build


register_method(
    MethodSpec(
        id="erm",
        label="ERM",
        color="#868e96",
        description="plain training: every class-level weight is 1",
        builder=_plain,
        learns_from_meta=False,
        weight_kind="ones",
    )
)
register_method(
    MethodSpec(
        id="mwnet",
        label="MW-Net",
        color="#1c7ed6",
        description="Meta-Weight-Net: one learned weight per example, from the updated "
        "weighting net",
        builder=_meta("MWNet"),
        learns_from_meta=True,
        weight_kind="instance",
        compare_with=(("erm", "what instance weighting adds to plain training"),),
    )
)
register_method(
    MethodSpec(
        id="mwnet-step",
        label="MW-Net + outer step",
        color="#f08c00",
        description="ablation: GDW's normalised, clipped outer step on one weight per example",
        builder=_meta("MWNetStep"),
        learns_from_meta=True,
        uses_outer_lr=True,
        uses_clip=True,
        default_outer_lr=lambda n_classes: default_outer_lr(n_classes) / n_classes,
        weight_kind="instance",
        ablation=True,
        compare_with=(("mwnet", "what the outer step adds to instance weighting"),),
    )
)
register_method(
    MethodSpec(
        id="gdw",
        label="GDW",
        color="#d6336c",
        description="Generalized Data Weighting: one weight per class-level signal of each example",
        builder=_meta("GDW"),
        learns_from_meta=True,
        uses_outer_lr=True,
        uses_clip=True,
        default_outer_lr=default_outer_lr,
        weight_kind="class",
        compare_with=(
            ("mwnet", "GDW against instance weighting (outer step and class level together)"),
            ("mwnet-step", "what class-level granularity adds beyond the outer step"),
            ("erm", "GDW against plain training"),
        ),
    )
)
