"""Who gets the studio: local visitors only without a password (their own address decides), wrong
passwords slowed per address and per session, a login kept for a working day in a signed cookie;
and what the servers answer besides the apps (no internal endpoints, closed pages quiet)."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys

import pytest

from smartlens.access import (
    LOGIN_HOURS,
    LoginThrottle,
    check_password,
    is_local,
    issue_login,
    login_key,
    login_valid,
)
from smartlens.errors import UserError
from smartlens.server_guard import HIDDEN, ClosedPageFilter, quiet_closed_pages

from conftest import ROOT


@pytest.mark.parametrize(
    "address, local",
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # an IPv4 visitor of a dual-stack server
        ("localhost", True),
        ("192.0.2.2", False),
        ("10.0.0.7", False),
        ("::ffff:192.168.1.20", False),
        ("fd00::2", False),
        ("0.0.0.0", False),
        ("", False),  # unknown is not local
        (None, False),
        ("not an address", False),
    ],
)
def test_is_local(address, local):
    assert is_local(address) is local


def test_check_password():
    assert check_password("staff only 7", "staff only 7")
    assert not check_password("staff only", "staff only 7")
    assert not check_password("", "")  # no password configured admits nobody
    assert not check_password("x" * 10_000, "staff only 7")


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_throttle_doubles_the_wait_after_the_free_tries_and_caps_it():
    clock = Clock()
    th = LoginThrottle(free_tries=3, base_delay_s=2, max_delay_s=30, clock=clock)
    keys = ["address:192.0.2.9", "session:a"]
    assert [th.failed(keys) for _ in range(3)] == [0, 0, 0]
    assert th.wait_s(keys) == 0
    waits = []
    for _ in range(6):
        clock.t += th.wait_s(keys)  # a patient guesser: waits exactly as long as told
        waits.append(th.failed(keys))
    assert waits == [2, 4, 8, 16, 30, 30]
    assert th.wait_s(keys) == 30


def test_twenty_wrong_passwords_take_most_of_an_hour():
    """Against 0.14 s each before: the studio's own throttle, a guesser who waits as told."""
    clock = Clock()
    th = LoginThrottle(clock=clock)  # the studio's settings
    start = clock.t
    for _ in range(20):
        clock.t += th.wait_s(["address:192.0.2.9"])
        th.failed(["address:192.0.2.9"])
    assert clock.t - start == 2 + 4 + 8 + 16 + 32 + 64 + 128 + 256 + 300 * 8  # 2,910 s


def test_throttle_counts_each_address_and_each_session():
    clock = Clock()
    th = LoginThrottle(free_tries=3, base_delay_s=2, clock=clock)
    for _ in range(4):
        th.failed(["address:192.0.2.9", "session:a"])
    assert th.wait_s(["address:192.0.2.9", "session:new"]) == 2  # a new session from the same address
    assert th.wait_s(["address:192.0.2.10", "session:a"]) == 2  # the same session from elsewhere
    assert th.wait_s(["address:192.0.2.10", "session:b"]) == 0  # someone else
    th.succeeded(["address:192.0.2.9", "session:a"])
    assert th.wait_s(["address:192.0.2.9", "session:a"]) == 0


def test_login_token_is_signed_and_expires(tmp_path):
    key = login_key(tmp_path)
    assert stat.S_IMODE((tmp_path / "studio-login.key").stat().st_mode) == 0o600
    assert login_key(tmp_path) == key  # made once, then read
    now = 1_800_000_000.0
    token = issue_login(key, "pw", now=now)
    assert "pw" not in token and login_valid(token, key, "pw", now=now + 60)
    assert login_valid(token, key, "pw", now=now + LOGIN_HOURS * 3600 - 1)
    assert not login_valid(token, key, "pw", now=now + LOGIN_HOURS * 3600 + 1)  # a working day, no more
    assert not login_valid(token, key, "new password", now=now + 60)  # a changed password ends it
    assert not login_valid(token, login_key(tmp_path / "other"), "pw", now=now + 60)
    expires, nonce, sig = token.split(".")[1:]
    later = f"1.{int(expires) + 3600}.{nonce}.{sig}"
    assert not login_valid(later, key, "pw", now=now + 60)  # the expiry cannot be moved
    assert not login_valid(token[:-1] + ("0" if token[-1] != "0" else "1"), key, "pw", now=now + 60)
    for junk in ("", "1.2.3", "x" * 500, "1.99999999999.00.zz", None):
        assert not login_valid(junk, key, "pw", now=now)


def test_a_damaged_login_key_is_reported(tmp_path):
    (tmp_path / "studio-login.key").write_text("not hex")
    with pytest.raises(UserError, match="damaged"):
        login_key(tmp_path)


def test_two_studios_making_the_key_at_once_share_one(tmp_path):
    code = "import sys; from smartlens.access import login_key; print(login_key(sys.argv[1]).hex())"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(keys) == 1 and keys == {login_key(tmp_path).hex()}
    assert [p.name for p in tmp_path.iterdir()] == ["studio-login.key"]  # no temporary file left


@pytest.mark.parametrize(
    "path, hidden",
    [
        ("/_stcore/metrics", True),
        ("/_stcore/metrics/", True),
        ("/lens/_stcore/metrics", True),  # behind a base URL path
        ("/_stcore/agent/mcp", True),
        ("/_stcore/agent/openapi.json", True),
        ("/_stcore/script-health-check", True),
        ("/_stcore/health", False),
        ("/_stcore/stream", False),
        ("/_stcore/metricsx", False),
        ("/", False),
    ],
)
def test_hidden_endpoints(path, hidden):
    assert bool(HIDDEN.search(path)) is hidden


def test_closed_page_errors_are_dropped_and_others_kept(caplog):
    from starlette.websockets import WebSocketDisconnected

    quiet_closed_pages()
    quiet_closed_pages()  # once is enough, twice changes nothing
    for name in ("streamlit.web.server.starlette.starlette_websocket", "uvicorn.error"):
        logger = logging.getLogger(name)
        assert sum(isinstance(f, ClosedPageFilter) for f in logger.filters) == 1
        before = logger.propagate
        logger.propagate = True  # Streamlit's loggers do not propagate; caplog listens at the root
        try:
            with caplog.at_level(logging.ERROR, logger=name):
                caplog.clear()
                try:
                    raise WebSocketDisconnected('Cannot call "send" once a close message has been sent.')
                except RuntimeError:
                    logger.exception("Exception in ASGI application")
                assert not caplog.records  # a visitor leaving
                try:
                    raise RuntimeError("something else")
                except RuntimeError:
                    logger.exception("Error sending websocket payload")
                assert {r.exc_info[1].args[0] for r in caplog.records if r.exc_info} == {"something else"}
        finally:
            logger.propagate = before


def test_the_apps_are_served_as_st_app_with_the_guard():
    """``streamlit run`` finds an st.App in both server files (so the middleware is in front)."""
    from pathlib import Path

    from streamlit.web.server.app_discovery import discover_asgi_app

    for file in ("apps/lens_app.py", "apps/studio/app.py"):
        found = discover_asgi_app(Path(ROOT / file))
        assert found.is_asgi_app and found.app_name == "app", file
    env = {**os.environ, "PYTHONPATH": str(ROOT / "apps" / "studio")}
    code = (
        "import app, sys; print(type(app.app).__name__, [m.cls.__name__ for m in app.app._user_middleware])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT / "apps", timeout=120
    )
    assert out.stdout.split() == ["App", "['HideInternalEndpoints']"], out.stderr
