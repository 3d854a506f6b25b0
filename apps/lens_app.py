"""The lens' web server: ``apps/lens.py`` served behind SmartLens' guard.

``python -m smartlens lens`` starts this (or ``streamlit run apps/lens_app.py -- --guide NAME``):
Streamlit finds the ``st.App`` below and serves the lens page with the middleware of
:mod:`smartlens.server_guard` in front (no internal endpoints for visitors, quiet closed pages).
"""

import streamlit as st

from smartlens.server_guard import middleware

app = st.App("lens.py", middleware=middleware())
