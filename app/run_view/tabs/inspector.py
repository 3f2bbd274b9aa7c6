"""The example inspector: one example's image, labels and class-level weights, how they evolved,
the classroom explanation, and the same example in the runs compared. Which example it shows is
:mod:`~app.run_view.tabs.example_choice`'s choice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from app.analysis.classroom import explain_example
from app.analysis.run_tables import comparable_runs, run_label
from app.analysis.weights import example_weights_csv
from app.figures.example import (
    example_bars_figure,
    example_compare_figure,
    example_timeline_figure,
)
from app.run_view.tabs.charts import chart
from app.run_view.tabs.example_choice import (
    next_telling,
    opened_at_story,
    pick_example,
    row_of,
    shown_example,
)
from app.run_view.tabs.example_table import example_table
from app.run_view.tabs.images import example_image, images_button, may_load_images
from app.server.runs_folder import all_runs
from gdw import Run, lean_words, recorded_method_spec

__all__ = ["EXPLAINER", "draw"]

DIAGRAM = Path(__file__).resolve().parents[3] / "assets" / "class-level-weights.svg"
EXPLAINER = """
A classifier learns from each training example through one signal per class. For an image
labelled **dog** in a cat/dog/bird task, the loss pushes the *dog* score up (the "dog" signal)
and pushes the *cat* and *bird* scores down ("not cat", "not bird").

If the image is really a cat, two of these signals are wrong ("dog", "not cat") — but
**"not bird" is still right**. *Instance weighting* (MW-Net) can only scale the whole example,
keeping or losing all three signals together. **GDW** gives every signal its own
**class-level weight**, learned so that a step on the training batch lowers the loss on a small
clean *meta* set. A weight near 1 means "trust this signal as ERM would", near 0 "ignore it".
"""


def draw(run: Run, epoch: int) -> None:
    """Image, labels and class-level weights of one example; how they evolved; the explainer."""
    index, row = shown_example(run, epoch)
    instance = run.instances.iloc[row]
    classes, method = run.classes, run.method
    given, true = int(instance["given_label"]), int(instance["true_label"])
    weights = run.weights(epoch)[row]
    instance_weight = (
        float(run.instance_weights(epoch)[row]) if run.has_array("instance_weights") else None
    )
    story_run = (
        recorded_method_spec(run.method).weight_kind == "class" and instance_weight is not None
    )

    left, right = st.columns([1, 3])
    with left:
        image = example_image(run, index)
        if image is not None:
            st.image(image, caption=f"training example #{index}")
        elif not may_load_images(run):
            images_button(run)
        st.markdown(f"given label: **{classes[given]}**  \ntrue label: **{classes[true]}**")
        if given != true:
            st.markdown(":orange-badge[label changed by the injected noise]")
        st.number_input(
            "Example by index",
            min_value=0,
            value=index,
            step=1,
            key=f"pick_index_{index}",
            on_change=_pick_from_input,
            args=(f"pick_index_{index}",),
        )
        if story_run and run.instances["is_noisy"].any():
            st.button(
                "Next telling example",
                icon=":material/skip_next:",
                key="next_telling",
                on_click=next_telling,
                args=(run.run_id, epoch),
                help='mislabelled examples whose class-level step separated "not cat" '
                'from "not bird" most, relative to their instance weight',
            )
    with right:
        relative = instance_weight is not None and st.toggle(
            "Relative to the instance weight",
            key="bars_relative",
            help="each weight divided by the instance weight, the weighting net's weight the "
            "class-level step started from: 1 = what instance weighting would do",
        )
        chart(
            "example_bars",
            (run.run_id, index, epoch, relative),
            lambda: example_bars_figure(
                classes,
                given,
                weights,
                epoch=epoch,
                method=method,
                true=true,
                instance_weight=instance_weight,
                relative=relative,
            ),
        )
        opened = opened_at_story()
        if opened is not None:
            st.caption(
                f"Opened at epoch {opened} on the mislabelled example whose story is clearest: "
                'there its "not bird" weight stands furthest above its "not cat" weight.'
            )
        lean = run.lean_at(epoch)
        if epoch <= run.warmup_epochs:
            st.markdown(
                f"Epoch {epoch} is in the **warm-up**: plain training, every weight 1 as in ERM; "
                f"the weighting net takes over at epoch {run.warmup_epochs + 1}."
            )
        elif lean is not None:
            st.markdown(
                f"At epoch {epoch} the weighting net is **{lean_words(lean)}** (lean "
                f"{lean:+.2f}: the rank correlation of each example's instance weight with its "
                "loss)."
            )
        st.caption(
            ":red[■] the given label's signal (\"dog\")  ·  :blue[■] the other classes' "
            '"not …" signals ("not bird")'
            + (
                '  ·  :orange[■] "not" its true class ("not cat"): wrong for this '
                "mislabelled example"
                if given != true
                else ""
            )
            + ("  ·  dashed line: its instance weight" if instance_weight is not None else "")
        )
    st.info(
        explain_example(
            classes=classes,
            given=given,
            true=true,
            weights=weights,
            method=method,
            epoch=epoch,
            instance_weight=instance_weight,
        ),
        icon=":material/school:",
    )
    with st.expander("What is a class-level weight?"):
        left, right = st.columns([3, 2])
        left.markdown(EXPLAINER)
        right.image(
            str(DIAGRAM),
            caption="One image, three signals: what each kind of weighting does to them",
        )

    chart(
        "example_timeline",
        (run.run_id, index, epoch, run.epochs_done),
        lambda: example_timeline_figure(
            classes, given, run.weights_of([row])[:, 0, :], epoch=epoch, true=true
        ),
    )
    _compare_runs(run, index, epoch)
    st.download_button(
        ":material/download: This example's weights, every epoch (CSV)",
        lambda: example_weights_csv(run, row),
        file_name=f"{run.run_id}-example{index}.csv",
        mime="text/csv",
        key="example_download",
        on_click="ignore",
    )
    table = st.expander("Pick an example from a table", key="table_open", on_change="rerun")
    if table.open:  # built only when shown
        with table:
            example_table(run, epoch)


def _pick_from_input(key: str) -> None:
    pick_example(st.session_state[key])


def _compare_runs(run: Run, index: int, epoch: int) -> None:
    twins = comparable_runs(run, all_runs())
    if len(twins) < 2:
        st.caption(
            "Start *GDW + MW-Net + ERM* in the sidebar to see this example's weights "
            "under each method side by side."
        )
        return
    shown: dict[str, tuple[str, np.ndarray]] = {}
    for twin in twins[:4]:
        row = row_of(twin, index)
        if row is None or twin.epochs_done == 0:
            continue
        at = min(epoch, twin.epochs_done)
        shown[run_label(twin)] = (twin.method, twin.weights(at)[row])
    if len(shown) > 1:
        given = int(run.instances["given_label"].iloc[row_of(run, index)])
        signature = (index, epoch, tuple((t.run_id, t.epochs_done) for t in twins[:4]))
        chart(
            "example_compare",
            signature,
            lambda: example_compare_figure(run.classes, given, shown, epoch=epoch),
        )
