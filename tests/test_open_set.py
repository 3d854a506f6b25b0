"""The open-set gate: a learned method's answer stands only when the frame shows that artwork
(its keypoints agree on one homography), so paintings not in the guide are refused."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest

from smartlens.bench.tracking import camera_path
from smartlens.bench.views import artwork_views, held_out_views, paintings_dir, split_guide
from smartlens.geometry import box_iou, box_quad
from smartlens.imaging import read_image
from smartlens.lens.processor import LensProcessor
from smartlens.lens.slots import FairSlots
from smartlens.methods.classification.params import ClassificationParams
from smartlens.methods.classification.recognizer import ClassificationRecognizer
from smartlens.methods.classification.train import train_classifier
from smartlens.methods.gate import set_gate_threshold
from smartlens.methods.open_set import (
    FLOOR,
    GATE_FILE,
    MAX_PROPOSALS,
    GateParams,
    OpenSetGate,
    PlacedByGate,
    Proposal,
    _curve,
    _Seen,
    calibrated_threshold,
    decide,
    describe_reference,
    load_gate,
    may_reach,
    place_at_pose,
    read_gate,
)
from smartlens.recognition.result import DetailHit, Recognition
from smartlens.synth import pictures
from smartlens.synth.camera import Camera

from conftest import EMBEDDER, needs_embedder, needs_paintings


def _painting(seed: int) -> np.ndarray:
    return pictures.random_painting(seed, 640, 480).image


def _gate(min_inliers: int = 12) -> OpenSetGate:
    params = GateParams()
    refs = {name: describe_reference(_painting(seed), [], params) for name, seed in (("a", 11), ("b", 12))}
    return OpenSetGate(["a", "b"], refs, min_inliers, params)


def _proposal(artwork: str, confident: bool) -> Proposal:
    return Proposal(Recognition(artwork, 0.5, method="classification"), confident)


def test_the_gate_lets_through_the_artwork_it_sees_and_nothing_else():
    gate = _gate()
    view = Camera().view("a", _painting(11), {}, seed=0).image  # tilted, on a wall, degraded
    other = Camera().view("c", _painting(99), {}, seed=0).image  # a painting not in the guide
    assert gate.score(view, "a") >= 12 > gate.score(view, "b")
    assert gate.score(other, "a") < 8 and gate.score(other, "b") < 8
    assert gate.score(view, "unknown") == 0
    # the first proposal the frame shows stands, confident or not; nothing when none is shown
    assert gate.choose(view, [_proposal("b", True), _proposal("a", False)]).artwork == "a"  # type: ignore[union-attr]
    assert gate.choose(other, [_proposal("a", True), _proposal("b", False)]) is None
    assert decide(gate, other, [_proposal("a", True)], "classification").artwork is None
    # without a gate only a confident proposal counts
    assert decide(None, other, [_proposal("b", False), _proposal("a", True)], "classification").artwork == "a"
    assert decide(None, other, [_proposal("b", False)], "classification").artwork is None


def test_an_accepted_answer_carries_its_pose_so_the_lens_can_track_it():
    gate = _gate()
    painting = _painting(11)
    h, w = painting.shape[:2]
    view = Camera().view("a", painting, {}, seed=0)
    # without the guide's picture sizes: the answer as the model gave it, no pose
    bare = gate.choose(view.image, [_proposal("a", True)])
    assert bare is not None and bare.pose is None
    gate.sizes = {"a": (w, h), "b": (w, h)}
    placed = gate.choose(view.image, [_proposal("a", True)])
    assert placed is not None and placed.artwork == "a" and placed.pose is not None
    truth = cv2.perspectiveTransform(np.float32([[[0, 0], [w, 0], [w, h], [0, h]]]), view.H)[0]
    assert np.abs(np.float32(placed.quad) - truth).max() < 6  # the outline where the camera put it
    assert len(placed.pose.frame_points) >= gate.min_inliers
    # between recognitions: the outline at the tracked pose, and the details in view boxed
    boxes = {"in": (w * 0.2, h * 0.2, w * 0.3, h * 0.3), "tiny": (0, 0, 2, 2)}
    size = (view.image.shape[1], view.image.shape[0])
    tracked = place_at_pose("a", placed.pose, size, 0.7, "detection", boxes)
    assert tracked.quad == placed.quad and [d.id for d in tracked.details] == ["in"]
    assert place_at_pose("a", placed.pose, size, 0.7, "classification").details == []


def test_a_detail_box_the_model_drew_is_moved_where_the_pose_puts_it_only_when_they_agree():
    gate = _gate()
    painting = _painting(11)
    h, w = painting.shape[:2]
    gate.sizes = {"a": (w, h), "b": (w, h)}
    view = Camera().view("a", painting, {}, seed=0)
    size = (view.image.shape[1], view.image.shape[0])
    curator = {"face": (w * 0.2, h * 0.2, w * 0.3, h * 0.3), "hand": (w * 0.6, h * 0.6, w * 0.2, h * 0.2)}
    corners = cv2.perspectiveTransform(box_quad(curator["face"])[None], view.H)[0]
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    truth = (float(x0), float(y0), float(x1 - x0), float(y1 - y0))
    rough = (truth[0] + 0.25 * truth[2], truth[1] - 0.2 * truth[3], truth[2], truth[3])  # IoU about 0.4
    elsewhere = (0.0, 0.0, 8.0, 8.0)  # the model's "hand" box, nowhere near where the pose puts it
    answer = dataclasses.replace(
        _proposal("a", True).recognition,
        details=[DetailHit("face", 0.9, rough), DetailHit("hand", 0.8, elsewhere)],
    )
    verified = gate.choose(view.image, [Proposal(answer, True)])
    assert verified is not None and verified.pose is not None

    class Detector(PlacedByGate):
        method = "detection"
        tracked_detail_boxes = {"a": curator}

    placed = Detector().boxes_placed(verified, size)
    face, hand = placed.details
    assert box_iou(rough, truth) < 0.5 and box_iou(face.box, truth) > 0.9 and face.score == 0.9
    assert hand.box == elsewhere  # no agreement on where: the model's own box stays
    unposed = dataclasses.replace(verified, pose=None)
    assert Detector().boxes_placed(unposed, size) == unposed


def test_the_gate_answers_the_same_whatever_ran_before_it():
    view = Camera().view("a", _painting(11), {}, seed=0).image
    scores = []
    for seed in (1, 2):
        cv2.setRNGSeed(seed)  # another history of the thread's random generator
        cv2.randu(np.zeros((100, 100), np.float32), 0, 1)
        scores.append([_gate().score(view, a) for a in ("a", "b")])
    assert scores[0] == scores[1]


def test_ransac_is_skipped_only_where_it_could_not_have_found_enough_inliers():
    """may_reach is an upper bound: wherever it says no, RANSAC finds fewer inliers than the floor
    (matches piling onto a few artwork points, as on a frame that does not show the artwork), and
    a frame that does show the artwork is never skipped."""
    rng = np.random.default_rng(0)
    skipped = 0
    for _ in range(300):
        artwork_points = rng.uniform(0, 800, (int(rng.integers(3, 12)), 2)).astype(np.float32)
        n = int(rng.integers(8, 30))
        src = artwork_points[rng.integers(0, len(artwork_points), n)]
        dst = rng.uniform(0, 640, (n, 2)).astype(np.float32)
        near = rng.random(n) < 0.3  # some frame points close together, as repeated texture gives
        dst[near] = dst[0] + rng.normal(0, 3, (int(near.sum()), 2))
        if not may_reach(src, dst, 5.0, 8):
            skipped += 1
            _, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
            assert mask is None or int(mask.sum()) < 8
    assert skipped > 100  # the bound does skip most of these
    H = np.array([[0.6, 0.05, 40], [-0.03, 0.7, 20], [1e-4, 0, 1]])
    src = rng.uniform(0, 800, (40, 2)).astype(np.float32)
    dst = cv2.perspectiveTransform(src[None], H)[0]
    assert may_reach(src, dst, 5.0, 8)


def test_only_the_first_proposals_are_searched_so_a_frame_costs_a_bounded_number_of_searches(monkeypatch):
    gate = _gate()
    view = Camera().view("a", _painting(11), {}, seed=0).image
    searched: list[int] = []
    match = gate.matcher.match
    monkeypatch.setattr(gate.matcher, "match", lambda *a, **k: searched.append(1) or match(*a, **k))
    last = [_proposal("b", True)] * (MAX_PROPOSALS - 1) + [_proposal("a", False)]
    assert gate.choose(view, last).artwork == "a"  # type: ignore[union-attr]
    assert len(searched) == MAX_PROPOSALS
    searched.clear()
    assert gate.choose(view, [_proposal("b", True)] * MAX_PROPOSALS + [_proposal("a", False)]) is None
    assert len(searched) == MAX_PROPOSALS


def test_the_gate_describes_no_frame_when_nothing_is_proposed(monkeypatch):
    gate = _gate()
    monkeypatch.setattr(gate.matcher, "describe", lambda frame: pytest.fail("described"))
    assert gate.choose(np.zeros((64, 64, 3), np.uint8), []) is None


def test_the_threshold_is_the_most_lenient_one_with_almost_no_false_answers_and_the_curve_says_what_each_costs():
    seen = [_Seen("a", ["a", "b"], [k, 0]) for k in range(10, 110)]  # 100 right answers, 10..109
    seen += [_Seen("a", ["b", "a"], [30, 50])]  # a view of a taken for b (b's keypoints agree!)
    seen += [_Seen(None, ["b"], [k]) for k in (3, 9, 15)] + [_Seen(None, [], [])]  # negatives
    curve = _curve(seen)
    at = {p["min_inliers"]: p for p in curve}
    assert at[FLOOR]["negatives_named"] == 0.5 and at[10]["negatives_named"] == 0.25
    assert at[16]["negatives_named"] == 0.0 and at[16]["right"] == pytest.approx(94 / 101, abs=1e-4)
    assert at[30]["wrong_named"] == pytest.approx(1 / 101, abs=1e-4)
    # were a not in the guide, its views would pass as b when b's keypoints agree
    assert at[FLOOR]["other_paintings_named"] == pytest.approx(1 / 101, abs=1e-4)
    assert calibrated_threshold(curve) == 16  # the first with negatives, wrong and others <= 1 %
    assert calibrated_threshold(curve, target=0.3) == 10
    # nothing but a negative that always passes: the strictest threshold offered
    assert calibrated_threshold(_curve([_Seen(None, ["b"], [100])])) == max(p["min_inliers"] for p in curve)


def test_the_gate_is_saved_and_a_curators_threshold_is_kept_with_the_model(tmp_path):
    gate = _gate(min_inliers=15)
    gate.report = {"min_inliers": 15}
    gate.save(tmp_path)
    again = read_gate(tmp_path)
    assert again is not None and again.min_inliers == 15 and again.artworks == ["a", "b"]
    np.testing.assert_allclose(again.references["a"].points, gate.references["a"].points)
    set_gate_threshold(tmp_path, 22)
    assert load_gate(tmp_path).min_inliers == 22  # type: ignore[union-attr]
    set_gate_threshold(tmp_path, None)
    assert load_gate(tmp_path).min_inliers == 15  # type: ignore[union-attr]
    with pytest.raises(Exception, match="between"):
        set_gate_threshold(tmp_path, 1000)
    assert read_gate(tmp_path / "nothing") is None


@needs_paintings
@needs_embedder
def test_a_painting_that_is_not_in_the_guide_is_refused(settings):
    """Guide: three of the shared paintings; the fourth is the curator's negative picture; the
    other four are never trained on. The trained model's gate is built on its validation views,
    saved, reloaded, and on camera views of the paintings it never saw the recogniser names
    nothing, while it names the guide's own paintings."""
    settings = dataclasses.replace(settings, weights=EMBEDDER)
    split = split_guide(paintings_dir(settings), settings, 3)
    params = ClassificationParams(
        per_image=10, val_per_image=4, negatives=60, val_negatives=16, workers=1, frozen_features=True
    )
    result = train_classifier(split.ref, settings, params)
    assert (result.model_dir / GATE_FILE).is_file()
    metrics = json.loads((result.model_dir / "metrics.json").read_text())
    gate_report = metrics["open_set_gate"]
    assert gate_report["available"] and gate_report["min_inliers"] >= FLOOR and gate_report["kept"] >= 0.98
    assert metrics["report"]["views"] > 0 and metrics["report"]["negatives"] > 0
    gate = read_gate(result.model_dir)
    assert gate is not None and gate.artworks == [a.id for a in split.ref.guide.artworks]

    gated = ClassificationRecognizer(result.model_dir, settings, split.ref)
    plain = ClassificationRecognizer(result.model_dir, settings, split.ref, use_gate=False)
    assert gated.gate is not None and plain.gate is None
    others = held_out_views(split, 4, 0)
    assert len(others) == 16
    named = [gated.recognize(v.image).artwork for v in others]
    assert sum(a is not None for a in named) == 0, named
    own = artwork_views(split.ref, 4, 0)
    answers = [gated.recognize(v.image) for v in own]
    right = [r.artwork == v.artwork for r, v in zip(answers, own)]
    assert np.mean(right) >= 0.9, right
    # a verified answer carries its pose and outline, so the lens follows the painting between
    # recognitions (a model without its gate has no pose to give)
    assert gated.tracks and not plain.tracks
    assert all(r.pose is not None and r.quad for r in answers if r.artwork)
    art = split.ref.guide.artworks[0]
    frames = [f.image for f in camera_path(art.id, read_image(split.ref.path(art.image)), 12, seed=3)]
    proc = LensProcessor(gated, split.ref.guide, FairSlots(1, idle_s=2.0), "0" * 32, None, "en")
    for frame in frames:
        proc.process(frame)
        proc.settle()
    stats = proc.stats()
    assert stats.tracked >= len(frames) // 2 and stats.processed < len(frames), stats
