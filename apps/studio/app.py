"""SmartLens Studio — for curators and staff (``python -m smartlens studio``).

The entry script: the staff password, then one page per task; each page computes only when it
is open. Long work (training views, indexes, training) runs as separate processes (see
:mod:`smartlens.jobs`), so pages stay quick and a restart loses nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import streamlit as st
from shared import settings, studio_menus

from smartlens.access import HOW_TO_SET, check_password, is_local
from smartlens.allocator import keep_freed_memory
from smartlens.blas_threads import single_threaded_blas

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides real messages
keep_freed_memory()
single_threaded_blas()
st.set_page_config(page_title="SmartLens Studio", page_icon=":material/palette:", layout="wide")
HERE = Path(__file__).parent


def configured_password() -> str:
    """Streamlit secrets' ``studio_password`` first, else the setting (SMARTLENS_STUDIO_PASSWORD)."""
    try:
        secret = st.secrets.get("studio_password")
    except Exception:  # no secrets file: the setting decides
        secret = None
    return str(secret) if secret else settings().studio_password


def gate() -> None:
    """Stop the page unless this visitor is staff (or nobody but this machine can reach the studio)."""
    ss = st.session_state
    password = configured_password()
    if not password:
        address = str(st.get_option("server.address") or "")
        if address and not is_local(address):
            st.error(f"This studio listens on {address} with no password. {HOW_TO_SET}.")
            st.stop()
        return
    if ss.get("staff"):
        return
    st.title("SmartLens Studio")
    with st.form("login"):
        given = st.text_input("Staff password", type="password")
        if st.form_submit_button("Log in", type="primary"):
            if check_password(given, password):
                ss.staff = True
                st.rerun()
            st.error("Wrong password.")
    st.stop()


gate()
if "start_guide" not in st.session_state:
    p = argparse.ArgumentParser()
    p.add_argument("--guide", default="demo")
    st.session_state.start_guide = p.parse_known_args(sys.argv[1:])[0].guide

pages = [
    st.Page("guide.py", title="Guide and artworks", icon=":material/collections:", default=True),
    st.Page("annotate.py", title="Annotate details", icon=":material/crop_free:"),
    st.Page("views.py", title="Training views", icon=":material/burst_mode:"),
    st.Page("train.py", title="Train and publish", icon=":material/model_training:"),
    st.Page("try_models.py", title="Try and compare", icon=":material/science:"),
]
if (HERE / "visitors.py").is_file():
    pages.append(st.Page("visitors.py", title="Visitors", icon=":material/monitoring:"))
pages += [
    st.Page("share.py", title="Share the lens", icon=":material/qr_code_2:"),
    st.Page("settings_page.py", title="Settings", icon=":material/settings:"),
]
with st.sidebar:
    st.title("SmartLens Studio")
studio_menus()  # the guide and the editing language, the same on every page
st.navigation(pages).run()
