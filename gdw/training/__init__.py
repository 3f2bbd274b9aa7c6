"""The training wing: the weighting math, the methods' steps, the models, and the trainer.

From the bottom up: the pure tensor functions (:mod:`~gdw.training.weighting`), the
meta-gradient, the steps of the methods and their entries in the method registry, the
classifiers and the weighting net; then a session built from a configuration, the loop over
its batches, checkpoints, and :mod:`~gdw.training.trainer`, which writes a run folder.
"""
