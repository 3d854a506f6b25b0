"""The README's layout section lists exactly the modules the package has."""

from __future__ import annotations

import re

from conftest import ROOT


def _listed() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- layout -->", 1)[1].split("<!-- /layout -->", 1)[0]
    stack: list[tuple[int, str]] = []
    files = set()
    for line in block.splitlines():
        m = re.match(r"^( *)([\w.]+/|[\w.]+\.py)\s", line + " ")
        if not m:
            continue
        depth, name = len(m.group(1)), m.group(2)
        stack = [(d, n) for d, n in stack if d < depth]
        if name.endswith("/"):
            stack.append((depth, name))
        else:
            files.add("".join(n for _, n in stack) + name)
    return files


def test_readme_layout_matches_the_tree():
    actual = {
        str(p.relative_to(ROOT))
        for folder in ("apps", "smartlens")
        for p in (ROOT / folder).rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py")
    }
    listed = _listed()
    assert listed == actual, {"missing from README": sorted(actual - listed), "gone": sorted(listed - actual)}
