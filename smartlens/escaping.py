"""Stored text shown safely: the apps pass every curator-written text through here, so no markup,
link, directive or remote image in a guide reaches a visitor's browser (:func:`plain`,
:func:`html_text`); the command line prints stored text through :func:`terminal`, so none of it
acts on the terminal."""

from __future__ import annotations

import re

#: Characters Markdown, HTML or Streamlit's directives act on, escaped in guide texts.
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:=\"'])")
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")
_HTML_SPECIAL = frozenset("&<>\"'\\`*_{}[]()#+-!|~$:=@.")


def plain(text: str) -> str:
    """A guide text made safe for Markdown (``st.markdown``, ``st.write``, captions, labels).

    Guide texts are plain text written by curators (or imported): every Markdown, HTML and
    Streamlit-directive character is escaped, so ``<meta ...>``, ``![x](http://...)`` or
    ``[click](...)`` show as typed and the visitor's browser loads and follows nothing.
    """
    # GFM also turns bare addresses (http://..., www..., a@b.c) into links after escapes are
    # resolved: an invisible word joiner keeps them plain text
    text = _AUTOLINK.sub(lambda m: m.group()[:-1] + "\u2060" + m.group()[-1], text)
    return _MARKUP.sub(r"\\\1", text)


def html_text(text: str) -> str:
    """A guide text for an HTML fragment: every character HTML, Markdown or Streamlit would act
    on written as a character reference, on one line (nothing in it is parsed)."""
    return "".join(f"&#{ord(c)};" if c in _HTML_SPECIAL else c for c in " ".join(text.split()))


#: Characters a terminal acts on instead of showing: C0 and C1 controls (ESC starts colour,
#: cursor and title sequences), DEL, and the bidirectional overrides that reorder what is shown.
_TERMINAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal(text: object) -> str:
    """Stored text (a job's status, a guide's names) made safe to print on a terminal: every
    control character is shown as its escape (``\\x1b``, ``\\u202e``), newlines and tabs too, so one
    value stays on one line and cannot move the cursor, recolour or retitle the terminal."""
    return _TERMINAL.sub(_escape, str(text)).replace("\n", "\\n").replace("\t", "\\t")


def terminal_lines(text: str) -> str:
    """Like :func:`terminal`, but keeps newlines and tabs: for whole outputs (tables, reports)
    whose lines are the command's own."""
    return _TERMINAL.sub(_escape, text)


class TerminalSafe:
    """A text stream (``sys.stdout``) that writes everything through :func:`terminal_lines`, so
    no stored text a command prints (titles in a table, an error recorded in a file) acts on the
    terminal, whichever command prints it."""

    def __init__(self, stream: object) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(terminal_lines(text))  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
