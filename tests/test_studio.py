"""The studio's pages, driven as a curator drives them (AppTest), and what they save."""

from __future__ import annotations

import dataclasses
import json
import sys
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from smartlens.errors import GuideError, ImageError
from smartlens.guide import Guide, load_guide, save_guide
from smartlens.guide import edit as guide_edit
from smartlens.imaging import encode_jpeg
from smartlens.jobs import cancel_job, list_jobs
from smartlens.publish import read_published

from conftest import ROOT
from conftest import SESSION_SETTINGS as SETTINGS

STUDIO = ROOT / "apps" / "studio"
sys.path.insert(0, str(STUDIO))  # what streamlit does for the entry script's pages


@pytest.fixture
def own_demo(tmp_path, demo_guide):
    files = {a.image: demo_guide.path(a.image) for a in demo_guide.guide.artworks}
    return save_guide(demo_guide.guide, tmp_path / "g", files=files)


@pytest.fixture
def studio_guide(demo_guide, request):
    """A copy of the demo guide under the studio's data folder, named for the test."""
    name = "st-" + request.node.name.replace("_", "-")[:40].lower()
    files = {a.image: demo_guide.path(a.image) for a in demo_guide.guide.artworks}
    return save_guide(
        dataclasses.replace(demo_guide.guide, name=name), SETTINGS.guides / name, files=files, replace=True
    )


def studio(page: str | None = None, guide: str | None = None) -> AppTest:
    at = AppTest.from_file(str(STUDIO / "app.py"), default_timeout=120)
    if guide:
        at.session_state["guide"] = guide
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_every_page_renders_for_the_selected_guide(studio_guide):
    name = studio_guide.guide.name
    at = studio(guide=name)
    assert any("harbour-at-dawn" in e.label for e in at.expander)
    for page, expect in (
        ("annotate.py", "Annotate details"),
        ("views.py", "Training views"),
        ("train.py", "Train and publish"),
        ("try_models.py", "Try and compare"),
        ("share.py", "Share the lens"),
        ("settings_page.py", "Settings"),
    ):
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, at.exception)
        assert at.header[0].value == expect
    at.switch_page("share.py")
    at.run()
    assert f"?guide={name}" in at.text_input[0].value  # the QR code is for the selected guide


