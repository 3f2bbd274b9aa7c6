"""The body of each of a run's tabs: accuracy, the example inspector, weight distributions,
heatmap, imbalance, label-noise finding (its gallery and review mode) and configuration, with
what they share: the chart drawer and the run's training images.

A tab draws one run at one epoch, given to it; it never imports the view around it
(:mod:`app.run_view.view`, the table of tabs, the epoch picker), so that what happens between
tabs, such as the gallery's Inspect button opening the inspector, is wired in the table.
"""
