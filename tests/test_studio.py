"""The studio renders every tab on a real guide, and its edits are validated and saved."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from smartlens.errors import GuideError, ImageError
from smartlens.guide import edit as guide_edit
from smartlens.guide import load_guide, save_guide
from smartlens.imaging import encode_jpeg

from conftest import ROOT
from conftest import SESSION_SETTINGS as SETTINGS


@pytest.fixture
def own_demo(tmp_path, demo_guide):
    files = {a.image: demo_guide.path(a.image) for a in demo_guide.guide.artworks}
    return save_guide(demo_guide.guide, tmp_path / "g", files=files)


def test_studio_renders_all_tabs(demo_guide):
    at = AppTest.from_file(str(ROOT / "apps" / "studio.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert len(at.tabs) == 7
    assert any("harbour-at-dawn" in e.label for e in at.expander)


def test_edits_are_validated_and_atomic(own_demo):
    ref = guide_edit.set_texts(own_demo, "the-blue-house", "it", "La casa azzurra", "", "", "Una casa.")
    assert load_guide(ref.root, SETTINGS).guide.artwork("the-blue-house").title["it"] == "La casa azzurra"
    assert (
        "en" in load_guide(ref.root, SETTINGS).guide.artwork("the-blue-house").author
    )  # other languages kept
    before = (ref.root / "guide.json").read_bytes()
    with pytest.raises(GuideError, match="goes outside the image"):
        guide_edit.set_details(ref, "the-blue-house", [("tree", (700, 100, 500, 100), "", "")], "en")
    assert (ref.root / "guide.json").read_bytes() == before
    ref = guide_edit.set_details(
        ref,
        "the-blue-house",
        [("tree", (500, 120, 280, 330), "", ""), ("door", (330, 330, 60, 90), "The door", "Open.")],
        "en",
    )
    art = load_guide(ref.root, SETTINGS).guide.artwork("the-blue-house")
    assert [d.id for d in art.details] == ["tree", "door"] and art.detail("tree").name[
        "it"
    ] == "Il vecchio albero"


def test_upload_rejects_bad_files_and_adds_good_ones(own_demo):
    with pytest.raises(ImageError):
        guide_edit.add_artwork(own_demo, b"<html>not a picture</html>", "evil.jpg", "Evil", "en")
    img = np.random.default_rng(0).integers(0, 255, (300, 200, 3), dtype=np.uint8)
    ref = guide_edit.add_artwork(own_demo, encode_jpeg(img), "../../etc/My Photo.JPG", "Nuova opera!", "it")
    art = ref.guide.artworks[-1]
    assert (
        art.id == "nuova-opera" and art.image == "images/nuova-opera.jpg" and (ref.root / art.image).is_file()
    )
    assert load_guide(ref.root, SETTINGS).guide.artwork("nuova-opera").title == {"it": "Nuova opera!"}
    assert "nuova-opera / title: en" in guide_edit.missing_translations(ref.guide)
