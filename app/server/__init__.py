"""The server side: what lives as long as the server process and every session shares. The job
manager that trains runs in background threads, the runs folder with its cached reads, a run's
training images, and the process's tweaks.

Modules here may import Streamlit (for ``st.cache_resource``), the library's public names, each
other and the pure wings (:mod:`app.figures`, :mod:`app.analysis`); never the pages, the run
view or the sidebar, which sit on top of them.
"""
