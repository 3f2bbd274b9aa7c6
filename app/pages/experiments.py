"""The Experiments page's body: a sweep folder's table of accuracies, its plots and the paired
comparisons of GDW with MW-Net and ERM.

Sweep folders are made by ``python -m gdw sweep`` (see gdw/sweeps/); this page only reads
them. It looks for folders holding a ``sweep.json`` under one root folder (at most two levels deep)
and never reads outside it. A live sweep (either backend, local or Ray) is followed by re-reading
its folder: the runs done and failed (``results.csv``) and running (the run folders' status).
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from app.figures.sweep import (
    accuracy_display,
    difference_figure,
    imbalance_figure,
    noise_figure,
    noise_types,
    paired_display,
)
from gdw import RunPathError, comparison_pairs, load_sweep, method_label

__all__ = ["default_root", "find_sweeps", "render"]

REFRESH_SECONDS = 10  # re-read an unfinished sweep this often (it may be running)


def default_root() -> Path:
    """``$GDW_SWEEPS_DIR``, else ``sweeps`` (where ``gdw sweep`` writes by default)."""
    return Path(os.environ.get("GDW_SWEEPS_DIR") or "sweeps")


def find_sweeps(root: Path) -> list[Path]:
    """Folders holding a ``sweep.json``: ``root`` itself and up to two levels below, newest
    first."""
    root = Path(root)
    if not root.is_dir():
        return []
    inside = root.resolve()
    found = [
        p.parent
        for pattern in ("sweep.json", "*/sweep.json", "*/*/sweep.json")
        for p in root.glob(pattern)
        if p.is_file() and p.resolve().is_relative_to(inside)
    ]
    return sorted(set(found), key=lambda p: (p / "sweep.json").stat().st_mtime, reverse=True)


def render(runs_root: Path) -> None:
    """The whole page: pick a sweep folder under ``runs_root``, then show its results."""
    st.title("Experiments")
    st.caption(
        "Every method trained on every corruption setting with several seeds. Accuracy is the "
        "mean test accuracy of the last 5 epochs; error bars and ± are the standard deviation "
        "over seeds. Differences are paired by seed (same seed: same data, same corruption)."
    )
    sweeps = find_sweeps(Path(runs_root))
    if not sweeps:
        st.info(
            f"No sweep folders under `{runs_root}` yet. Make one (about 15 minutes on 2 CPU "
            f"cores) with:\n\n"
            f"`python -m gdw sweep --preset digits --out {Path(runs_root) / 'digits'}`",
            icon=":material/science:",
        )
        return

    def name(path: Path) -> str:
        text = str(path.relative_to(runs_root)) if path != Path(runs_root) else path.name
        problem = _load(str(path), _stamp(path))[1]
        return f"{text} — unreadable: {problem}" if problem else text

    chosen = st.selectbox("Sweep folder", sweeps, format_func=name, key="sweep_folder")
    _sweep_view(chosen)


def _stamp(path: Path) -> tuple[int, int]:
    """When ``results.csv``, ``sweep.json`` and the ``runs`` folder (a run starts) last
    changed."""
    stamps = []
    for changed in (path / "results.csv", path / "sweep.json", path / "runs"):
        try:
            stamps.append(changed.stat().st_mtime_ns)
        except OSError:
            stamps.append(0)
    return stamps[0], stamps[1], stamps[2]


@st.cache_data(show_spinner=False, max_entries=32)
def _load(path: str, stamp: tuple[int, int, int]):  # stamp: re-read when a file changes
    """The sweep and None, or None and why it cannot be read (a damaged folder never raises
    into the page)."""
    try:
        return load_sweep(path), None
    except RunPathError as error:
        return None, getattr(error, "reason", None) or str(error)


def _sweep_view(path: Path) -> None:
    sweep, problem = _load(str(path), _stamp(path))
    if sweep is None:
        _unreadable(problem)
        return
    ended = len(sweep.results) + len(sweep.failed)
    every = REFRESH_SECONDS if ended < sweep.planned or sweep.running else None

    @st.fragment(run_every=every)
    def body() -> None:
        sweep, problem = _load(str(path), _stamp(path))
        if sweep is None:
            _unreadable(problem)
            return
        _body(sweep)

    body()


def _unreadable(problem: str | None) -> None:
    st.error(f"This sweep folder cannot be read: {problem}", icon=":material/broken_image:")


def _body(sweep) -> None:
    finished, planned = len(sweep.results), sweep.planned
    spec = sweep.spec
    left, right = st.columns([3, 2])
    left.markdown(
        f"**{f'preset {spec.preset}' if spec.preset else 'custom grid'}** · "
        f"{spec.base.data.dataset} · {len(spec.methods)} methods × {len(spec.settings)} settings "
        f"× {len(spec.seeds)} seeds · {spec.base.resolved_epochs} epochs, lr {spec.base.lr:g}"
    )
    running, failed = len(sweep.running), len(sweep.failed)
    if finished < planned:
        right.progress(
            (finished + failed) / planned,
            text=f"{finished} of {planned} runs finished, {running} running, {failed} failed "
            "(if the sweep is running, this page follows it)",
        )
    else:
        right.markdown(f":green-badge[:material/check: all {planned} runs finished]")
    if sweep.command:
        st.code(sweep.command, language="bash")
    if sweep.failed:
        with st.expander(f"{failed} failed runs (a rerun of the command retries them)"):
            st.dataframe(
                {"run": list(sweep.failed), "error": list(sweep.failed.values())},
                hide_index=True,
                width="stretch",
            )
    if sweep.results.empty:
        st.info("No run has finished yet.")
        return
    table = sweep.table()
    st.subheader("Test accuracy (%)")
    st.dataframe(accuracy_display(table), width="stretch")
    kinds = noise_types(table)
    imbalance = imbalance_figure(table)
    figures = [noise_figure(table, noise=kind) for kind in kinds]
    figures += [imbalance] if imbalance is not None else []
    for start in range(0, len(figures), 2):
        columns = st.columns(2)
        for column, fig in zip(columns, figures[start : start + 2]):
            column.plotly_chart(fig, width="stretch")
    pairs = comparison_pairs(list(dict.fromkeys(sweep.results["method"])))
    for number, (method, baseline, question) in enumerate(pairs):
        paired = sweep.paired(method, baseline)
        label = f"{method_label(method)} minus {method_label(baseline)}"
        # The first two are open: GDW against MW-Net, and what class-level granularity adds.
        with st.expander(f"{label}, paired by seed", expanded=number < 2):
            st.caption(f"What it measures: {question}.")
            st.plotly_chart(
                difference_figure(paired, method=method, baseline=baseline),
                width="stretch",
            )
            st.dataframe(paired_display(paired), hide_index=True, width="stretch")
    st.caption(
        "'within seed noise': the 95% interval of the mean paired difference includes 0. With "
        "many settings compared at once, about one in twenty intervals misses 0 by chance alone."
    )
    with st.expander("Every run (results.csv)"):
        st.dataframe(sweep.results, hide_index=True, width="stretch")
