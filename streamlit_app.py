"""Entry point of ``streamlit run streamlit_app.py``: page setup and navigation, nothing more."""

import streamlit as st

from app import preview

st.set_page_config(page_title="GDW: class-level data weighting", layout="wide")
pages = [st.Page(preview.render, title="Data preview", url_path="data", default=True)]
st.navigation(pages).run()
