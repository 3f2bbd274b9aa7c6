"""The sidebar's widgets: those that describe a new run (its Start buttons, training settings and
device) and the data widgets the training and data pages share. Each reads its widgets and
returns a validated configuration, or explains in place what is wrong.

They are drawn on a cold server's first page before anything heavy is imported, so modules here
import only Streamlit, the library's public names (which need no torch to describe a run) and
each other: no figures, no NumPy, no server state.
"""
