"""The classroom sentence for one example: what its class-level weights say, in words."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.analysis.weights import format_weight, signal_names
from gdw import method_label, recorded_method_spec

__all__ = ["explain_example"]


def _story_sentence(
    names: list[str], given: int, true: int, weights: np.ndarray, instance_weight: float
) -> str:
    """The three signals with their values and the instance weight they started from."""
    fw = format_weight
    rest = [j for j in range(len(names)) if j not in (given, true)]
    w_given = float(weights[given])
    parts = [f"'{names[given]}' **{fw(w_given)}**"]
    ratios = [w_given]
    if true != given:
        parts.append(f"the wrong '{names[true]}' **{fw(float(weights[true]))}**")
        ratios.append(float(weights[true]))
    if rest:
        w_rest = float(np.mean(weights[rest]))
        which = f"'{names[rest[0]]}'" if len(rest) == 1 else f"the {len(rest)} correct 'not …'"
        parts.append(f"{which} **{fw(w_rest)}**" + ("" if len(rest) == 1 else " on average"))
        ratios.append(w_rest)
    text = (
        f" Its signals: {', '.join(parts)}; its instance weight, the weighting net's weight "
        f"the class-level step started from, is **{fw(instance_weight)}**"
    )
    if instance_weight > 0:
        text += " (" + ", ".join(f"×{fw(r / instance_weight)}" for r in ratios) + " of it)"
    return text + "."


def explain_example(
    *,
    classes: Sequence[str],
    given: int,
    true: int,
    weights: np.ndarray,
    method: str,
    epoch: int,
    instance_weight: float | None = None,
) -> str:
    """The classroom sentence for one example: what its class-level weights say (Markdown).

    Args:
        weights: the example's weights [C] at ``epoch``.
        instance_weight: its instance weight at that visit, when recorded: the sentence then
            names "dog", "not cat" and "not bird" with their values relative to it.
    """
    names = signal_names(classes, given)
    fw = format_weight
    noisy = true != given
    label = f"This image is labelled **{classes[given]}**"
    label += (
        f", but it really is a **{classes[true]}** (an injected label error)." if noisy else "."
    )
    w_given = float(weights[given])
    n_signals = len(classes)
    kind = recorded_method_spec(method).weight_kind
    if kind == "ones":
        return (
            f"{label} {method_label(method)} trusts every signal of every example fully: "
            f"'{names[given]}' and all the 'not …' signals keep weight 1.0."
        )
    if kind == "instance":
        return (
            f"{label} At epoch {epoch}, {method_label(method)} gives the whole example one "
            f"weight, **{fw(w_given)}**: '{names[given]}' and every 'not …' signal are scaled "
            "alike, so the useful 'not …' information is kept or cut together with the label."
        )
    story = (
        ""
        if instance_weight is None
        else _story_sentence(names, given, true, weights, float(instance_weight))
    )
    correct = [j for j in range(n_signals) if j not in (given, true)]
    if not correct:
        return (
            f"{label} At epoch {epoch}, GDW weighs '{names[given]}' at **{fw(w_given)}**." + story
        )
    best = max(correct, key=lambda j: weights[j])
    w_best = float(weights[best])
    low = min(float(weights[j]) for j in correct)
    top = max(w_given, w_best, float(weights[true]))
    cut = w_given < w_best - 0.1 or w_given < 0.5 * w_best
    alike = not cut and w_given <= w_best
    if top < 0.01:
        core = (
            f"At epoch {epoch}, GDW has all but switched this example off: every one of "
            f"its signals weighs less than 0.01 ('{names[given]}' {fw(w_given)})"
        )
    elif cut:
        core = (
            f"At epoch {epoch}, GDW keeps the '{names[best]}' signal at **{fw(w_best)}** "
            f"while cutting '{names[given]}' to **{fw(w_given)}**"
        )
    elif alike:
        core = (
            f"At epoch {epoch}, GDW weighs '{names[given]}' (**{fw(w_given)}**) about as "
            f"much as the 'not …' signals ({fw(low)}–{fw(w_best)})"
            + ("" if noisy else ": it finds nothing to distrust here")
        )
    else:
        core = (
            f"At epoch {epoch}, GDW weighs '{names[given]}' at **{fw(w_given)}**, more "
            f"than any 'not …' signal (highest: '{names[best]}' at {fw(w_best)})"
        )
    if noisy:
        core += f"; the wrong 'not {classes[true]}' signal gets **{fw(float(weights[true]))}**"
    spread = (
        f" The {len(correct)} correct 'not …' signals get {fw(low)}–{fw(w_best)}."
        if len(correct) > 1 and not alike and top >= 0.01
        else ""
    )
    if top < 0.01 and instance_weight is not None:
        return (
            f"{label} {core}. Its instance weight is tiny too, so read the signals "
            f"relative to it.{story}"
        )
    if top < 0.01:
        return (
            f"{label} {core}. GDW could weigh the {n_signals} signals apart; for this "
            "example it agrees with instance weighting (MW-Net), which can only scale them "
            "all together."
        )
    return (
        f"{label} {core}.{spread}{story} Each signal has its own weight; an "
        f"instance-weighting method such as MW-Net would give all {n_signals} of them one "
        "weight."
    )
