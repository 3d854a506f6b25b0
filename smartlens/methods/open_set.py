"""The open-set gate: a learned method's answer counts only when the frame really shows that
artwork: enough of the artwork's own local features, found in the frame, agree on one plane.

A classifier or detector trained on a few artworks names one of them for almost any painting
(it was never asked to say "none of these" to a painting it has not seen). Comparing the frame's
global CNN features with the artwork's training views did not hold on views unlike the training
ones: to keep 98 % of the right answers on such views, that comparison had to let through most
views of *another real painting* (measured: 85-90 % of a guide painting's views passed as another
guide painting). Local features do not have that weakness: another painting's keypoints never
agree on one homography with this artwork's (0 such views in 260 passed, on the same views).

So the gate extracts SIFT keypoints (RootSIFT, :mod:`smartlens.methods.retrieval.local_features`)
of the frame at a small size, matches them with an artwork's own keypoints (its whole picture,
and each detail's box at a finer scale, so close-ups match), and counts the matches a RANSAC
homography agrees with. The model *proposes* artworks, best first (:class:`Proposal`: its
confident answer, then the artworks it finds next most likely); the first of at most
:data:`MAX_PROPOSALS` that the frame is verified to show is the answer, so a frame the model
ranks wrongly is still named right, and a painting not in the guide is named nothing.

The threshold (``min_inliers``) is calibrated on the training's validation views (unlike the
training views): the most lenient one, never below :data:`FLOOR`, whose false answers there
(negatives named, another artwork named, a view passing as another artwork were its own not in
the guide) stay within :data:`FALSE_TARGET`. Keeping 98 % of the validation views' right answers
instead set it at 13-16 agreeing keypoints, which on the benchmark's hard development views
(small paintings among others) gave up a tenth of the right answers and refused no more negatives.
The curve of every threshold (right answers, negatives, other paintings) is kept with the model,
and a curator can move it (:func:`save_setting`, read by :func:`load_gate`). It needs no
pretrained weights, and costs one small SIFT extraction and a few matchings on frames for which
the model proposes something.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..geometry import Box, box_iou, boxes_in_view, outline
from ..imaging import read_image
from ..recognition.result import DetailHit, Pose, Recognition
from ..storage import atomic_write_bytes, atomic_write_json

log = logging.getLogger("smartlens.recognition")
GATE_FILE = "gate.npz"
#: The curator's choice of the gate's threshold, beside the model (absent: the calibrated one).
SETTING_FILE = "gate_setting.json"
#: The calibrated threshold is the most lenient one whose false answers on the validation views
#: (negatives named, another artwork named, another painting passing as one of the guide's) stay
#: at most this share.
FALSE_TARGET = 0.01
#: Thresholds a curator can choose from (the curve is measured at each).
CHOICES = tuple(range(4, 41))


@dataclass(frozen=True)
class GateParams:
    """How frames and artworks are described and matched."""

    query_side: int = 320  # the frame is described at this longer side...
    query_features: int = 400  # ...with at most this many keypoints
    whole_side: int = 800  # each artwork at this longer side...
    whole_features: int = 1000
    detail_side: int = 480  # ...and each detail's box again at this one
    detail_features: int = 300
    detail_margin: float = 0.15
    ratio: float = 0.8  # Lowe's ratio test
    reproj_px: float = 5.0  # RANSAC's tolerance, in frame pixels at the query size
    # each artwork's k-d forest and its leaf checks per search: 16 took 1.8 ms a search instead of
    # 3.1, but on the benchmark's hard dev views named 2.2% of negatives (classifier) and 1.4%
    # (detector) where 32 named 0.7%: a coarser search lets more chance matches through
    flann_trees: int = 4
    flann_checks: int = 32


@dataclass
class Reference:
    """An artwork's keypoints (artwork pixels) and RootSIFT descriptors, with a matcher on them."""

    points: np.ndarray
    descriptors: np.ndarray
    _matcher: Any = field(default=None, repr=False)

    def matcher(self, params: GateParams) -> Any:
        """The artwork's matcher, built on first use with ``params``' forest and search settings."""
        if self._matcher is None:
            # the k-d forest draws its splits from the thread's OpenCV random generator: seeded, a
            # gate gives the same answers in every process (as kd_forest.flann_index does)
            cv2.setRNGSeed(0)
            m = cv2.FlannBasedMatcher(
                {"algorithm": 1, "trees": params.flann_trees}, {"checks": params.flann_checks}
            )
            m.add([np.ascontiguousarray(self.descriptors, np.float32)])
            m.train()
            self._matcher = m
        return self._matcher


