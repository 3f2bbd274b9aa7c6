"""Entry point of ``streamlit run streamlit_app.py [-- --runs-dir DIR]``: page setup and
navigation and the process's tweaks, nothing more (the navigation lives in app/pages/navigation.py,
which imports each page's body when it is shown; the tweaks in app/server/process_tweaks.py)."""

from pathlib import Path

import streamlit as st

from app.pages.navigation import drawn_light, pages
from app.server.process_tweaks import configure_process, freeze_startup_heap

ICON = Path(__file__).resolve().parent / "assets" / "icon.svg"
st.set_page_config(page_title="GDW: class-level data weighting", layout="wide")
configure_process()
page = st.navigation(pages())
light = drawn_light(page)
if not light:  # reading the icon imports NumPy and Pillow: not before a light page
    st.set_page_config(page_icon=str(ICON))
page.run()
if not light:
    freeze_startup_heap()  # after the page: its imports do not delay the first page
