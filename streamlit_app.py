"""Entry point of ``streamlit run streamlit_app.py [-- --runs-dir DIR]``: page setup and
navigation, nothing more (the pages live in app/pages.py)."""

import streamlit as st

from app.pages import pages

st.set_page_config(page_title="GDW: class-level data weighting", page_icon="⚖️", layout="wide")
st.navigation(pages()).run()