def describe_reference(image: np.ndarray, boxes: list[tuple], params: GateParams) -> Reference:
    """An artwork's reference keypoints: the whole picture, then each detail's box more finely."""
    from .retrieval.local_features import SiftExtractor
    from .retrieval.verified import GeometricParams, describe_artwork

    geo = GeometricParams(
        whole_side=params.whole_side,
        whole_features=params.whole_features,
        detail_side=params.detail_side,
        detail_features=params.detail_features,
        detail_margin=params.detail_margin,
    )
    f = describe_artwork(image, [tuple(b) for b in boxes], geo, SiftExtractor())
    return Reference(f.points.astype(np.float32), f.descriptors.astype(np.float32))


class FrameMatcher:
    """Describes a frame once, then counts the keypoints of any artwork's reference that agree
    with it on one homography."""

    def __init__(self, params: GateParams):
        from .retrieval.local_features import SiftExtractor

        self.params = params
        # SiftExtractor keeps a detector per thread: visitors' frames are described in parallel
        self._sift = SiftExtractor(params.query_features, params.query_side)

    def describe(self, frame_bgr: np.ndarray) -> Any:
        return self._sift.extract(frame_bgr)

    def inliers(self, frame: Any, ref: Reference, scale: float) -> int:
        """Matches of ``frame``'s features (from :meth:`describe`) with ``ref`` that one RANSAC
        homography agrees with; ``scale``: frame pixels per query pixel (for the tolerance)."""
        return self.match(frame, ref, scale).inliers

    def match(self, frame: Any, ref: Reference, scale: float, floor: int = 4) -> GateMatch:
        """:meth:`inliers`, with the homography (artwork pixels -> frame pixels) and its inliers.
        A caller that needs ``floor`` inliers gets 0 without a homography being fitted when no
        homography could have them (too few matches pass the ratio test, or they pile onto too few
        artwork points: :func:`may_reach`): RANSAC's full run of iterations is skipped on frames
        that cannot pass, as a negative's proposals mostly cannot."""
        if len(frame) < 4 or len(ref.points) < 4:
            return GateMatch(0)
        pairs = ref.matcher(self.params).knnMatch(np.ascontiguousarray(frame.descriptors, np.float32), k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < self.params.ratio * p[1].distance]
        if len(good) < max(4, floor):
            return GateMatch(0)
        src = ref.points[[g.trainIdx for g in good]]
        dst = frame.points[[g.queryIdx for g in good]]
        tol = self.params.reproj_px * scale
        if floor > 4 and not may_reach(src, dst, tol, floor):
            return GateMatch(0)
        H, mask = cv2.findHomography(src, dst, cv2.RANSAC, tol)
        if H is None or mask is None:
            return GateMatch(0)
        inl = mask.ravel().astype(bool)
        return GateMatch(int(inl.sum()), H, src[inl], dst[inl])


def may_reach(src: np.ndarray, dst: np.ndarray, tol: float, floor: int) -> bool:
    """False only when no homography can have ``floor`` inliers among the matches ``src`` ->
    ``dst`` at reprojection error ``tol``: the matches of one artwork point land within ``tol`` of
    its one image, so within ``2 * tol`` of each other. On a frame that does not show the artwork
    many frame keypoints match the same few artwork keypoints, and RANSAC, drawing sample after
    degenerate sample, spent up to 50 ms proving what this shows in microseconds."""
    _, group = np.unique(src, axis=0, return_inverse=True)
    group = group.ravel()
    if group.max() + 1 >= floor:  # each artwork point can give one inlier at least
        return True
    total = 0
    for g in range(int(group.max()) + 1):
        pts = dst[group == g]
        near = np.linalg.norm(pts[:, None] - pts[None], axis=2) <= 2 * tol
        total += int(near.sum(axis=1).max())
    return total >= floor


