"""The recognition benchmark's levels: the hard level is what it says (small, crowded, ornate), the
dev set is other paintings and other seeds, and the figures come out per level, side by side."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from smartlens.bench.recognition import side_by_side, train_budgets
from smartlens.bench.scoring import Score
from smartlens.bench.views import SEEDS, bench_guide, museum_camera, paintings_dir
from smartlens.errors import UserError
from smartlens.geometry import polygon_in_frame, project_quad
from smartlens.imaging import read_image
from smartlens.recognition.result import Recognition

from conftest import needs_paintings

#: Seeds for these tests: far from every level's and set's (and from calibration's).
TEST_SEED = 9_500_000


@needs_paintings
def test_hard_views_show_the_painting_small_among_others(settings):
    ref = bench_guide(paintings_dir(settings), settings)
    camera = museum_camera(ref)
    art = ref.guide.artworks[0]
    image = read_image(ref.path(art.image))
    boxes = {d.id: d.box for d in art.details}
    h, w = image.shape[:2]
    for k in range(6):
        view = camera.view(art.id, image, boxes, TEST_SEED + k)
        fh, fw = view.image.shape[:2]
        assert view.H is not None
        quad = project_quad(view.H, (0, 0, w, h))
        assert quad is not None
        visible, area, _ = polygon_in_frame(quad, (fw, fh))
        assert visible >= 0.9 and 0.08 <= area / (fw * fh) <= 0.27, (visible, area / (fw * fh))
        assert set(view.conditions) <= {"visitors", "glass", "dim"}
        # the rest of the frame is busy: far more edges outside the painting than on a plain wall
        outside = cv2.fillConvexPoly(np.full((fh, fw), 255, np.uint8), quad.astype(np.int32), 0)
        edges = cv2.Canny(cv2.cvtColor(view.image, cv2.COLOR_BGR2GRAY), 50, 150)
        assert (edges[outside > 0] > 0).mean() > 0.02
    close = camera.view(art.id, image, boxes, TEST_SEED + 10, focus=art.details[0].id)
    assert close.kind == "detail" and close.details[art.details[0].id].visible >= 0.95


@needs_paintings
def test_hard_negatives_hang_no_guide_painting(settings):
    ref = bench_guide(paintings_dir(settings), settings)
    camera = museum_camera(ref, with_guide=False)
    assert camera.hanging.guide == {}
    view = camera.negative(TEST_SEED)
    assert view.artwork is None and view.kind == "museum" and view.image.shape[2] == 3


@needs_paintings
def test_dev_set_is_the_paintings_mirrored_with_other_seeds(settings):
    test = bench_guide(paintings_dir(settings), settings, "test")
    dev = bench_guide(paintings_dir(settings), settings, "dev")
    assert dev.guide.name != test.guide.name
    for a, b in zip(test.guide.artworks, dev.guide.artworks):
        original, mirrored = read_image(test.path(a.image)), read_image(dev.path(b.image))
        assert np.abs(original[:, ::-1].astype(int) - mirrored.astype(int)).mean() < 3  # JPEG aside
        width = original.shape[1]
        for d, e in zip(a.details, b.details):
            assert e.box == (width - d.box[0] - d.box[2], *d.box[1:])
    # no two levels or sets share a seed: each draws from its own range of 1,000,000
    starts = sorted(s for pair in SEEDS.values() for s in pair)
    assert all(b - a >= 500_000 for a, b in zip(starts, starts[1:]))


def test_scores_by_condition_and_the_levels_side_by_side():
    from smartlens.synth.camera import View

    score = Score()
    image = np.zeros((8, 8, 3), np.uint8)
    score.add(View(image, "a", "whole", conditions=("glass",)), Recognition("a", ms=10))
    score.add(View(image, "a", "whole", conditions=("glass", "dim")), Recognition(None, ms=30))
    score.add(View(image, None, "museum"), Recognition(None, ms=20))
    score.yard_ms = [20.0, 20.0, 40.0]
    m = score.metrics()
    assert m["by_condition"] == {"dim": 0.0, "glass": 50.0, "whole": 50.0}
    assert m["artwork_top1"] == 50.0 and m["negatives_fp"] == 0.0
    assert m["p95_vs_yardstick"] == round(
        float(np.percentile([10, 30, 20], 95) / np.percentile([20, 20, 40], 95)), 2
    )
    rows = side_by_side(
        [
            {"method": "m", "weights": "w", "level": "easy", "artwork_top1": 99.0},
            {"method": "m", "weights": "w", "level": "hard", "artwork_top1": 90.0},
        ]
    )
    assert rows == [
        {
            "method": "m",
            "weights": "w",
            "easy top-1": 99.0,
            "easy detail R": "",
            "easy neg FP": "",
            "easy p95/yard": "",
            "hard top-1": 90.0,
            "hard detail R": "",
            "hard neg FP": "",
            "hard p95/yard": "",
        }
    ]


def test_training_budgets_per_method_or_for_all():
    assert train_budgets("20") == {"*": 20.0}
    assert train_budgets("classification=20,detection=30") == {"classification": 20.0, "detection": 30.0}
    assert train_budgets(None) == {}
    for bad in ("twenty", "classification=0", "detection=-1", "classification=20,"):
        with pytest.raises(UserError, match="--train-minutes"):
            train_budgets(bad)
