"""The run being looked at: its progress (with Stop and Resume), the epoch picker and its tabs,
re-read while the run is live. :mod:`~app.run_view.view` draws it; the tabs are listed, with
their titles and what draws each, in one table (:mod:`~app.run_view.tab_table`), and each tab's
body lives in :mod:`app.run_view.tabs`.

Modules here import Streamlit, the library's public names, the server wing (the runs folder,
its job manager, a run's images), the pure wings (:mod:`app.figures`, :mod:`app.analysis`) and
each other; never the pages, which show the view, nor the sidebar.
"""