@dataclass
class GateMatch:
    """How an artwork's reference agreed with a frame: the agreeing keypoints and their homography."""

    inliers: int
    H: np.ndarray | None = None
    src: np.ndarray | None = None  # the agreeing keypoints in artwork pixels...
    dst: np.ndarray | None = None  # ...and in the frame


def query_scale(frame_bgr: np.ndarray, params: GateParams) -> float:
    """Frame pixels per pixel of the size frames are described at."""
    return max(1.0, max(frame_bgr.shape[:2]) / params.query_side)


@dataclass(frozen=True)
class Proposal:
    """An answer a learned model offers for a frame (best first): what it says if the frame shows
    that artwork. ``confident``: above the model's own threshold (without a gate, only those count)."""

    recognition: Recognition
    confident: bool

    @property
    def artwork(self) -> str:
        return str(self.recognition.artwork)


#: At most this many of a frame's proposals (artworks, best first) are verified: each costs a search
#: (3 ms) and a painting not in the guide gets all of its proposals checked. Every right answer the
#: gate accepted on the validation views (258, both models of the benchmark's guide split) was the
#: model's first proposal; on the benchmark's dev set (both levels, both models) 3 gave every figure
#: 5 gave, and the detector's hard-level p95 fell from 57.7 to 49.9 ms (0.82 to 0.72 of the yardstick).
MAX_PROPOSALS = 3


@dataclass
class OpenSetGate:
    """The artworks' references and the threshold (saved as ``gate.npz`` in the model folder)."""

    artworks: list[str]
    references: dict[str, Reference]
    min_inliers: int
    params: GateParams = field(default_factory=GateParams)
    #: What calibration measured (and the curve of every threshold a curator may choose).
    report: dict = field(default_factory=dict)
    #: Each artwork's picture size (width, height), from the guide: with it, an accepted answer
    #: carries its pose (the lens then tracks it between recognitions). Not saved: the guide has it.
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    _matcher: FrameMatcher | None = field(default=None, init=False, repr=False)

    @property
    def matcher(self) -> FrameMatcher:
        if self._matcher is None:
            self._matcher = FrameMatcher(self.params)
        return self._matcher

    def score(self, frame_bgr: np.ndarray, artwork: str) -> int:
        """How many of ``artwork``'s keypoints agree with the frame on one homography (0: none,
        or an artwork the gate does not know)."""
        ref = self.references.get(artwork)
        if ref is None:
            return 0
        return self.matcher.inliers(
            self.matcher.describe(frame_bgr), ref, query_scale(frame_bgr, self.params)
        )

    def accepts(self, frame_bgr: np.ndarray, artwork: str) -> bool:
        """Whether ``artwork``, named on this frame, stands."""
        return self.score(frame_bgr, artwork) >= self.min_inliers

    def choose(self, frame_bgr: np.ndarray, proposals: list[Proposal]) -> Recognition | None:
        """The first of the proposals (best first, at most :data:`MAX_PROPOSALS`) whose artwork
        the frame really shows; None when none does. The frame is described once, and only
        when there is something to verify."""
        if not proposals:
            return None
        frame = self.matcher.describe(frame_bgr)
        scale = query_scale(frame_bgr, self.params)
        for p in proposals[:MAX_PROPOSALS]:
            ref = self.references.get(p.artwork)
            if ref is None:
                continue
            m = self.matcher.match(frame, ref, scale, floor=self.min_inliers)
            if m.inliers < self.min_inliers:
                continue
            size = self.sizes.get(p.artwork)
            quad = outline(m.H, size) if size is not None and m.H is not None else None
            if quad is None:  # no picture size, or a homography no camera gives: named, not placed
                return p.recognition
            return replace(p.recognition, pose=Pose(m.H, size, m.src, m.dst), quad=quad)  # type: ignore[arg-type]
        return None

    def warm_up(self) -> None:
        """Build every artwork's matcher and the frame's detector now, not on a visitor's first frame."""
        for ref in self.references.values():
            ref.matcher(self.params)
        self.matcher.describe(np.zeros((self.params.query_side, self.params.query_side, 3), np.uint8))

    def save(self, model_dir: Path) -> Path:
        arrays: dict[str, np.ndarray] = {}
        for i, a in enumerate(self.artworks):
            ref = self.references[a]
            arrays[f"points_{i}"] = ref.points.astype(np.float32)
            arrays[f"descriptors_{i}"] = ref.descriptors.astype(np.float16)
        meta = {
            "kind": "geometric",
            "artworks": self.artworks,
            "min_inliers": int(self.min_inliers),
            "params": self.params.__dict__,
            "report": self.report,
        }
        buf = io.BytesIO()
        np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)  # type: ignore[arg-type]
        path = Path(model_dir) / GATE_FILE
        atomic_write_bytes(path, buf.getvalue())
        return path


