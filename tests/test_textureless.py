"""Works without texture: black, gold and flat-colour artworks among textured ones.

Local features find nothing on them; verified retrieval names them by the pretrained embedder's
features of the frame (its own open-set refusal, calibrated on negatives), and nothing else: not
one of the benchmark's negatives. Without pretrained weights the index says which artworks cannot
be recognised, and they are not guessed at.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import cv2
import pytest

from smartlens.bench.views import SEEDS, museum_camera, negative_views
from smartlens.guide import Artwork, Guide, load_guide, save_guide
from smartlens.imaging import read_image
from smartlens.methods import load_recognizer
from smartlens.synth.camera import Camera, CameraParams
from smartlens.synth.pictures import TEXTURELESS_PAINTERS

from conftest import EMBEDDER, needs_embedder

PLAIN = list(TEXTURELESS_PAINTERS)


@pytest.fixture(scope="module")
def mixed_guide(demo_guide, tmp_path_factory):
    """The demo guide's six textured paintings plus a black, a gold and a blue work."""
    guide = Guide("mixed", list(demo_guide.guide.languages), "en", artworks=list(demo_guide.guide.artworks))
    files = {a.image: demo_guide.path(a.image) for a in guide.artworks}
    with tempfile.TemporaryDirectory() as tmp:
        for art_id, (painter, seed) in TEXTURELESS_PAINTERS.items():
            canvas = painter(seed)
            rel = f"images/{art_id}.png"
            files[rel] = Path(tmp) / f"{art_id}.png"
            cv2.imwrite(str(files[rel]), canvas.image)
            h, w = canvas.image.shape[:2]
            guide.artworks.append(Artwork(art_id, rel, w, h, title={"en": art_id}))
        return save_guide(guide, tmp_path_factory.mktemp("guides") / "mixed", files=files, replace=True)


def _views(ref, ids, per_artwork, seed):
    camera = Camera(CameraParams())
    out = []
    for a, art in enumerate(ref.guide.artworks):
        if art.id in ids:
            image = read_image(ref.path(art.image))
            boxes = {d.id: d.box for d in art.details}
            out += [camera.view(art.id, image, boxes, seed + 1000 * a + k) for k in range(per_artwork)]
    return out


@needs_embedder
def test_plain_works_are_named_and_nothing_else(mixed_guide, settings):
    with_weights = dataclasses.replace(settings, weights=EMBEDDER)
    ref = load_guide(mixed_guide.root, with_weights)
    rec = load_recognizer(ref, with_weights, "retrieval")
    assert sorted(rec.info.report["plain_artworks"]) == sorted(PLAIN)
    seed, negative_seed = SEEDS[("easy", "test")]
    # each plain work, seen by the benchmark's camera from its test seeds: named
    for view in _views(ref, PLAIN, 4, seed):
        assert rec.recognize(view.image).artwork == view.artwork, view.artwork
    # the textured ones still by their keypoints (an outline), not by the fallback
    for view in _views(ref, [a.id for a in ref.guide.artworks if a.id not in PLAIN], 1, seed):
        result = rec.recognize(view.image)
        assert result.artwork == view.artwork and result.quad is not None
    # the benchmark's negatives, easy and a share of the hard ones: nothing named
    named = [v.kind for v in negative_views(100, negative_seed) if rec.recognize(v.image).artwork]
    museum = museum_camera(ref, with_guide=False)
    hard_seed = SEEDS[("hard", "test")][1]
    named += [v.kind for v in (museum.negative(hard_seed + i) for i in range(12)) if rec.recognize(v.image).artwork]
    assert named == []


def test_without_weights_the_plain_works_are_listed_not_guessed(mixed_guide, settings):
    ref = load_guide(mixed_guide.root, settings)
    rec = load_recognizer(ref, settings, "retrieval")
    assert sorted(rec.info.report["not_recognisable_without_weights"]) == sorted(PLAIN)
    for view in _views(ref, PLAIN, 2, SEEDS[("easy", "test")][0]):
        assert rec.recognize(view.image).artwork is None
