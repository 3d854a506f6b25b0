"""SmartLens Studio — for curators and staff (``python -m smartlens studio``).

This file is both the studio's server and its entry script. ``streamlit run apps/studio/app.py``
(the CLI runs the same) finds the ``st.App`` at the bottom and imports this file to build the
server, with :mod:`smartlens.server_guard` in front; each visitor's session then runs this file
as ``__main__``: the access gate first, then one page per task, each computing only when it is
open. Long work (training views, indexes, training) runs as separate processes (see
:mod:`smartlens.jobs`), so pages stay quick and a restart loses nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import streamlit as st

from smartlens.access import (
    HOW_TO_SET,
    LOGIN_COOKIE,
    LOGIN_HOURS,
    LoginThrottle,
    check_password,
    is_local,
    issue_login,
    login_key,
    login_valid,
)
from smartlens.server_guard import middleware

HERE = Path(__file__).parent


def configured_password() -> str:
    """Streamlit secrets' ``studio_password`` first, else the setting (SMARTLENS_STUDIO_PASSWORD)."""
    from shared import settings

    try:
        secret = st.secrets.get("studio_password")
    except Exception:  # no secrets file: the setting decides
        secret = None
    return str(secret) if secret else settings().studio_password


def peer_address() -> str | None:
    """This visitor's address as the server sees it: the TCP peer (or the client a proxy on this
    machine forwarded); None when the server does not know it (not local, then). "localhost" for
    a session of Streamlit's AppTest, which runs the page in-process, with no network at all."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.state.common import TESTING_KEY

    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return None
    if TESTING_KEY in ctx.session_state:  # set by AppTest only; a server's sessions never have it
        return "localhost"
    client = runtime.get_instance().get_client(ctx.session_id)
    address = getattr(getattr(client, "client_context", None), "remote_ip", None)
    return address if isinstance(address, str) else None


@st.cache_resource
def login_throttle() -> LoginThrottle:
    """One throttle for every session of this studio process."""
    return LoginThrottle()


def set_login_cookie(token: str, max_age_s: int) -> None:
    """Keep (or, with ``max_age_s`` 0, end) the login in this browser: a cookie sent back with the
    next page load. The token holds no secret, only a signed expiry time."""
    st.html(
        "<script>document.cookie = "
        f"'{LOGIN_COOKIE}={token}; Max-Age={max_age_s}; Path=/; SameSite=Strict'"
        " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
    )


def gate() -> None:
    """Stop the page unless this visitor is staff, or is on this machine when no password is set."""
    from shared import settings

    ss = st.session_state
    password = configured_password()
    peer = peer_address()
    if not password:
        if not is_local(peer):
            # however the studio was started: this visitor reaches it from another machine
            st.error(
                f"This studio has no password, so it serves this computer only. To open it: {HOW_TO_SET}."
            )
            st.stop()
        return
    if ss.get("staff"):
        return
    key = login_key(settings().data)
    if ss.get("logged_out"):
        set_login_cookie("", 0)  # the cookie this session came with is ended, not honoured
    elif login_valid(st.context.cookies.get(LOGIN_COOKIE), key, password):
        ss.staff = True  # logged in earlier today in this browser
        return
    login_form(password, key, peer)
    st.stop()


def login_controls() -> None:
    """In the sidebar: keep a login made in this session in this browser, and a way to log out."""
    ss = st.session_state
    if not ss.get("staff"):
        return
    if token := ss.get("login_token"):
        # on every run, not once: a script the next run replaces at once may never execute; the
        # token's own signed expiry, not the cookie's, ends the login
        set_login_cookie(token, int(LOGIN_HOURS * 3600))
    if st.button("Log out", icon=":material/logout:"):
        ss.staff, ss.logged_out, ss.login_token = False, True, None
        st.rerun()


def login_form(password: str, key: bytes, peer: str | None) -> None:
    """The password form; wrong tries are slowed down per visitor address and per session."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ss = st.session_state
    st.title("SmartLens Studio")
    with st.form("login"):
        given = st.text_input("Staff password", type="password")
        submitted = st.form_submit_button("Log in", type="primary")
    if not submitted:
        return
    ctx = get_script_run_ctx()
    keys = [f"address:{peer or 'unknown'}", f"session:{ctx.session_id if ctx else 'none'}"]
    throttle = login_throttle()
    wait = throttle.wait_s(keys)
    if wait > 0:
        st.error(f"Too many wrong passwords: try again in {math.ceil(wait)} s.")
    elif check_password(given, password):
        throttle.succeeded(keys)
        ss.staff, ss.logged_out, ss.login_token = True, False, issue_login(key, password)
        st.rerun()
    else:
        wait = throttle.failed(keys)
        st.error(
            "Wrong password." + (f" Too many tries: the next one in {math.ceil(wait)} s." if wait else "")
        )


def studio() -> None:
    """The studio's pages, behind the gate."""
    from smartlens.allocator import keep_freed_memory
    from smartlens.assets import STUDIO_ICON
    from smartlens.blas_threads import single_threaded_blas

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides real messages
    keep_freed_memory()
    single_threaded_blas()
    st.set_page_config(page_title="SmartLens Studio", page_icon=str(STUDIO_ICON), layout="wide")
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
        login_controls()
    from shared import studio_menus

    studio_menus()  # the guide and the editing language, the same on every page
    st.navigation(pages).run()


if __name__ == "__main__":
    studio()
else:  # imported by `streamlit run` (through its st.App discovery) to build the server
    app = st.App(__file__, middleware=middleware())
