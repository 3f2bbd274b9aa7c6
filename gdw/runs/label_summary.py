"""A ranking's summary in words: one line for the command line, the warning when the ranking
must not be read as a list of suspects, and the note when training longer would likely find more."""

from __future__ import annotations

from typing import Any

from gdw.runs.label_quality import IMPROVING_EPOCHS, trust_ends
from gdw.runs.story import LEAN_CLEAR

__all__ = ["improving_note", "summary_line", "trust_warning"]


def trust_warning(summary: dict[str, Any]) -> str | None:
    """A plain warning for a ranking that must not be read as a list of suspects (inverted or
    weak), or that nothing measures; ``None`` for one that finds its known errors."""
    measured = summary["trust"]
    verdict, auroc = measured["verdict"], measured["auroc"]
    what = "its canaries" if measured["source"] == "canaries" else "the known label errors"
    lean = summary.get("lean")
    leaning = ""
    if lean is not None and lean >= LEAN_CLEAR:
        leaning = (
            f"; its weighting net up-weights hard examples (lean {lean:+.2f}), so a low weight "
            "means an easy example, not a distrusted label"
        )
    if verdict == "inverted":
        other = "; try --score margin" if summary.get("score") != "margin" else ""
        return (
            f"this ranking is upside down: {what} score above the other examples (AUROC "
            f"{auroc:.2f}, below 0.5){leaning}; do not act on it{other}"
        )
    if verdict == "weak":
        return (
            f"this ranking barely finds {what} (AUROC {auroc:.2f}; 0.5 is chance){leaning}; "
            "read it as a weak hint, not a list of errors"
        )
    if verdict == "unmeasured":
        return (
            "nothing measures this ranking (no canaries and no known errors); train with "
            "--canaries 0.02 to know how far to trust it"
        )
    return None


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def summary_line(summary: dict[str, Any]) -> str:
    """One line: counts, the score, precision and recall against the known errors, trust."""
    first, last = summary["epochs"]
    parts = [
        f"{summary['flagged']} of {summary['ranked']} flagged (score: {summary['score']}, "
        f"{summary['score_label']}, epochs {first}-{last})"
    ]
    noise = summary["noise"]
    if noise is None:
        parts.append("precision n/a, recall n/a (no known errors)")
    else:
        parts.append(
            f"precision {_share(noise['precision'])}, recall {_share(noise['recall'])} "
            f"of {noise['errors']} known errors"
        )
    measured = summary["trust"]
    if measured["auroc"] is not None:
        parts.append(f"AUROC on the {measured['source']} {measured['auroc']:.3f}")
    canaries = summary["canaries"]
    if canaries is not None:
        auroc = "n/a" if canaries["auroc"] is None else f"{canaries['auroc']:.3f}"
        parts.append(
            f"canaries: AUROC {auroc}, recall in the top {canaries['k']} "
            f"{_share(canaries['recall_at_k'])}, flagged "
            f"{_share(canaries['flag_recall'])} of {canaries['count']}"
        )
    if summary["recorded_subset"]:
        parts.append("only the recorded examples: every noisy one and a sample of the clean")
    return "; ".join(parts)


def improving_note(summary: dict[str, Any]) -> str | None:
    """One plain line when the ranking's trust was still rising over its last epochs
    (:func:`gdw.runs.label_quality.still_improving`); None otherwise."""
    if not summary.get("still_improving"):
        return None
    ends = trust_ends([point["auroc"] for point in summary["trust_by_epoch"]])
    if ends is None:
        return None
    before, now = ends
    rise = f"AUROC {before:.3f} to {now:.3f} over the last {IMPROVING_EPOCHS} epochs"
    if summary.get("finished"):
        return f"the ranking was still improving ({rise}): resume the run for more epochs"
    return f"the ranking is still improving ({rise})"
