"""The Streamlit front end: pages, widgets and plotly figures; no training math.

It talks to the library only through the public names of :mod:`gdw`. Its wings, from the top;
each imports only wings listed below it:

- :mod:`app.pages`: the navigation and each page's body, a ``render`` function per page
  (Train & explore, Runs, Experiments, Data).
- :mod:`app.run_view`: the run being looked at: its progress, the epoch picker and the table of
  its tabs; :mod:`app.run_view.tabs` holds each tab's body (accuracy, the inspector, weight
  distributions, heatmap, imbalance, label-noise finding with its gallery and review mode,
  configuration) and the run's images.
- :mod:`app.sidebar`: the widgets of a new run and of its data.
- :mod:`app.server`: what the server process keeps for every session: the job manager, the runs
  folder and its cached reads, a run's training images, the process's tweaks.
- :mod:`app.figures`: every plotly figure and the plot style; no Streamlit.
- :mod:`app.analysis`: numbers and words about runs; no Streamlit, no plotly.
"""
