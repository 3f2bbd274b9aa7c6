"""The label-noise finding tab: how well the weights find the injected noise, epoch by epoch, and
the gallery of the most distrusted labels (:mod:`~app.run_view.tabs.label_gallery`)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from app.analysis.weights import has_noise, noise_rate_of, precision_at_k, weights_below_chance
from app.figures.noise import noise_auroc_figure, precision_figure
from app.run_view.tabs.charts import chart
from app.run_view.tabs.images import example_image, images_button, may_load_images
from app.run_view.tabs.label_gallery import gallery
from app.server.dataset_images import dataset_images
from gdw import LEAN_CLEAR, Run

__all__ = ["BELOW_CHANCE_EPOCHS", "draw"]

BELOW_CHANCE_EPOCHS = 3  # epochs of noise AUROC < 0.5 before the tab says so


def draw(run: Run, epoch: int, *, open_in_inspector: Callable[[int], None]) -> None:
    """noise AUROC over epochs, precision of the k most distrusted labels, and the gallery, whose
    Inspect buttons call ``open_in_inspector(index)``."""
    noisy_run = has_noise(run)
    metrics = run.metrics.iloc[epoch - 1] if len(run.metrics) >= epoch else None
    auroc = None if metrics is None else metrics.get("noise_auroc")
    n_noisy = int(run.instances["is_noisy"].sum())
    cols = st.columns(3)
    cols[0].metric(
        "Noise AUROC",
        f"{auroc:.3f}" if noisy_run and pd.notna(auroc) else "n/a",
        help="probability that a mislabelled example gets a lower given-class "
        "weight than a correct one; n/a without injected noise",
    )
    cols[1].metric(
        "Labels changed",
        f"{n_noisy} ({100 * noise_rate_of(run):.1f} %)" if noisy_run else "n/a",
        help="among the recorded examples",
    )
    ks = sorted({10, 50, 100, 500, 1000, 5000, n_noisy} - {0})
    table = precision_at_k(run, epoch, ks)
    at_noise = table[table["k"] == n_noisy]["precision"] if noisy_run else []
    cols[2].metric(
        f"Precision at k = {n_noisy}" if noisy_run else "Precision",
        f"{100 * float(at_noise.iloc[0]):.1f} %" if len(at_noise) else "n/a",
        help="of the k lowest given-class weights, the share that are truly "
        "mislabelled, with k = the number of changed labels",
    )
    has_auroc = noisy_run and "noise_auroc" in run.metrics
    aurocs = run.metrics["noise_auroc"].iloc[:epoch] if has_auroc else []
    if weights_below_chance(aurocs, epochs=BELOW_CHANCE_EPOCHS):
        lean = run.lean_at(epoch)
        why = (
            f"Its weighting net is up-weighting hard examples (lean {lean:+.2f}: the higher "
            "an example's loss, the higher its weight), and mislabelled examples are the "
            "hardest of all, so here a low weight means an easy example, not a distrusted "
            "label. The paper's weighting net often learns this while the classifier is "
            "still learning or when most labels are right; the default one (monotone) "
            "cannot."
            if lean is not None and lean >= LEAN_CLEAR
            else "Typical causes: too few training steps so far, or a model too weak for the data."
        )
        st.warning(
            f"The noise AUROC has been below 0.5 for the last {BELOW_CHANCE_EPOCHS} "
            "epochs: the weights are not (yet) separating the noisy examples from the clean ones; "
            f"if anything, they trust the mislabelled examples more. {why}",
            icon=":material/warning:",
        )
    if noisy_run:
        left, right = st.columns(2)
        with left:
            chart(
                "auroc_chart",
                (run.run_id, run.epochs_done),
                lambda: noise_auroc_figure(run),
            )
        with right:
            chart(
                "precision_chart",
                (run.run_id, epoch),
                lambda: precision_figure(table, epoch=epoch),
            )
    else:
        st.info(
            "This run has no injected label noise, so nothing is known to be wrong and the "
            "scores are n/a. The gallery still ranks the examples whose given label the "
            "weights distrust most — the first place to look for labelling mistakes.",
            icon=":material/info:",
        )
    _gallery(run, epoch, noisy_run=noisy_run, open_in_inspector=open_in_inspector)


def _gallery(
    run: Run, epoch: int, *, noisy_run: bool, open_in_inspector: Callable[[int], None]
) -> None:
    if not may_load_images(run) and dataset_images(run, load=False)[0] is None:
        images_button(run)
    gallery(
        run,
        epoch,
        noisy_run=noisy_run,
        show_image=lambda r, index, size: example_image(r, index, size=size),
        on_inspect=open_in_inspector,
    )