def decide(
    gate: OpenSetGate | None, frame_bgr: np.ndarray, proposals: list[Proposal], method: str
) -> Recognition:
    """What a learned model answers for a frame: without a gate, its first confident proposal;
    with one, the first proposal the gate verifies (a less confident one included: the artwork
    is then seen, whatever the model's confidence)."""
    if gate is None:
        chosen = next((p.recognition for p in proposals if p.confident), None)
    else:
        chosen = gate.choose(frame_bgr, proposals)
    return chosen if chosen is not None else Recognition(None, method=method)


#: How much a model's detail box must overlap the box its pose places for the pose's to be drawn
#: instead: any real agreement on where the detail is (set before measuring anything, not tuned).
PLACED_IOU = 0.1


class PlacedByGate:
    """What a learned recogniser with an open-set gate adds for the lens: its verified answers
    carry a pose (:meth:`OpenSetGate.choose`), and between recognitions the lens draws the tracked
    artwork with :meth:`at_pose`."""

    gate: OpenSetGate | None
    method: str
    #: Each artwork's detail boxes (artwork pixels), boxed while it is tracked; none: the details
    #: are named only by the model's own recognitions (a classifier's).
    tracked_detail_boxes: dict[str, dict[str, Box]] = {}

    @property
    def tracks(self) -> bool:
        """Whether its answers carry a pose (a gate, and the guide's picture sizes)."""
        return self.gate is not None and bool(self.gate.sizes)

    def at_pose(self, artwork: str, pose: Pose, frame_size: tuple[int, int], score: float) -> Recognition:
        """What the lens draws while it tracks ``artwork`` at ``pose``."""
        boxes = self.tracked_detail_boxes.get(artwork)
        return place_at_pose(artwork, pose, frame_size, score, self.method, boxes)

    def boxes_placed(self, rec: Recognition, frame_size: tuple[int, int]) -> Recognition:
        """``rec`` with each detail box the model drew moved to where its verified pose puts the
        curator's box, when the two overlap (IoU at least :data:`PLACED_IOU`): the model says which
        details are there, the pose (fitted on every keypoint match of the artwork) says exactly
        where, as it does while the lens tracks. Boxes that do not overlap their placed box, and
        answers without a pose, are left as the model drew them."""
        boxes = self.tracked_detail_boxes.get(rec.artwork or "")
        if rec.pose is None or not boxes or not any(d.box for d in rec.details):
            return rec
        placed = {i: box for i, _, box in boxes_in_view(rec.pose.H, boxes, frame_size, 0.0, 0.0)}
        details = [
            replace(d, box=placed[d.id])
            if d.box is not None and d.id in placed and box_iou(d.box, placed[d.id]) >= PLACED_IOU
            else d
            for d in rec.details
        ]
        return replace(rec, details=details)


