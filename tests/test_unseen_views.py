"""Validation and report views: made by another generator than the training views, each role with
its own seeds, real negative pictures and check photos, kept in the engine's format with where
every detail lands, so a model is scored on them as the benchmark scores it."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from smartlens.errors import UserError
from smartlens.guide import Artwork, Detail, Guide, save_guide
from smartlens.recognition.result import Recognition
from smartlens.synth import pictures
from smartlens.synth.camera import VIEW_MIX
from smartlens.training.check_photos import REPORT, VALIDATION, check_photos, checks_dir, count_check_photos
from smartlens.training.report import report_figures, report_line
from smartlens.training.unseen import make_unseen, unseen_params, view_of


@pytest.fixture
def guide(tmp_path):
    g = Guide("tiny", ["en"], "en")
    files = {}
    for k in range(2):
        cv = pictures.random_painting(700 + k, 360, 300)
        rel = f"images/p{k}.jpg"
        files[rel] = tmp_path / f"p{k}.jpg"
        cv2.imwrite(str(files[rel]), cv.image)
        name, box = next((n, b) for n, b in cv.motifs.items() if b[2] > 30 and b[3] > 30)
        g.artworks.append(Artwork(f"p{k}", rel, 360, 300, {"en": f"P{k}"}, details=[Detail(name, box)]))
    return save_guide(g, tmp_path / "guide", files=files)


def _photo(path, seed):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), pictures.random_painting(seed, 320, 240).image)
    return path


def test_check_photos_are_dealt_to_validation_and_report_and_wrong_folders_are_named(guide):
    root = checks_dir(guide)
    detail = guide.guide.artworks[0].details[0].id
    for k in range(3):
        _photo(root / "p0" / f"phone{k}.jpg", k)
    _photo(root / "p0" / detail / "close.jpg", 9)
    (root / "p0" / "notes.txt").write_text("not a photo")
    roles = check_photos(guide)
    assert [c.label for c in roles[VALIDATION]] == ["p0", "p0", f"p0/{detail}"]
    assert [c.label for c in roles[REPORT]] == ["p0"]
    assert count_check_photos(guide) == {"p0": 4, "p1": 0}
    _photo(root / "nobody" / "x.jpg", 1)
    with pytest.raises(UserError, match="nobody.*not an artwork"):
        check_photos(guide)


def test_each_role_has_its_own_views_negatives_and_check_photos(guide, settings):
    _photo(checks_dir(guide) / "p1" / "a.jpg", 3)
    _photo(checks_dir(guide) / "p1" / "b.jpg", 4)
    real = [_photo(settings.data / "negs" / f"n{k}.jpg", 20 + k) for k in range(2)]
    made = {}
    for role, pics in ((VALIDATION, real[:1]), (REPORT, real[1:])):
        params = unseen_params(role, 2, 6, 0, 480, pics, guide, settings)
        made[role], whole = make_unseen(guide, settings, params)
        again = make_unseen(guide, settings, params)  # cached: the same folder, nothing made again
        assert whole and again == (made[role], True)
    assert made[VALIDATION] != made[REPORT]
    labels = {
        r: [json.loads(p.read_text()) for p in sorted((made[r] / "labels").glob("*.json"))] for r in made
    }
    for role, recs in labels.items():
        # 2 close-ups of each of 2 details; whole views of 2 artworks: 2 each, or for the report as
        # many per close-up as the benchmark draws (VIEW_MIX: 10 to 3, so 7); 6 negatives; 1 check photo
        whole_views = 7 if role == REPORT else 2
        assert VIEW_MIX == (10, 3) and len(recs) == 2 * whole_views + 4 + 6 + 1
        assert sum(r["kind"] == "whole" for r in recs) == 2 * whole_views
        kinds = [r["kind"] for r in recs]
        assert kinds.count("check") == 1 and [r["label"] for r in recs if r["kind"] == "check"] == ["p1"]
        assert any(k.startswith("painting:") for k in kinds)  # paintings never seen among the negatives
        whole = [r for r in recs if r["kind"] == "whole"]
        assert all(r["details"] and r["boxes_known"] for r in whole)  # where each detail lands
        assert not [r for r in recs if r["kind"] == "check"][0]["boxes_known"]
    shown = {
        r: [
            r2["kind"]
            for r2 in labels[r]
            if r2["kind"].startswith("painting:") and "generated" not in r2["kind"]
        ]
        for r in made
    }
    assert shown[VALIDATION] == ["painting:n0"] * len(shown[VALIDATION]) and shown[REPORT] == [
        "painting:n1"
    ] * len(shown[REPORT])
    # report views are drawn in turn by the benchmark levels' cameras, validation views by their own
    assert {r["level"] for r in labels[VALIDATION]} == {None}
    drawn = [r for r in labels[REPORT] if r["kind"] != "check"]
    assert [r["level"] for r in drawn[:4]] == ["easy", "hard"] * 2
    assert "museum" in {r["kind"] for r in drawn if r["level"] == "hard" and r["label"] is None}
    # what makes a hard view hard is kept, so the report counts by condition as the benchmark does
    assert {c for r in drawn if r["level"] == "easy" for c in r["conditions"]} == set()
    assert {c for r in drawn if r["level"] == "hard" for c in r["conditions"]} & {"visitors", "glass", "dim"}
    first = {r: cv2.imread(str(made[r] / labels[r][0]["file"])) for r in made}
    assert not np.array_equal(first[VALIDATION], first[REPORT])  # other seeds

    # the report scores a recogniser as the benchmark does: here one that names p0 on everything
    def always_p0(frame):
        return Recognition("p0", 1.0, method="test")

    class Fake:
        recognize = staticmethod(always_p0)

    figures = report_figures(Fake(), made[REPORT], guide)
    assert figures["views"] == 18 + 1 and figures["negatives"] == 6 and figures["check_photos"] == 1
    assert (
        figures["artwork_top1"] == pytest.approx(100 * 9 / 19, abs=0.1) and figures["negatives_fp"] == 100.0
    )
    # each level's figures rest on its own views (the check photo counts only in all)
    levels = figures["levels"]
    assert set(levels["hard"]["by_condition"]) & {"visitors", "glass", "dim"}
    assert sorted(levels) == ["easy", "hard"]
    assert (
        sum(f["views"] for f in levels.values()) == 18 and sum(f["negatives"] for f in levels.values()) == 6
    )
    assert sum(f["artwork_top1"] * f["views"] for f in levels.values()) == pytest.approx(100 * 9, abs=0.5)
    assert "hard level's camera" in report_line(figures)
    view = view_of(
        made[REPORT], labels[REPORT][0], {a.id: {d.id for d in a.details} for a in guide.guide.artworks}
    )
    assert view.artwork == "p0" and view.image.shape[2] == 3


def test_a_set_cut_short_by_its_deadline_has_some_of_every_group(guide, settings):
    import time

    params = unseen_params(VALIDATION, 4, 8, 1, 480, [], guide, settings)
    folder, whole = make_unseen(guide, settings, params, deadline=time.monotonic() - 1)
    labels = [json.loads(p.read_text()) for p in sorted((folder / "labels").glob("*.json"))]
    assert not whole
    # one view of each artwork, of each detail's close-ups and one negative: 2 + 2 + 1
    assert len(labels) == 5 and sorted(str(r["label"]) for r in labels) == sorted(
        ["p0", "p1", "None", *(f"{a.id}/{a.details[0].id}" for a in guide.guide.artworks)]
    )
    folder, whole = make_unseen(guide, settings, params)  # the next run makes the rest
    assert whole and len(list((folder / "labels").glob("*.json"))) == 2 * 4 + 2 * 4 + 8
