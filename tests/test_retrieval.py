"""Retrieval: warped views, detail crops with boxes, nothing on walls and noise, bad images."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from smartlens.errors import ImageError
from smartlens.imaging import read_image
from smartlens.methods import load_recognizer
from smartlens.methods.retrieval import load_retrieval
from smartlens.synth.camera import Camera, CameraParams

from conftest import ROOT
from conftest import SESSION_SETTINGS as SETTINGS


@pytest.fixture(scope="session")
def demo_rec(demo_guide):
    return load_recognizer(demo_guide, SETTINGS, "retrieval")


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih / (aw * ah + bw * bh - iw * ih)


def test_warped_views_are_recognised(demo_guide, demo_rec):
    """Steep, small, dim views of every demo painting: named right nearly always, never wrongly.

    A rate, not every view: the dark, finely stroked "mountain lake by night" gives 6-19 inliers
    on such views against a floor of 10 (the hard benchmark level is where the rate is measured)."""
    camera = Camera(CameraParams(max_tilt=35))
    right, wrong, per_artwork = 0, [], {}
    for a, art in enumerate(demo_guide.guide.artworks):
        image = read_image(demo_guide.path(art.image))
        for seed in (a, a + 100, a + 200, a + 300):
            view = camera.view(art.id, image, {d.id: d.box for d in art.details}, seed=seed)
            result = demo_rec.recognize(view.image)
            if result.artwork == art.id:
                assert result.quad is not None and len(result.quad) == 4
                right += 1
                per_artwork[art.id] = per_artwork.get(art.id, 0) + 1
            elif result.artwork is not None:
                wrong.append((art.id, seed, result.artwork))
    assert not wrong
    views = 4 * len(demo_guide.guide.artworks)
    assert right >= views - 4, (right, views, per_artwork)  # 22 of 24 on this machine
    # every painting named at least once: the dark lake sits at the inlier floor on such views (1 of
    # 4 in a clean-clone CI run of 2026-12-05, at least 2 of 4 in earlier runs); all but one 3+ of 4
    artworks = [a.id for a in demo_guide.guide.artworks]
    assert all(per_artwork.get(a, 0) >= 1 for a in artworks), per_artwork
    assert sum(per_artwork.get(a, 0) >= 3 for a in artworks) >= len(artworks) - 1, per_artwork


def test_shared_painting_from_a_steep_view(paintings_guide):
    rec = load_recognizer(paintings_guide, SETTINGS, "retrieval")
    art = paintings_guide.guide.artwork("the-scream")
    image = read_image(paintings_guide.path(art.image))
    h, w = image.shape[:2]
    # a 30-degree side view, done by hand: the right edge much shorter than the left
    dst = np.float32([[60, 40], [560, 110], [560, 400], [60, 460]])
    H = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), dst)
    frame = cv2.warpPerspective(image, H, (640, 480), borderValue=(200, 205, 210))
    assert rec.recognize(frame).artwork == "the-scream"
    assert rec.recognize(frame[:, ::-1].copy()).artwork is None  # its mirror image is not it


def test_detail_close_up_gives_its_box(demo_guide, demo_rec):
    art = demo_guide.guide.artwork("the-blue-house")
    image = read_image(demo_guide.path(art.image))
    x, y, w, h = art.detail("tree").box
    crop = image[y - 20 : y + h + 20, x - 20 : x + w + 20]
    frame = cv2.resize(crop, None, fx=1.5, fy=1.5)
    result = demo_rec.recognize(frame)
    assert result.artwork == "the-blue-house"
    hits = {d.id: d for d in result.details}
    assert "tree" in hits and "house" not in hits  # the house is out of this frame
    truth = (20 * 1.5, 20 * 1.5, w * 1.5, h * 1.5)
    assert _iou(hits["tree"].box, truth) > 0.7, hits["tree"].box


@pytest.mark.parametrize(
    "frame",
    [
        np.full((480, 640, 3), 215, np.uint8),  # a blank wall
        np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8),  # sensor noise
        cv2.GaussianBlur(np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8), (0, 0), 3),
    ],
    ids=["blank-wall", "noise", "blurred-noise"],
)
def test_nothing_on_walls_and_noise(demo_rec, frame):
    result = demo_rec.recognize(frame)
    assert result.artwork is None and result.details == []


def test_bad_frames_are_rejected_clearly(demo_rec, tmp_path):
    with pytest.raises(ImageError, match="too small"):
        demo_rec.recognize(np.zeros((5, 5, 3), np.uint8))
    with pytest.raises(ImageError, match="unsupported image shape"):
        demo_rec.recognize(np.zeros((40, 40, 7), np.uint8))
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    cv2.imwrite(str(tmp_path / "huge.png"), np.zeros((7000, 7000), np.uint8))
    for name, words in [
        ("empty.jpg", "empty"),
        ("corrupt.jpg", "corrupt|unreadable|not an image"),
        ("huge.png", "too large"),
    ]:
        with pytest.raises(ImageError, match=words):
            read_image(tmp_path / name)


def test_concurrent_calls_are_safe(demo_guide, demo_rec):
    art = demo_guide.guide.artworks[0]
    image = read_image(demo_guide.path(art.image))
    frames = [Camera().view(art.id, image, {}, seed=s).image for s in range(6)]
    serial = [demo_rec.recognize(f).artwork for f in frames]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda f: demo_rec.recognize(f).artwork, frames))
    assert parallel == serial and serial.count(art.id) >= 5


def test_index_is_cached_and_rebuilt_when_guide_changes(tmp_path, demo_guide, settings):
    from smartlens.guide import save_guide

    files = {a.image: demo_guide.path(a.image) for a in demo_guide.guide.artworks[:2]}
    g = copy.deepcopy(demo_guide.guide)
    g.artworks = g.artworks[:2]
    ref = save_guide(g, tmp_path / "small", files=files)
    first = load_retrieval(ref, settings)
    assert first.info.built
    assert not load_retrieval(ref, settings).info.built  # cached
    g.artworks[0].title["en"] = "A new title"  # texts do not touch the index
    ref = save_guide(g, ref.root)
    assert not load_retrieval(ref, settings).info.built
    g.artworks[0].details[0].box = (10, 10, 100, 100)  # a moved box does
    ref = save_guide(g, ref.root)
    again = load_retrieval(ref, settings)
    assert again.info.built and again.index.detail_boxes[0][0].tolist() == [10, 10, 100, 100]
    assert len(list(again.info.path.parent.glob("verified-*.npz"))) == 1  # the stale index is gone


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smartlens", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_recognize_cli_prints_json_lines_in_order(demo_guide, tmp_path):
    arts = demo_guide.guide.artworks[:2]
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    paths = [
        str(demo_guide.path(arts[0].image)),
        str(tmp_path / "bad.jpg"),
        str(demo_guide.path(arts[1].image)),
    ]
    out = _cli("recognize", "--guide", str(demo_guide.root), "--json", *paths)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [x["image"] for x in lines] == [paths[0], paths[2]]  # the good ones, in order
    assert lines[0]["artwork"] == arts[0].id and lines[1]["artwork"] == arts[1].id
    assert out.returncode == 2 and f"error: {paths[1]}: " in out.stderr and "not an image" in out.stderr
    assert set(lines[0]) == {"image", "artwork", "score", "details", "ms"}
    assert all(set(d) == {"id", "score", "box"} for d in lines[0]["details"])


def test_detection_without_a_trained_model_says_how_to_train_one(demo_guide):
    out = _cli(
        "recognize",
        "--guide",
        str(demo_guide.root),
        "--method",
        "detection",
        str(demo_guide.path(demo_guide.guide.artworks[0].image)),
    )
    assert out.returncode == 2 and "--method detection" in out.stderr and "Traceback" not in out.stderr


def test_small_paintings_among_others_on_ornate_walls(paintings_guide):
    """The hard level's kind of view (seeds of no benchmark set): a painting covering 10-25% of
    the frame among other paintings, gilded frames and damask, from a steep angle."""
    from smartlens.bench.views import museum_camera

    rec = load_recognizer(paintings_guide, SETTINGS, "retrieval")
    camera = museum_camera(paintings_guide)
    said = []
    for a, art in enumerate(paintings_guide.guide.artworks):
        image = read_image(paintings_guide.path(art.image))
        boxes = {d.id: d.box for d in art.details}
        for k in range(2):
            view = camera.view(art.id, image, boxes, 9_700_000 + 1000 * a + k)
            said.append((art.id, rec.recognize(view.image).artwork))
    right = sum(truth == got for truth, got in said)
    assert right >= 15 and all(got in (truth, None) for truth, got in said), said


def test_the_painting_at_the_frames_centre_is_named_when_a_neighbour_matches_better(paintings_guide):
    """Two guide paintings in one frame: a large one at the side and a smaller one in the middle,
    the one the visitor points the phone at. The side one gives more inliers; the middle one is
    named (and outlined where it hangs)."""
    rec = load_recognizer(paintings_guide, SETTINGS, "retrieval")
    arts = {a.id: a for a in paintings_guide.guide.artworks}
    side, middle = arts["mona-lisa"], arts["the-scream"]
    frame = np.full((480, 640, 3), 200, np.uint8)

    def hang(art, x0: int, height: int) -> tuple[int, int, int, int]:
        image = read_image(paintings_guide.path(art.image))
        scale = height / image.shape[0]
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        y0 = (480 - small.shape[0]) // 2
        w = min(small.shape[1], 640 - x0)
        frame[y0 : y0 + small.shape[0], x0 : x0 + w] = small[:, :w]
        return x0, y0, w, small.shape[0]

    _, _, side_w, _ = hang(side, 0, 420)
    x0, _, w, _ = hang(middle, 290, 230)
    assert side_w < 300 and x0 < 320 < x0 + w  # the middle painting holds the frame's centre...
    feats = rec._sift.extract(frame)
    inliers = {rec.index.artwork_ids[c.artwork]: c.inliers for c in rec.matcher.candidates(feats)}
    # ...and the side one matches better
    middle_threshold = rec.index.thresholds[rec.index.artwork_ids.index(middle.id)]
    assert inliers[side.id] > inliers.get(middle.id, 0) >= middle_threshold, inliers
    got = rec.recognize(frame)
    assert got.artwork == middle.id, (got.artwork, inliers)
    xs = [x for x, _ in got.quad]
    assert min(xs) > 270 and max(xs) < x0 + w + 20