def test_train_page_counts_the_negative_pictures_and_those_kept_for_checking(studio_guide):
    from smartlens.training.negatives import CHECK_DIR, negatives_dir

    folder = negatives_dir(studio_guide)
    picture = encode_jpeg(np.full((60, 80, 3), 90, np.uint8))
    for name in ("room.jpg", "other-work.jpg", f"{CHECK_DIR}/kept.jpg"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(picture)
    at = studio("train.py", guide=studio_guide.guide.name)
    shown = [c.value for c in at.caption if c.value.startswith("Negative pictures:")]
    assert shown and "2 in `negatives/`" in shown[0] and "1 in `negatives/check/`" in shown[0]


def test_create_guide_edit_texts_and_delete_with_confirmation(studio_guide):
    at = studio(guide=studio_guide.guide.name)
    form = [t for t in at.text_input if t.label.startswith("Name (letters")][0]
    form.input("made-in-test")
    [t for t in at.text_input if t.label == "Title"][0].input("Made in a test")
    button(at, "Create the guide").click()
    at.run()
    assert not at.exception, at.exception
    ref = load_guide("made-in-test", SETTINGS)
    assert ref.guide.languages == ["en", "it"] and ref.guide.title == {"en": "Made in a test"}
    # texts of an artwork of another guide: switch to it and save an Italian title
    at.session_state["guide"] = studio_guide.guide.name
    at.session_state["lang"] = "it"
    at.run()
    title = [t for t in at.text_input if t.label == "Title (it)"][0]
    title.input("Il porto all'alba")
    [b for b in at.button if b.label == "Save texts (it)"][0].click()
    at.run()
    assert not at.exception, at.exception
    art_id = studio_guide.guide.artworks[0].id
    saved = load_guide(studio_guide.guide.name, SETTINGS).guide.artwork(art_id)
    assert saved.title["it"] == "Il porto all'alba" and saved.title["en"]  # other languages kept
    image = studio_guide.path(saved.image)
    assert image.is_file()
    button(at, "Delete this artwork…").click()
    at.run()
    assert any("Delete '" in w.value for w in at.warning)  # asks first, nothing deleted yet
    assert load_guide(studio_guide.guide.name, SETTINGS).guide.artworks[0].id == art_id
    button(at, "Yes, delete it").click()
    at.run()
    assert art_id not in [a.id for a in load_guide(studio_guide.guide.name, SETTINGS).guide.artworks]


def test_delete_removes_the_picture_file(studio_guide):
    name = studio_guide.guide.name
    art = studio_guide.guide.artworks[0]
    image = studio_guide.path(art.image)
    at = studio(guide=name)
    button(at, "Delete this artwork…").click()
    at.run()
    button(at, "Yes, delete it").click()
    at.run()
    assert art.id not in [a.id for a in load_guide(name, SETTINGS).guide.artworks]
    assert not image.exists()  # the picture went with it


def test_add_with_no_picture_says_so(studio_guide):
    at = studio(guide=studio_guide.guide.name)
    button(at, "Add these pictures").click()
    at.run()
    assert any("Choose one or more pictures" in w.value for w in at.warning)


def test_publish_from_the_train_page(studio_guide):
    name = studio_guide.guide.name
    at = studio("train.py", guide=name)
    assert at.selectbox(key="publish-choice").value == "Retrieval (verified), no training"
    at.selectbox(key="publish-choice").select("Retrieval (baseline), no training")
    button(at, "Publish").click()
    at.run()
    assert not at.exception, at.exception
    entry = read_published(name, SETTINGS)
    assert entry is not None and entry.method == "retrieval" and entry.mode == "baseline"


def test_train_form_shows_each_methods_own_defaults(studio_guide):
    """The Train page's widgets are generated from the method's parameter class: its defaults."""
    from smartlens.methods import trainable
    from smartlens.params import param_infos

    at = studio("train.py", guide=studio_guide.guide.name)
    for spec in trainable():
        at.selectbox[0].select(spec.title)
        at.run()
        assert not at.exception, at.exception
        shown = 0
        for info in param_infos(spec.training.params):
            if not info.studio:
                continue
            key = f"train-{spec.name}-{info.name}"
            widget = (
                at.checkbox(key=key)
                if info.kind == "boolean"
                else (at.selectbox(key=key) if info.choices else at.number_input(key=key))
            )
            assert widget.value == info.default, (spec.name, info.name, widget.value, info.default)
            shown += 1
        assert shown >= 10


def test_views_job_starts_as_a_process_and_is_listed(studio_guide, monkeypatch):
    name = studio_guide.guide.name
    at = studio("views.py", guide=name)
    at.number_input[0].set_value(2)
    at.number_input[1].set_value(3)
    button(at, "Make the training views").click()
    at.run()
    assert not at.exception, at.exception
    jobs = list_jobs(SETTINGS, name, "views")
    assert len(jobs) == 1
    deadline = time.time() + 60
    while not list_jobs(SETTINGS, name, "views")[0].progress_lines() and time.time() < deadline:
        time.sleep(0.5)
    job = list_jobs(SETTINGS, name, "views")[0]
    assert job.running and job.progress_lines(), job.log_tail()
    # the page shows it with its progress; cancel from the page
    at.run()
    assert any(b.label == "Cancel" for b in at.button)
    cancel_job(job.id, SETTINGS, grace_s=5)
    assert list_jobs(SETTINGS, name, "views")[0].state == "cancelled"


def test_edits_are_validated_and_atomic(own_demo):
    ref = guide_edit.set_texts(own_demo, "the-blue-house", "it", "La casa azzurra", "", "", "Una casa.")
    assert load_guide(ref.root, SETTINGS).guide.artwork("the-blue-house").title["it"] == "La casa azzurra"
    before = (ref.root / "guide.json").read_bytes()
    with pytest.raises(GuideError, match="goes outside the image"):
        guide_edit.set_details(ref, "the-blue-house", [("tree", (700, 100, 500, 100), "", "")], "en")
    with pytest.raises(GuideError, match="used by two boxes"):
        guide_edit.set_details(
            ref, "the-blue-house", [("a", (1, 1, 5, 5), "", ""), ("a", (9, 9, 5, 5), "", "")], "en"
        )
    assert (ref.root / "guide.json").read_bytes() == before
    ref = guide_edit.set_details(
        ref,
        "the-blue-house",
        [("tree", (500, 120, 280, 330), "", ""), ("door", (330, 330, 60, 90), "The door", "Open.")],
        "en",
    )
    art = load_guide(ref.root, SETTINGS).guide.artwork("the-blue-house")
    assert [d.id for d in art.details] == ["tree", "door"]
    assert art.detail("tree").name["it"] == "Il vecchio albero"


def test_concepts_name_details_and_old_guides_load_unchanged(own_demo):
    raw = json.loads((own_demo.root / "guide.json").read_text())
    assert Guide.from_dict(raw).to_dict() == raw  # a guide without concepts is written as before
    ref = own_demo
    ref = guide_edit.set_concept(ref, "door", {"en": "Door", "it": ""})
    assert "concept door: it" in guide_edit.missing_translations(ref.guide)
    ref = guide_edit.set_details(ref, "the-blue-house", [("door", (330, 330, 60, 90), "", "", "door")], "en")
    det = load_guide(ref.root, SETTINGS).guide.artwork("the-blue-house").detail("door")
    assert det.concept == "door" and det.name == {"en": "Door"}
    with pytest.raises(GuideError, match="not one of the guide's concepts"):
        guide_edit.set_details(ref, "the-blue-house", [("x", (1, 1, 9, 9), "", "", "nope")], "en")


def test_boxes_drawn_on_a_small_display_land_in_image_pixels():
    boxes = [{"label": "face", "left": 36.0, "top": 18.0, "width": 72.0, "height": 36.0}]
    assert guide_edit.boxes_from_canvas(boxes, (720, 360), (2400, 1200)) == [
        ("face", (120.0, 60.0, 240.0, 120.0))
    ]
    # clipped to the picture, and a box with no area left is dropped
    outside = [
        {"label": "x", "left": -10, "top": -10, "width": 20, "height": 20},
        {"label": "y", "left": 800, "top": 5, "width": 9, "height": 9},
    ]
    assert guide_edit.boxes_from_canvas(outside, (720, 360), (720, 360)) == [("x", (0.0, 0.0, 10.0, 10.0))]


def test_upload_rejects_bad_files_and_adds_good_ones(own_demo):
    with pytest.raises(ImageError):
        guide_edit.add_artwork(own_demo, b"<html>not a picture</html>", "evil.jpg", "Evil", "en")
    img = np.random.default_rng(0).integers(0, 255, (300, 200, 3), dtype=np.uint8)
    ref = guide_edit.add_artwork(own_demo, encode_jpeg(img), "../../etc/My Photo.JPG", "Nuova opera!", "it")
    art = ref.guide.artworks[-1]
    assert (
        art.id == "nuova-opera" and art.image == "images/nuova-opera.jpg" and (ref.root / art.image).is_file()
    )
    assert not (ref.root.parent / "etc").exists()
    assert load_guide(ref.root, SETTINGS).guide.artwork("nuova-opera").title == {"it": "Nuova opera!"}
    assert "nuova-opera / title: en" in guide_edit.missing_translations(ref.guide)


def test_proposed_boxes_are_shown_and_accepted_or_rejected_one_by_one(studio_guide):
    from smartlens.guide.proposals import Proposal, add_proposals, read_proposals

    name = studio_guide.guide.name
    art = studio_guide.guide.artworks[0]
    add_proposals(
        studio_guide,
        [
            Proposal("p1", art.id, "gull", (10.0, 12.0, 60.0, 40.0), 0.91, "detection:test", created=1.0),
            Proposal("p2", art.id, "cloud", (100.0, 20.0, 50.0, 30.0), 0.40, "detection:test", created=1.0),
        ],
    )
    at = studio("annotate.py", guide=name)
    assert any("2 proposed boxes (automatic" in e.label for e in at.expander)
    assert any(
        "gull · score 0.91 · automatic, from detection:test" in m.value.replace("\\", "") for m in at.markdown
    )
    at.button(key="acc-p1").click()
    at.run()
    assert not at.exception, at.exception
    saved = load_guide(name, SETTINGS).guide.artwork(art.id)
    gull = saved.detail("gull")
    assert gull.box == (10, 12, 60, 40) and gull.name == {"en": "gull"}
    at.button(key="rej-p2").click()
    at.run()
    assert read_proposals(load_guide(name, SETTINGS)) == []
    assert "cloud" not in [d.id for d in load_guide(name, SETTINGS).guide.artwork(art.id).details]
    assert not any("proposed boxes" in e.label for e in at.expander)
