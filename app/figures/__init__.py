"""The dashboard's plotly figures, one module per thing drawn (a run's accuracy, its weight
distributions, heatmap, imbalance and noise finding, the story, one example, a dataset, a
sweep), all drawn in :mod:`~app.figures.plot_style`'s one look.

Pure functions without Streamlit, tested without a browser: modules here import plotly, NumPy,
pandas, the library's public names, :mod:`app.analysis` and each other, nothing else of the
app. Every chart has a title and labelled axes and names classes, never numbers. Figures stay
small whatever the run size: histograms are binned, heatmaps take a sample, and long curves are
thinned (:func:`app.figures.plot_style.thin`).
"""
