"""The Streamlit front end: pages, widgets and plotly figures; no training math.

It talks to the library only through the public names of :mod:`gdw`.
"""
