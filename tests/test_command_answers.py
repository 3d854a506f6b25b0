"""Commands answer bad input with one ``error:`` line on stderr and exit code 2, never a traceback,
and leave nothing behind; what they print from stored files cannot act on the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartlens.errors import UserError
from smartlens.escaping import terminal
from smartlens.qr import MAX_URL_CHARS, check_url, qr_bytes, write_qr

from conftest import ROOT, TEST_ENV


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smartlens", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, **TEST_ENV},
    )


def refused(out: subprocess.CompletedProcess, words: str) -> None:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert out.stderr.startswith("error: ") and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert words in out.stderr and not out.stdout, out.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["https://lens.local/" + "a" * 5000], "5,019 characters long"),
        (["https://lens.local/", "--out", "/nonexistent/dir/q.png"], "/nonexistent/dir is not a folder"),
        (["https://lens.local/", "--scale", "0"], "the scale must be 1 to 40"),
        (["https://lens.local/", "--scale", "100000"], "the scale must be 1 to 40"),
        (["lens.local"], "is not a web address"),
        (["javascript:alert(1)"], "is not a web address"),
        (["https://lens.local/a b"], "spaces or control characters"),
        (["https://lens.local/\x1b[2J"], "spaces or control characters"),
        ([""], "the address is empty"),
    ],
)
def test_qr_refuses_bad_input_with_one_line(tmp_path, args, words):
    out = cli("qr", *args, cwd=tmp_path)
    refused(out, words)
    assert list(tmp_path.iterdir()) == []  # no file, no folder
    assert not Path("/nonexistent").exists()


def test_qr_writes_into_an_existing_folder_only(tmp_path):
    out = cli("qr", "https://192.168.1.20:8501/?guide=demo", "--out", str(tmp_path / "q.svg"))
    assert out.returncode == 0 and "<svg" in (tmp_path / "q.svg").read_text(), out.stderr
    (tmp_path / "d.png").mkdir()
    with pytest.raises(UserError, match="is a folder"):
        write_qr("https://x/", tmp_path / "d.png")
    longest = "https://l/" + "a" * (MAX_URL_CHARS - 10)
    assert check_url(longest) and qr_bytes(longest, "svg", 1)  # the longest accepted still encodes


def test_terminal_escapes_controls_and_keeps_text():
    assert terminal("Veduta di Venezia — 山水 ✓") == "Veduta di Venezia — 山水 ✓"
    assert (
        terminal("a\x1b[31mb\x07\x00\x7f\x9b\u202e\u2066z")
        == "a\\x1b[31mb\\x07\\x00\\x7f\\x9b\\u202e\\u2066z"
    )
    assert terminal("two\nlines\tand\rreturn") == "two\\nlines\\tand\\x0dreturn"


def test_the_share_page_says_what_is_wrong_with_a_mistyped_address(demo_guide):
    from test_studio import studio

    at = studio("share.py", guide="demo")
    assert at.image and not at.error  # the default address makes a QR code
    at.text_input[0].input("lens.local:8501/?guide=demo").run()
    assert not at.exception, at.exception
    assert "is not a web address" in at.error[0].value and not at.image


def test_nothing_a_command_prints_acts_on_the_terminal(tmp_path):
    """Stored text reaches the terminal escaped whichever command prints it: here a guide's
    title in `stats`' table, and a name quoted in an error line."""
    import json

    from smartlens.escaping import TerminalSafe

    class Sink:
        def __init__(self) -> None:
            self.text = ""

        def write(self, text: str) -> int:
            self.text += text
            return len(text)

    sink = Sink()
    TerminalSafe(sink).write("title \x1b]0;owned\x07 \u202eevil\n\tnext\n")
    assert sink.text == "title \\x1b]0;owned\\x07 \\u202eevil\n\tnext\n"  # lines and tabs stay

    out = cli("guide", "check", "--guide", "no\x1b[2Jpe")
    assert out.returncode == 2 and "\x1b" not in out.stderr and "\\x1b[2J" in out.stderr, out.stderr
    # a writer's recorded error (a file anyone could have edited) in `events status`
    events = tmp_path / "events"
    (events / "writers").mkdir(parents=True)
    (events / "writers" / "w1.json").write_text(
        json.dumps({"writer": "w1", "written": 1, "dropped": 0, "failed": 1, "error": "disk \x1b[31mred"})
    )
    env = {**os.environ, **TEST_ENV, "SMARTLENS_DATA": str(tmp_path)}
    status = subprocess.run(
        [sys.executable, "-m", "smartlens", "events", "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert "\x1b" not in status.stdout and "disk \\x1b[31mred" in status.stdout, status.stdout
