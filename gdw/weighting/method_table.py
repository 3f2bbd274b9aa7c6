"""The built-in methods' entries in the method registry (:mod:`gdw.registry`).

They live apart from their step classes (:mod:`gdw.weighting.methods`) because the table is read
by everything that names or lists methods (configuration checks, the CLI's help, the dashboard's
sidebar), and none of those should pay for importing torch: each builder imports its class when
a run is built. A method of your own can register itself next to its class instead.
"""

from __future__ import annotations

from gdw.registry import MethodSpec, register_method

__all__ = ["default_outer_lr"]


def default_outer_lr(n_classes: int) -> float:
    """GDW's outer learning rate as in the paper: 100 for 10 classes, 1000 for 100 classes."""
    return 1000.0 if n_classes > 10 else 100.0


def _erm(model, optimizer, weight_net, weight_optimizer, **_):  # type: ignore[no-untyped-def]
    from gdw.weighting.methods import ERM

    return ERM(model, optimizer)


def _mwnet(model, optimizer, weight_net, weight_optimizer, *, formulation, **_):  # type: ignore[no-untyped-def]
    from gdw.weighting.methods import MWNet

    return MWNet(model, optimizer, weight_net, weight_optimizer, formulation=formulation)


def _mwnet_step(model, optimizer, weight_net, weight_optimizer, **knobs):  # type: ignore[no-untyped-def]
    from gdw.weighting.methods import MWNetStep

    return MWNetStep(model, optimizer, weight_net, weight_optimizer, **knobs)


def _gdw(model, optimizer, weight_net, weight_optimizer, **knobs):  # type: ignore[no-untyped-def]
    from gdw.weighting.methods import GDW

    return GDW(model, optimizer, weight_net, weight_optimizer, **knobs)


register_method(
    MethodSpec(
        id="erm",
        label="ERM",
        color="#868e96",
        description="plain training: every class-level weight is 1",
        builder=_erm,
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
        builder=_mwnet,
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
        builder=_mwnet_step,
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
        builder=_gdw,
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
