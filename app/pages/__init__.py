"""The dashboard's pages: the navigation (:mod:`~app.pages.navigation`) and one module per page
whose ``render`` function draws that page's body: ``train`` (Train & explore), ``runs``,
``experiments`` (sweeps) and ``data`` (the data preview).

The top of the app: modules here may import every other wing (the sidebar, the run view, the
server side, the figures and the analysis), and nothing imports them but the entry point
``streamlit_app.py``. The navigation imports a page's module only when the page is shown, so
that a cold server's first page draws its sidebar before the heavy imports.
"""
