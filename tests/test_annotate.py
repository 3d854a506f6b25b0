"""Pre-annotation proposals: stored apart from guide.json, marked automatic, accepted or rejected
one by one (the fast part; proposals made by a trained detector are in test_detection_training)."""

from __future__ import annotations

import json

import pytest

from smartlens.errors import UserError
from smartlens.guide import load_guide, save_guide
from smartlens.guide.formats.paintings import import_paintings
from smartlens.guide.proposals import Proposal, accept, add_proposals, read_proposals, reject

from conftest import PAINTINGS, needs_paintings


@pytest.fixture
def small_guide(settings):
    imp = import_paintings(PAINTINGS, "small")
    imp.guide.artworks = imp.guide.artworks[:1]
    files = {k: v for k, v in imp.files.items() if k == imp.guide.artworks[0].image}
    return save_guide(imp.guide, settings.guides / "small", files=files, replace=True)


@needs_paintings
def test_accept_adds_a_detail_and_reject_drops_the_proposal(small_guide, settings):
    art = small_guide.guide.artworks[0]
    before = (small_guide.root / "guide.json").read_bytes()
    made = add_proposals(
        small_guide,
        [
            Proposal("p1", art.id, "face", (10.4, 20.0, 30.0, 40.0), 0.9, "detection:m1", "x/face"),
            Proposal("p2", art.id, "sky", (0, 0, 50, 20), 0.6, "detection:m1", "x/sky"),
        ],
    )
    assert len(made) == 2
    assert (small_guide.root / "guide.json").read_bytes() == before  # proposals never touch guide.json
    stored = json.loads((small_guide.root / "proposals.json").read_text())["proposals"]
    assert all(p["automatic"] and p["source"] == "detection:m1" for p in stored)

    ref = accept(small_guide, "p1", settings)
    details = {d.id: d for d in load_guide(small_guide.root, settings).guide.artwork(art.id).details}
    new = [d for d in details.values() if d.id.startswith("face") and d.box == (10, 20, 30, 40)]
    assert len(new) == 1 and new[0].id == "face-2"  # the artwork already has a 'face'
    assert len(details) == len(art.details) + 1 and ref.guide.artwork(art.id).details[-1].id == "face-2"
    assert [p.id for p in read_proposals(ref)] == ["p2"]

    reject(ref, "p2")
    assert read_proposals(ref) == []
    assert len(load_guide(small_guide.root, settings).guide.artwork(art.id).details) == len(art.details) + 1
    with pytest.raises(UserError, match="no pending proposal"):
        accept(ref, "p2", settings)


@needs_paintings
def test_a_new_run_replaces_the_same_sources_proposals(small_guide):
    art = small_guide.guide.artworks[0].id
    add_proposals(small_guide, [Proposal("a", art, "face", (0, 0, 9, 9), 0.5, "detection:m1")])
    add_proposals(small_guide, [Proposal("b", art, "hand", (0, 0, 9, 9), 0.5, "retrieval:other")])
    add_proposals(small_guide, [Proposal("c", art, "face", (1, 1, 9, 9), 0.7, "detection:m1")])
    assert sorted(p.id for p in read_proposals(small_guide)) == ["b", "c"]


@needs_paintings
def test_a_damaged_proposals_file_is_a_clear_error(small_guide):
    (small_guide.root / "proposals.json").write_text("{not json")
    with pytest.raises(UserError, match="proposals.json: damaged"):
        read_proposals(small_guide)
