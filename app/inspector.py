"""The example inspector: one example's image, labels and class-level weights, how they evolved,
the classroom explanation, and the same example in the runs compared.

The chosen example is a *dataset index* kept in ``st.session_state["example_index"]``: runs on
the same data share their examples, so switching from a GDW run to its MW-Net twin keeps the
same image in view.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app import analysis, classroom, figures_example, run_tables
from app.charting import TAB_TITLES, chart
from app.context import all_runs, get_run
from app.run_images import example_image, images_button, may_load_images
from gdw import Run, lean_words, recorded_method_spec, story_moment, telling_order

__all__ = ["EXPLAINER", "inspector", "open_at_story", "pick_example", "telling_rows"]

EXAMPLE_KEY = "example_index"
TELLING_KEY = "telling_position"
OPENED_KEY = "inspector_opened_at_story"
STORY_ROWS = 2_000  # mislabelled examples searched for the clearest story (a seeded sample)
DIAGRAM = Path(__file__).resolve().parents[1] / "assets" / "class-level-weights.svg"
TABLE_ROWS = 300
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


def _row_of(run: Run, index: int) -> int | None:
    hits = np.flatnonzero(run.instances["index"].to_numpy() == index)
    return int(hits[0]) if len(hits) else None


def telling_rows(run: Run, epoch: int) -> np.ndarray:
    """Recorded rows of mislabelled examples, the most telling at ``epoch`` first: those whose
    class-level step separated "not bird" from "not cat" most relative to their instance
    weight (:func:`gdw.telling_order`). Empty without label noise or recorded instance
    weights."""
    instances = run.instances
    if not run.has_array("instance_weights") or not instances["is_noisy"].any():
        return np.zeros(0, dtype=np.int64)
    return telling_order(
        run.weights(epoch),
        run.instance_weights(epoch),
        instances["given_label"].to_numpy(),
        instances["true_label"].to_numpy(),
    )


def open_at_story(run: Run) -> int | None:
    """On the first look at a finished run's inspector (no example picked yet), picks the
    mislabelled example and the epoch where its story is easiest to see
    (:func:`gdw.story_moment`) and returns that epoch for the epoch picker; ``None`` otherwise
    (an example is picked, the run is still training, or it has no such example)."""
    if EXAMPLE_KEY in st.session_state or run.state == "running" or run.epochs_done == 0:
        return None
    instances = run.instances
    noisy = np.flatnonzero(instances["is_noisy"].to_numpy().astype(bool))
    if not len(noisy):
        return None
    if len(noisy) > STORY_ROWS:
        noisy = np.sort(np.random.default_rng(0).choice(noisy, STORY_ROWS, replace=False))
    moment = story_moment(
        run.weights_of(noisy),
        instances["given_label"].to_numpy()[noisy],
        instances["true_label"].to_numpy()[noisy],
    )
    if moment is None:
        return None
    row, epoch = moment
    st.session_state[EXAMPLE_KEY] = int(instances["index"].iloc[noisy[row]])
    st.session_state[OPENED_KEY] = epoch
    return epoch


def _default_index(run: Run, epoch: int) -> int:
    instances = run.instances
    telling = telling_rows(run, epoch)
    if len(telling):
        return int(instances["index"].iloc[telling[0]])
    noisy = np.flatnonzero(instances["is_noisy"].to_numpy())
    return int(instances["index"].iloc[noisy[0] if len(noisy) else 0])


def _next_telling(run_id: str, epoch: int) -> None:
    run = get_run(run_id)
    if run is None:
        return
    telling = telling_rows(run, epoch)
    if not len(telling):
        return
    position = (st.session_state.get(TELLING_KEY, 0) + 1) % len(telling)
    st.session_state[TELLING_KEY] = position
    pick_example(int(run.instances["index"].iloc[telling[position]]))


def pick_example(index: int, *, to_inspector: bool = False) -> None:
    st.session_state[EXAMPLE_KEY] = int(index)
    if to_inspector:
        st.session_state["tab"] = TAB_TITLES["inspector"]


def inspector(run: Run, epoch: int) -> None:
    """Image, labels and class-level weights of one example; how they evolved; the explainer."""
    index = st.session_state.get(EXAMPLE_KEY)
    row = None if index is None else _row_of(run, index)
    if row is None:
        if index is not None:
            st.caption(f"Example #{index} is not recorded in this run; showing another.")
        index = _default_index(run, epoch)
        row = _row_of(run, index)
        st.session_state[EXAMPLE_KEY] = index
        st.session_state[TELLING_KEY] = 0
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
                on_click=_next_telling,
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
            lambda: figures_example.example_bars_figure(
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
        opened = st.session_state.pop(OPENED_KEY, None)
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
        classroom.explain_example(
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
        lambda: figures_example.example_timeline_figure(
            classes, given, run.weights_of([row])[:, 0, :], epoch=epoch, true=true
        ),
    )
    _compare_runs(run, index, epoch)
    st.download_button(
        ":material/download: This example's weights, every epoch (CSV)",
        lambda: analysis.example_weights_csv(run, row),
        file_name=f"{run.run_id}-example{index}.csv",
        mime="text/csv",
        key="example_download",
        on_click="ignore",
    )
    table = st.expander("Pick an example from a table", key="table_open", on_change="rerun")
    if table.open:  # built only when shown
        with table:
            _example_table(run, epoch)


def _pick_from_input(key: str) -> None:
    pick_example(st.session_state[key])


def _compare_runs(run: Run, index: int, epoch: int) -> None:
    twins = run_tables.comparable_runs(run, all_runs())
    if len(twins) < 2:
        st.caption(
            "Start *GDW + MW-Net + ERM* in the sidebar to see this example's weights "
            "under each method side by side."
        )
        return
    shown: dict[str, tuple[str, np.ndarray]] = {}
    for twin in twins[:4]:
        row = _row_of(twin, index)
        if row is None or twin.epochs_done == 0:
            continue
        at = min(epoch, twin.epochs_done)
        shown[run_tables.run_label(twin)] = (twin.method, twin.weights(at)[row])
    if len(shown) > 1:
        given = int(run.instances["given_label"].iloc[_row_of(run, index)])
        signature = (index, epoch, tuple((t.run_id, t.epochs_done) for t in twins[:4]))
        chart(
            "example_compare",
            signature,
            lambda: figures_example.example_compare_figure(run.classes, given, shown, epoch=epoch),
        )


def _example_table(run: Run, epoch: int) -> None:
    instances = run.instances
    classes = run.classes
    cols = st.columns(3)
    which = cols[0].segmented_control(
        "Examples", ["all", "noisy", "clean"], default="all", key="table_which", required=True
    )
    label = cols[1].selectbox("Given label", ["any", *classes], key="table_label")
    order = cols[2].selectbox(
        "Order", ["lowest given-class weight", "dataset index"], key="table_order"
    )
    given = instances["given_label"].to_numpy()
    weights = run.weights(epoch)
    score = analysis.given_weights(weights, given)
    keep = np.ones(len(instances), dtype=bool)
    noisy = instances["is_noisy"].to_numpy().astype(bool)
    if which == "noisy":
        keep &= noisy
    elif which == "clean":
        keep &= ~noisy
    if label != "any":
        keep &= given == classes.index(label)
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(score[rows], kind="stable")] if order.startswith("lowest") else rows
    rows = rows[:TABLE_ROWS]
    table = pd.DataFrame(
        {
            "index": instances["index"].to_numpy()[rows],
            "given": [classes[c] for c in given[rows]],
            "true": [classes[c] for c in instances["true_label"].to_numpy()[rows]],
            "noisy": noisy[rows],
            "given-class weight": score[rows],
            "mean 'not' weight": analysis.nontarget_mean(weights[rows], given[rows]),
        }
    )
    st.session_state["table_indices"] = table["index"].tolist()
    st.dataframe(
        table,
        hide_index=True,
        key="example_table",
        on_select=_pick_from_table,
        selection_mode="single-row",
        height=300,
    )
    st.caption(
        f"{keep.sum()} matching examples; the first {len(rows)} shown. Click a row to inspect it."
    )


def _pick_from_table() -> None:
    chosen = st.session_state["example_table"]["selection"]["rows"]
    if chosen:
        pick_example(st.session_state["table_indices"][chosen[0]])