def load_placed_gate(model_dir: Path, ref_guide: Any | None) -> OpenSetGate | None:
    """:func:`load_gate`, with the guide's picture sizes when there is a guide, so its answers
    carry their pose."""
    gate = load_gate(model_dir)
    if gate is not None and ref_guide is not None:
        gate.sizes = {a.id: (int(a.width), int(a.height)) for a in ref_guide.guide.artworks}
    return gate


def place_at_pose(
    artwork: str,
    pose: Pose,
    frame_size: tuple[int, int],
    score: float,
    method: str,
    detail_boxes: dict[str, Box] | None = None,
) -> Recognition:
    """What a learned method draws for a tracked artwork between its recognitions: the outline at
    ``pose`` and, when ``detail_boxes`` (artwork pixels) are given, each detail in view boxed by the
    same rules as verified retrieval."""
    from .retrieval.verified import GeometricParams

    p = GeometricParams()
    found = boxes_in_view(pose.H, detail_boxes or {}, frame_size, p.detail_visible, p.detail_area)
    details = [DetailHit(i, vis, box) for i, vis, box in found]
    return Recognition(artwork, score, details, method=method, quad=outline(pose.H, pose.size), pose=pose)


def build_references(ref_guide: Any, params: GateParams) -> dict[str, Reference]:
    """Every artwork's reference keypoints, from the guide's pictures."""
    return {
        a.id: describe_reference(read_image(ref_guide.path(a.image)), [d.box for d in a.details], params)
        for a in ref_guide.guide.artworks
    }


def read_gate(model_dir: Path) -> OpenSetGate | None:
    """The model's gate with its calibrated threshold, or None when the model has none (trained
    before this gate existed: ``smartlens gate`` builds it)."""
    path = Path(model_dir) / GATE_FILE
    if not path.is_file():
        return None
    with np.load(path) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        if meta.get("kind") != "geometric":
            return None  # the earlier gate (global features): rebuilt by smartlens gate
        refs = {
            a: Reference(z[f"points_{i}"].astype(np.float32), z[f"descriptors_{i}"].astype(np.float32))
            for i, a in enumerate(meta["artworks"])
        }
    return OpenSetGate(
        meta["artworks"],
        refs,
        int(meta["min_inliers"]),
        GateParams(**meta.get("params", {})),
        meta.get("report", {}),
    )


