"""The weighting wing: what one training step of each method computes (docs/algorithm.md).

Read top to bottom: the formulas as pure tensor functions (:mod:`~gdw.weighting.formulas`),
the exact meta-gradient of the class-level weights (:mod:`~gdw.weighting.meta_gradient`), the
weighting net (:mod:`~gdw.weighting.weight_net`), the steps of ERM, MW-Net, GDW and the
``mwnet-step`` ablation (:mod:`~gdw.weighting.methods`) and their entries in the method registry
(:mod:`~gdw.weighting.method_table`). Beside them, the cheaper exact forward-mode rule of the
models' BatchNorm layer (:mod:`~gdw.weighting.forward_mode`). Nothing here knows of runs,
data files or the trainer.
"""
