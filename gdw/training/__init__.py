"""The training wing: the trainer and its plumbing around the methods' steps.

A session built from a configuration (:mod:`~gdw.training.session`), the steps over its
batches, checkpoints and the point a run resumes from, the device, failures, the benchmark,
and :mod:`~gdw.training.trainer`, which writes a run folder. What a step computes is the
weighting wing's (:mod:`gdw.weighting`).
"""