def read_setting(model_dir: Path) -> int | None:
    """The threshold a curator chose for this model (None: the calibrated one)."""
    path = Path(model_dir) / SETTING_FILE
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("min_inliers")
    except (OSError, ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def save_setting(model_dir: Path, min_inliers: int | None) -> None:
    """Keep a curator's threshold with the model (None: back to the calibrated one)."""
    path = Path(model_dir) / SETTING_FILE
    if min_inliers is None:
        path.unlink(missing_ok=True)
    else:
        atomic_write_json(path, {"min_inliers": int(min_inliers)})


def load_gate(model_dir: Path) -> OpenSetGate | None:
    """The model's gate, ready to use, with the curator's threshold when one was chosen; None
    when the model has none (a warning says how to build it: without it, the model names
    artworks for paintings it does not know)."""
    gate = read_gate(model_dir)
    if gate is None:
        log.warning(
            "model %s has no open-set gate: it may name a guide artwork for a painting not in the guide "
            "(build one with 'smartlens gate')",
            Path(model_dir).name,
        )
        return None
    chosen = read_setting(model_dir)
    if chosen is not None:
        gate.min_inliers = chosen
    return gate


# --- building and calibrating a model's gate ------------------------------------------------------
#: Right answers per validation view matched against this many other artworks too: how often
#: *another* painting would pass as the named one (the curve's "other paintings").
OTHERS = 4
#: The calibrated threshold is never below this (a homography fits any 4 matches, and a few
#: more agree by chance).
FLOOR = 8


@dataclass
class _Seen:
    truth: str | None  # the artwork the view shows (None: a negative)
    proposed: list[str]  # the artworks the model proposed, best first
    inliers: list[int]  # each one's agreeing keypoints

    def named(self, n: int, without: str | None = None) -> str | None:
        """What the gate lets through at threshold ``n`` (``without``: were that artwork not in
        the guide, as another painting would be)."""
        tried = [(a, k) for a, k in zip(self.proposed, self.inliers) if a != without][:MAX_PROPOSALS]
        return next((a for a, k in tried if k >= n), None)


def _curve(seen: list[_Seen]) -> list[dict[str, Any]]:
    """What each threshold a curator may choose does on the validation views: right answers,
    negatives named, views of a guide artwork named as another one, and views of a guide
    artwork named as another one were it not in the guide (how another painting fares)."""
    positives = [s for s in seen if s.truth is not None]
    negatives = [s for s in seen if s.truth is None]

    def share(hits: int, of: list) -> float | None:
        return round(hits / len(of), 4) if of else None

    return [
        {
            "min_inliers": n,
            "right": share(sum(s.named(n) == s.truth for s in positives), positives),
            "negatives_named": share(sum(s.named(n) is not None for s in negatives), negatives),
            "wrong_named": share(sum(s.named(n) not in (None, s.truth) for s in positives), positives),
            "other_paintings_named": share(
                sum(s.named(n, s.truth) is not None for s in positives), positives
            ),
        }
        for n in CHOICES
    ]


def calibrated_threshold(curve: list[dict[str, Any]], target: float = FALSE_TARGET) -> int:
    """The most lenient threshold (never below :data:`FLOOR`) whose false answers on the
    validation views stay within ``target``: negatives named, views named as another artwork,
    and views that would pass as another artwork were theirs not in the guide (the strictest
    one offered when none does)."""

    def false(p: dict[str, Any]) -> float:
        return max(p[k] or 0.0 for k in ("negatives_named", "wrong_named", "other_paintings_named"))

    ok = [p["min_inliers"] for p in curve if p["min_inliers"] >= FLOOR and false(p) <= target]
    return min(ok) if ok else max(p["min_inliers"] for p in curve)


def build_gate(
    recognizer: Any,
    guide_ref: Any,
    validation_dir: Path,
    progress: Any = None,
    stop: Any = None,
    params: GateParams | None = None,
) -> OpenSetGate:
    """The gate of the model behind ``recognizer`` (opened without a gate): references from the
    guide's pictures, threshold and curve from the validation views as the model proposes
    artworks for them."""
    from ..augment.engine import read_labels
    from ..progress import ProgressEvent
    from ..training.clock import TrainingCancelledError

    params = params or GateParams()
    refs = build_references(guide_ref, params)
    matcher = FrameMatcher(params)
    records = read_labels(Path(validation_dir))
    seen: list[_Seen] = []
    for i, rec in enumerate(records):
        if stop is not None and stop.is_set():
            raise TrainingCancelledError("the open-set gate was interrupted")
        if progress is not None and i % 16 == 0:
            progress(
                ProgressEvent(
                    "gate", i / max(1, len(records)), f"open-set gate: {i}/{len(records)} validation views"
                )
            )
        image = read_image(Path(validation_dir) / rec["file"])
        truth = (rec.get("label") or "").split("/")[0] or None
        # one more than are verified: were the right artwork not in the guide, the others are tried
        proposed = [p.artwork for p in recognizer.proposals(image) if p.artwork in refs][: MAX_PROPOSALS + 1]
        inliers: list[int] = []
        if proposed:
            frame, scale = matcher.describe(image), query_scale(image, params)
            inliers = [matcher.inliers(frame, refs[a], scale) for a in proposed]
        seen.append(_Seen(truth, proposed, inliers))
    curve = _curve(seen)
    threshold = calibrated_threshold(curve)
    at = {p["min_inliers"]: p for p in curve}
    positives = [s for s in seen if s.truth is not None]
    negatives = [s for s in seen if s.truth is None]
    base = at[FLOOR]["right"] or 0.0
    report = {
        "min_inliers": threshold,
        "false_target": FALSE_TARGET,
        "validation_views": len(positives),
        "right": at[threshold]["right"],
        # of the right answers the most lenient threshold gives, the share this one keeps
        "kept": round((at[threshold]["right"] or 0.0) / base, 4) if base else None,
        "validation_negatives": len(negatives),
        "negatives_proposed": sum(bool(s.proposed) for s in negatives),
        "negatives_named": at[threshold]["negatives_named"],
        "wrong_named": at[threshold]["wrong_named"],
        "other_paintings_named": at[threshold]["other_paintings_named"],
        "curve": curve,
    }
    return OpenSetGate(list(refs), refs, threshold, params, report)


def add_gate(
    model_dir: Path,
    guide_ref: Any,
    validation_dir: Path,
    open_model: Any,
    progress: Any = None,
    stop: Any = None,
) -> dict:
    """Build and save the gate of the model in ``model_dir`` (a staging folder or a finished one)
    on the model as ``open_model()`` opens it (without a gate), and record its report in the
    model's metrics.json; the report."""
    from ..training.model_folder import GATE, read_metrics

    gate = build_gate(open_model(), guide_ref, validation_dir, progress, stop)
    gate.save(model_dir)
    report = {"available": True, **gate.report}
    atomic_write_json(Path(model_dir) / "metrics.json", {**read_metrics(model_dir), GATE: report})
    return report


def check_and_report(
    model_dir: Path,
    guide_ref: Any,
    views: Any,
    open_model: Any,
    progress: Any,
    clock: Any = None,
) -> dict[str, Any]:
    """Build the model's open-set gate on its validation views, then score it on its report views
    (gate included), and record both in its metrics.json; the metrics. Asked to stop (``clock``),
    it skips what is left with a note saying so (``smartlens gate`` does both later)."""
    from ..progress import within
    from ..training.clock import TrainingCancelledError
    from ..training.model_folder import GATE, REPORT, read_metrics
    from ..training.report import report_figures

    stopped = "skipped: the training was cancelled (smartlens gate builds it later)"
    stop = clock.stop if clock is not None else None
    gate: dict[str, Any] = {"available": False, "why": stopped}
    if stop is None or not stop.is_set():
        try:
            gate = add_gate(
                model_dir,
                guide_ref,
                views.validation,
                lambda: open_model(model_dir, False),
                within(progress, 0.0, 0.6, "gate"),
                stop,
            )
        except TrainingCancelledError:
            pass
    report: dict[str, Any] = {"skipped": "the training was cancelled before its report"}
    if stop is None or not stop.is_set():
        try:
            report = report_figures(
                open_model(model_dir, True),
                views.report,
                guide_ref,
                within(progress, 0.6, 1.0, "report"),
                stop,
            )
        except TrainingCancelledError:
            pass
    metrics = {**read_metrics(model_dir), GATE: gate, REPORT: report}
    atomic_write_json(Path(model_dir) / "metrics.json", metrics)
    return metrics


def complete_model(
    staging: Path,
    final: Path,
    guide_ref: Any,
    record: Any,
    views: Any,
    open_model: Any,
    progress: Any,
    clock: Any = None,
) -> dict[str, Any]:
    """Write a trained model's files beside its weights (already in ``staging``), build its gate,
    score its report views, and give the folder its final name; its metrics.json content.
    ``open_model(folder, use_gate)`` opens the model as the lens will."""
    from ..progress import ProgressEvent
    from ..training.model_folder import finish_model, write_model_files

    write_model_files(staging, record)
    progress(ProgressEvent("gate", 0.0, "open-set gate: describing the artworks"))
    metrics = check_and_report(staging, guide_ref, views, open_model, progress, clock)
    finish_model(staging, final)
    return metrics
