"""The sweeps wing: every method on a grid of corruption settings and seeds.

The settings and presets, the running of a sweep (here, or on Ray) into its folder, and the
statistics of its results.
"""
