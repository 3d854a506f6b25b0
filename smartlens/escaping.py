"""Guide texts shown as plain text: the apps pass every curator-written text through here, so
no markup, link, directive or remote image in a guide reaches a visitor's browser."""

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
