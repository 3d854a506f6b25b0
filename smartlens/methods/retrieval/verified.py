"""Retrieval by local features and geometric verification (the default mode, ``verified``).

Index: SIFT keypoints of every artwork, from the whole image and, at a finer scale, from
each detail's box, all in the artwork's pixel coordinates, in one FLANN k-d forest.

Query: the frame's keypoints vote for artworks through their nearest neighbours (a ratio
test within each artwork, so two versions of one painting both keep their votes); the few
artworks with most votes are verified with a RANSAC homography, and an artwork is accepted
only if its inliers reach its calibrated threshold; of those accepted, the one whose outline
holds the frame's centre is named (the painting the phone points at), else the one with most
inliers. The homography then says where the artwork and each detail lie in the frame. The
frame's strongest keypoints are searched first: an artwork verified there beyond doubt, at the
frame's centre, is named without searching the rest.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from ...config import Settings
from ...geometry import Box, boxes_in_view, outline, project_quad
from ...guide import GuideRef
from ...progress import Progress, ProgressEvent, no_progress
from ...recognition.result import DetailHit, Pose, Recognition
from ...synth.camera import Camera, CameraParams
from ...vocabulary import RetrievalMode
from .cache import Arrays
from .calibration import CALIBRATION_SEED, WHOLE_VIEW_SEEDS, CalibrationParams, artwork_data, check_every
from .kd_forest import flann_index
from .local_features import Features, SharpSiftExtractor, SiftExtractor
from .plain_works import PlainIndex, PlainParams, build_plain_index
from .recognizer import RetrievalRecognizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeometricParams:
    whole_side: int = 800  # the artwork image is described at this longer side...
    whole_features: int = 1000
    detail_side: int = 480  # ...and each detail's box again at this one
    detail_features: int = 300
    detail_margin: float = 0.15
    # Frames are described sharp (local_features.SharpSiftExtractor): keypoints found at half of
    # query_side, described at query_side, spread over the frame. On the benchmark's hard level
    # (dev set: small paintings among others on ornate walls) 720 px / 1000 features named 97.4%
    # where plain SIFT at 440 / 600 named 92% (and 560 / 1200 96%), for the CPU time of plain
    # SIFT at 440 / 600; 640 / 1200 named as many, with a slower p95.
    query_side: int = 720
    query_features: int = 1000
    #: False: plain SIFT at query_side (the frame doubled inside SIFT), strongest keypoints anywhere
    query_sharp: bool = True
    # SIFT's contrast threshold for frames: 0.01 keeps the faint keypoints of a painting behind
    # glass or in dim light (the spread then chooses among more); on the hard level's dev set it
    # named 98.0% where 0.02 named 97.4%, with no negative named either way
    query_contrast: float = 0.01
    # descriptors from resampled patches (patch_descriptor.PatchDescriber), artworks and frames
    # alike, rather than OpenCV's SIFT.compute: the frame described in a third of the time; on the
    # hard level's dev set the same 99.3% named (152 views), 98.5% of a larger draw (336 views,
    # 24 whole views an artwork and 6 a detail) against 98.8%, and 99.1% there with flann_checks
    # at 24 (below), which the time saved pays for
    patch_descriptors: bool = True
    neighbours: int = 4
    ratio: float = 0.8
    shortlist: int = 4
    min_votes: int = 6
    reproj_px: float = 5.0
    # a first look with the frame's strongest first_look keypoints (0: none): an artwork verified
    # there with sure_inliers times its threshold, at the frame's centre, is named without
    # searching the rest (a painting in full view: most frames a visitor sends); otherwise the
    # rest is searched and all are used, as without the first look. Dev set, same run: the easy
    # level's p95 0.62 of the yardstick against 0.82 without, the hard level's 0.72 against 0.73,
    # every figure of accuracy the same (300 keypoints or twice the threshold: the same too)
    first_look: int = 400
    sure_inliers: float = 3.0
    # floor of every artwork's threshold: 10 named 98.0% of the hard level's dev views (12: 97.4%)
    # with no negative named (the calibration's worst negative had 5-6 inliers)
    min_inliers: int = 10
    #: count inliers again with every neighbour of the artwork under its homography (see
    #: GeometricMatcher._recount)
    recount: bool = True
    flann_trees: int = 4
    # leaves checked per search: 24 since frames are described by patches (see patch_descriptors);
    # with OpenCV's descriptors 16 (32 gained nothing then, for ~6 ms more a frame)
    flann_checks: int = 24
    # descriptors projected to this many dimensions (0: keep 128). On the hard level's dev set 96
    # named 99.3% (64: 98.0%, 128: 99.3%; no negative named in any), frames behind glass or
    # visitors keeping matches that 64 dimensions lost, for 1.5x the index memory of 64
    pca_dims: int = 96
    detail_visible: float = 0.6  # a detail is reported when this much of it is in the frame...
    detail_area: float = 0.004  # ...and it covers this much of the frame


@dataclass
class GeometricIndex:
    """Everything the matcher needs, as arrays (saved to and loaded from one .npz)."""

    artwork_ids: list[str]
    sizes: np.ndarray  # (A, 2) width, height
    detail_ids: list[list[str]]
    detail_boxes: list[np.ndarray]  # per artwork (D, 4)
    points: np.ndarray  # (N, 2) in artwork pixels
    descriptors: np.ndarray  # (N, D) RootSIFT, projected by ``basis`` when there is one
    owner: np.ndarray  # (N,) artwork index
    thresholds: np.ndarray  # (A,) minimum inliers to accept each artwork
    #: PCA of the descriptors (mean and a 128 x D basis): half the memory and a faster search
    #: for a small loss of distinctiveness; None keeps the full 128 dimensions.
    mean: np.ndarray | None = None
    basis: np.ndarray | None = None
    #: Prototypes of the artworks too plain for local features (None: there are none, or no
    #: pretrained weights to describe them with).
    plain: PlainIndex | None = None

    def project(self, desc: np.ndarray) -> np.ndarray:
        if self.basis is None or self.mean is None:
            return desc
        # OpenCV's projection; both it and numpy use an OpenBLAS whose idle threads spin after
        # each call, stealing the cores SIFT runs on: the CLI and the apps keep BLAS on one
        # thread (smartlens/blas_threads.py)
        if getattr(self, "_eigen", None) is None:  # OpenCV wants the basis as rows, once
            self._eigen = (
                self.mean[None, :].astype(np.float32),
                np.ascontiguousarray(self.basis.T, np.float32),
            )
        return cv2.PCAProject(np.ascontiguousarray(desc, np.float32), *self._eigen)

    def arrays(self) -> dict[str, np.ndarray]:
        offsets = np.cumsum([0] + [len(b) for b in self.detail_boxes])
        return {
            "g_sizes": self.sizes,
            "g_points": self.points,
            "g_descriptors": self.descriptors.astype(np.float16),
            "g_owner": self.owner,
            "g_thresholds": self.thresholds,
            "g_boxes": np.concatenate(self.detail_boxes) if offsets[-1] else np.zeros((0, 4), np.float32),
            "g_box_offsets": offsets,
            **(
                {"g_mean": self.mean, "g_basis": self.basis}
                if self.basis is not None and self.mean is not None
                else {}
            ),
            **(self.plain.arrays() if self.plain is not None else {}),
        }

    def meta(self) -> dict:
        return {"artwork_ids": self.artwork_ids, "detail_ids": self.detail_ids}

    @classmethod
    def from_arrays(cls, arrays, meta: dict) -> GeometricIndex:
        off = arrays["g_box_offsets"]
        return cls(
            meta["artwork_ids"],
            arrays["g_sizes"],
            meta["detail_ids"],
            [arrays["g_boxes"][off[i] : off[i + 1]] for i in range(len(off) - 1)],
            arrays["g_points"],
            arrays["g_descriptors"].astype(np.float32),
            arrays["g_owner"],
            arrays["g_thresholds"],
            arrays.get("g_mean"),
            arrays.get("g_basis"),
            PlainIndex.from_arrays(arrays),
        )

    @property
    def entries(self) -> int:
        return len(self.descriptors)

    @property
    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in (self.points, self.descriptors, self.owner)))


def query_extractor(params: GeometricParams) -> SiftExtractor | SharpSiftExtractor:
    """What describes a frame (calibration views too, so thresholds fit what frames give)."""
    patches = params.patch_descriptors
    if params.query_sharp:
        return SharpSiftExtractor(
            params.query_features, params.query_side, params.query_contrast, patches=patches
        )
    return SiftExtractor(params.query_features, params.query_side, params.query_contrast, patches)


def fit_pca(
    desc: np.ndarray, dims: int, sample: int = 200_000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and the top ``dims`` principal directions (128 x dims) of descriptors, by OpenCV's PCA
    on a random sample (in double precision, like the projection's inputs deserve)."""
    rng = np.random.default_rng(seed)
    x = desc[rng.permutation(len(desc))[:sample]].astype(np.float64)
    mean, vectors, _ = cv2.PCACompute2(x, mean=None, maxComponents=dims)  # type: ignore[call-overload]
    return mean.ravel().astype(np.float32), np.ascontiguousarray(vectors.T, np.float32)


def describe_artwork(
    image: np.ndarray, boxes: list[Box], params: GeometricParams, sift: SiftExtractor
) -> Features:
    """Keypoints of the whole image plus finer ones from each detail box, in artwork pixels."""
    parts = [sift.extract(image, params.whole_side, params.whole_features)]
    h, w = image.shape[:2]
    for x, y, bw, bh in boxes:
        m = params.detail_margin
        x0, y0 = int(max(0, x - bw * m)), int(max(0, y - bh * m))
        x1, y1 = int(min(w, x + bw * (1 + m))), int(min(h, y + bh * (1 + m)))
        crop = image[y0:y1, x0:x1]
        if min(crop.shape[:2]) < 8:
            continue
        scale = min(4.0, params.detail_side / max(crop.shape[:2]))
        up = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale > 1 else crop
        f = sift.extract(up, params.detail_side, params.detail_features)
        f.points = f.points * (crop.shape[1] / up.shape[1]) + np.array([x0, y0], np.float32)
        parts.append(f)
    return Features(np.concatenate([p.points for p in parts]), np.concatenate([p.descriptors for p in parts]))


#: (N, k) index entries nearest to each keypoint, and their squared distances
Neighbours = tuple[np.ndarray, np.ndarray]


@dataclass
class Candidate:
    artwork: int
    votes: int
    inliers: int = 0
    H: np.ndarray | None = None
    src: np.ndarray | None = None  # inlier points in artwork pixels...
    dst: np.ndarray | None = None  # ...and in the frame


class GeometricMatcher:
    """Matches a frame's features against a :class:`GeometricIndex`."""

    def __init__(self, index: GeometricIndex, params: GeometricParams):
        self.index, self.params = index, params
        # one k-d forest shared by every thread: a search only reads it and keeps its own state per
        # thread (OpenCV's kd-tree takes its search heap per thread id), while a copy per thread
        # would cost memory and seconds of building per recognition slot on a large guide
        self._flann = (
            flann_index(index.descriptors, {"algorithm": 1, "trees": params.flann_trees})
            if len(index.descriptors)
            else None
        )

    def search(self, feats: Features) -> Neighbours:
        """Each keypoint's nearest index entries and their squared distances, (N, k) each."""
        k = min(self.params.neighbours, len(self.index.descriptors))
        assert self._flann is not None
        nn, d2 = self._flann.knnSearch(
            self.index.project(feats.descriptors), k, params={"checks": self.params.flann_checks}
        )
        return nn, d2

    def candidates(self, feats: Features, found: Neighbours | None = None) -> list[Candidate]:
        """The shortlist, verified: best first (``found``: :meth:`search`'s answer, when known)."""
        p, ix = self.params, self.index
        if self._flann is None or len(feats) < 4:
            return []
        nn, d2 = found if found is not None else self.search(feats)
        k = nn.shape[1]
        dist = np.sqrt(np.maximum(d2, 0))
        own = ix.owner[nn]
        accept = np.zeros_like(own, dtype=bool)
        for j in range(k):
            first = np.all(own[:, :j] != own[:, j : j + 1], axis=1) if j else np.ones(len(own), bool)
            later = np.where(own[:, j + 1 :] == own[:, j : j + 1], dist[:, j + 1 :], np.inf)
            second = later.min(axis=1) if j + 1 < k else np.full(len(own), np.inf)
            second = np.where(np.isinf(second), dist[:, -1], second)  # lower bound when unseen
            accept[:, j] = first & (dist[:, j] < p.ratio * second)
        votes = np.bincount(own[accept], minlength=len(ix.artwork_ids))
        order = [int(a) for a in np.argsort(-votes)[: p.shortlist] if votes[a] >= p.min_votes]
        out = []
        for a in order:
            q, col = np.nonzero(accept & (own == a))
            src = ix.points[nn[q, col]]
            dst = feats.points[q]
            cand = Candidate(a, int(votes[a]))
            if len(src) >= 4:
                H, mask = cv2.findHomography(
                    src, dst, cv2.USAC_MAGSAC, p.reproj_px, maxIters=2000, confidence=0.995
                )
                if H is not None and mask is not None:
                    inl = mask.ravel().astype(bool)
                    cand.H, cand.inliers, cand.src, cand.dst = H, int(inl.sum()), src[inl], dst[inl]
                    if p.recount:
                        self._recount(cand, feats, nn, own)
            out.append(cand)
        return sorted(out, key=lambda c: -c.inliers)

    def _recount(self, cand: Candidate, feats: Features, nn: np.ndarray, own: np.ndarray) -> None:
        """Count again with every neighbour of the artwork, not only those that passed the ratio
        test: on a busy wall the ratio test drops many right matches (the wall's keypoints crowd
        the neighbourhood), and a homography only the right artwork fits tells them apart; a wrong
        homography gains almost nothing (a random point lands within a few pixels of its
        prediction rarely). The homography is fitted again on what agrees."""
        p, ix = self.params, self.index
        assert cand.H is not None
        q, col = np.nonzero(own == cand.artwork)
        if len(q) <= cand.inliers:
            return
        src = ix.points[nn[q, col]].astype(np.float64)
        pred = cv2.perspectiveTransform(src[None], cand.H)[0]
        err = np.linalg.norm(pred - feats.points[q], axis=1)
        ok = err < p.reproj_px
        # one match per frame keypoint (its closest prediction) and per artwork keypoint
        order = np.flatnonzero(ok)[np.argsort(err[ok])]
        _, first_q = np.unique(q[order], return_index=True)
        order = order[first_q]
        _, first_src = np.unique(nn[q[order], col[order]], return_index=True)
        order = order[first_src]
        if len(order) <= cand.inliers or len(order) < 4:
            return
        src, dst = src[order].astype(np.float32), feats.points[q[order]]
        H, mask = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, p.reproj_px, maxIters=500, confidence=0.995)
        if H is None or mask is None:
            return
        inl = mask.ravel().astype(bool)
        if inl.sum() > cand.inliers:
            cand.H, cand.inliers, cand.src, cand.dst = H, int(inl.sum()), src[inl], dst[inl]

    def plausible(self, cand: Candidate, frame_size: tuple[int, int]) -> bool:
        """Reject homographies no camera could produce (mirrored, folded, degenerate).

        Judged on the part of the artwork that matched (the inliers' bounding box): in a
        close-up, the rest of a large painting may legitimately project anywhere.
        """
        if cand.H is None or cand.src is None or len(cand.src) < 4:
            return False
        x0, y0 = cand.src.min(axis=0)
        x1, y1 = cand.src.max(axis=0)
        if (x1 - x0) < 4 or (y1 - y0) < 4:
            return False
        quad = project_quad(cand.H, (x0, y0, x1 - x0, y1 - y0), max_w_ratio=4.0)
        if quad is None or not cv2.isContourConvex(quad):
            return False
        area = cv2.contourArea(quad, oriented=True)
        # clockwise in the artwork, counter-clockwise in the frame: a mirror image
        return area > 0.002 * frame_size[0] * frame_size[1]

    def details(self, cand: Candidate, frame_size: tuple[int, int]) -> list[tuple[str, float, Box]]:
        """(id, score, box in frame) of each detail of the accepted artwork that is in view."""
        p, ix = self.params, self.index
        if cand.H is None or cand.src is None:
            return []
        boxes = dict(zip(ix.detail_ids[cand.artwork], ix.detail_boxes[cand.artwork]))
        out = []
        for det_id, vis, bbox in boxes_in_view(cand.H, boxes, frame_size, p.detail_visible, p.detail_area):
            x, y, bw, bh = boxes[det_id]
            inside = int(
                np.sum(
                    (cand.src[:, 0] >= x)
                    & (cand.src[:, 0] <= x + bw)
                    & (cand.src[:, 1] >= y)
                    & (cand.src[:, 1] <= y + bh)
                )
            )
            out.append((det_id, float(min(1.0, vis * (0.5 + inside / 20))), bbox))
        return out


def build_verified_index(
    ref: GuideRef,
    params: GeometricParams,
    calib: CalibrationParams,
    progress: Progress = no_progress,
    plain_params: PlainParams | None = None,
) -> tuple[GeometricIndex, dict[str, Any]]:
    """Describe every artwork, then calibrate each artwork's inlier threshold; artworks too plain
    for local features get prototypes of their outline and look (:mod:`.plain_works`)."""
    plain_params = plain_params or PlainParams()

    def say(fraction: float, message: str) -> None:
        progress(ProgressEvent("indexing", fraction, message))

    sift = SiftExtractor(patches=params.patch_descriptors)
    query = query_extractor(params)  # as frames are described
    pts, desc, owner, ids, sizes, det_ids, det_boxes = [], [], [], [], [], [], []
    plain: list[int] = []
    n = len(ref.guide.artworks)
    for a, art_id, image, boxes in artwork_data(ref):
        say(0.6 * a / max(1, n), f"describing {art_id}")
        f = describe_artwork(image, list(boxes.values()), params, sift)
        if len(f) < plain_params.min_keypoints:
            plain.append(a)
        pts.append(f.points)
        desc.append(f.descriptors)
        owner.append(np.full(len(f), a, np.int32))
        ids.append(art_id)
        sizes.append((image.shape[1], image.shape[0]))
        det_ids.append(list(boxes))
        det_boxes.append(np.array(list(boxes.values()), np.float32).reshape(-1, 4))
    all_desc = np.concatenate(desc) if desc else np.zeros((0, 128), np.float32)
    del desc
    mean = basis = None
    if params.pca_dims and len(all_desc) > 4 * params.pca_dims:
        mean, basis = fit_pca(all_desc, params.pca_dims)
    index = GeometricIndex(
        ids,
        np.array(sizes, np.int32).reshape(-1, 2),
        det_ids,
        det_boxes,
        np.concatenate(pts) if pts else np.zeros((0, 2), np.float32),
        all_desc,
        np.concatenate(owner) if owner else np.zeros(0, np.int32),
        np.full(len(ids), params.min_inliers, np.float32),
        mean,
        basis,
    )
    index.descriptors = index.project(all_desc)
    del all_desc
    matcher = GeometricMatcher(index, params)
    camera = Camera(CameraParams())
    neg_best = np.zeros(len(ids))
    worst = 0
    for i in range(calib.negatives):
        say(0.6 + 0.25 * i / max(1, calib.negatives), "calibrating on negatives")
        view = camera.negative(CALIBRATION_SEED + i)
        frame_size = (view.image.shape[1], view.image.shape[0])
        for c in matcher.candidates(query.extract(view.image)):
            if matcher.plausible(c, frame_size):
                neg_best[c.artwork] = max(neg_best[c.artwork], c.inliers)
                worst = max(worst, c.inliers)
    index.thresholds = np.maximum.reduce(
        [
            np.full(len(ids), params.min_inliers, np.float32),
            np.full(len(ids), worst + 2, np.float32),
            (neg_best + calib.margin).astype(np.float32),
        ]
    )
    pos = []
    for a, art_id, image, boxes in artwork_data(ref, check_every(ref)):
        say(0.85 + 0.15 * a / max(1, n), "checking on views of the artworks")
        for k in range(calib.views_per_artwork):
            view = camera.view(art_id, image, boxes, CALIBRATION_SEED + 1000 * a + k + WHOLE_VIEW_SEEDS)
            frame_size = (view.image.shape[1], view.image.shape[0])
            cands = [
                c
                for c in matcher.candidates(query.extract(view.image))
                if c.artwork == a and matcher.plausible(c, frame_size)
            ]
            pos.append(max((c.inliers for c in cands), default=0) >= index.thresholds[a])
    report: dict[str, Any] = {
        "negatives": calib.negatives,
        "worst_negative_inliers": int(worst),
        "threshold_median": float(np.median(index.thresholds)) if len(ids) else 0.0,
        "calibration_views_accepted": float(np.mean(pos)) if pos else None,
    }
    if plain:
        say(0.95, "describing plain artworks by their outline and look")
        report.update(_plain_fallback(ref, index, plain, plain_params))
    return index, report


def _plain_fallback(
    ref: GuideRef, index: GeometricIndex, plain: list[int], params: PlainParams
) -> dict[str, Any]:
    """Build ``index.plain`` for the ``plain`` artworks; report how well their checks went."""
    names = [index.artwork_ids[a] for a in plain]
    images: dict[int, np.ndarray] = {}
    others: dict[int, tuple[np.ndarray, dict]] = {}
    for a, _id, image, boxes in artwork_data(ref):
        if a in plain:
            images[a] = image
        elif len(others) < 24:  # enough views of other artworks to refuse them
            others[a] = (image, boxes)
    index.plain, detail = build_plain_index(plain, images, others, len(index.artwork_ids), params)
    named = {index.artwork_ids[a]: d["checks_named"] for a, d in detail.items()}
    log.info("plain artworks, named by outline and look (share of check views named): %s", named)
    return {"plain_artworks": names, "plain_checks_named": named}


class VerifiedRetrieval(RetrievalRecognizer):
    """Retrieval by local features and geometric verification: names the artwork and boxes
    every visible detail through the homography; needs no pretrained weights (except to name
    artworks too plain for local features: :mod:`.plain_works`)."""

    mode = RetrievalMode.VERIFIED
    index: GeometricIndex

    def __init__(
        self,
        ref: GuideRef,
        settings: Settings,
        params: GeometricParams | None = None,
        calib: CalibrationParams | None = None,
        progress: Progress = no_progress,
        rebuild: bool = False,
        plain: PlainParams | None = None,
    ):
        self.params = params or GeometricParams()
        self.calib = calib or CalibrationParams()
        self.plain_params = plain or PlainParams()
        self._sift = query_extractor(self.params)
        super().__init__(ref, settings, progress, rebuild)

    def key_extra(self) -> dict[str, Any]:
        return {
            "params": asdict(self.params),
            "calib": asdict(self.calib),
            "plain": asdict(self.plain_params),
        }

    def build_index(self, progress: Progress) -> tuple[GeometricIndex, dict[str, Any]]:
        return build_verified_index(self.ref, self.params, self.calib, progress, self.plain_params)

    def index_from_arrays(self, arrays: Arrays, meta: dict[str, Any]) -> GeometricIndex:
        return GeometricIndex.from_arrays(arrays, meta)

    def prepare(self) -> None:
        self.matcher = GeometricMatcher(self.index, self.params)
        self._artwork_number = {a: i for i, a in enumerate(self.index.artwork_ids)}

    def match(self, frame: np.ndarray) -> Recognition:
        size = (frame.shape[1], frame.shape[0])
        feats = self._sift.extract(frame)
        found = None
        first = self.params.first_look
        if first and len(feats) > first and self.matcher.index.entries:
            head = feats.part(0, first)
            found = self.matcher.search(head)
            sure = [
                c
                for c in self._accepted(self.matcher.candidates(head, found), size)
                if c.inliers >= self.params.sure_inliers * self.index.thresholds[c.artwork]
                and self._holds_centre(c, size)
            ]
            if sure:
                return self._recognised(sure[0], size)
            rest = self.matcher.search(feats.part(first))
            found = (np.concatenate([found[0], rest[0]]), np.concatenate([found[1], rest[1]]))
        accepted = self._accepted(self.matcher.candidates(feats, found), size)
        if not accepted:
            return self._by_overall_look(frame)
        return self._recognised(self._pointed_at(accepted, size), size)

    def _accepted(self, candidates: list[Candidate], size: tuple[int, int]) -> list[Candidate]:
        """The candidates verified: above their artwork's threshold, with a plausible pose."""
        return [
            c
            for c in candidates
            if c.H is not None
            and c.inliers >= self.index.thresholds[c.artwork]
            and self.matcher.plausible(c, size)
        ]

    def _recognised(self, cand: Candidate, size: tuple[int, int]) -> Recognition:
        thr = float(self.index.thresholds[cand.artwork])
        rec = self._placed(cand, size, cand.inliers / (cand.inliers + thr))
        w, h = self.index.sizes[cand.artwork]
        rec.pose = Pose(cand.H, (int(w), int(h)), cand.src, cand.dst)  # type: ignore[arg-type]
        return rec

    def _pointed_at(self, accepted: list[Candidate], size: tuple[int, int]) -> Candidate:
        """Of the artworks verified in a frame (most inliers first), the one the visitor points
        at: the first whose outline holds the frame's centre. On a wall the neighbours are often in
        view too, and one of them can match better than the painting in the middle."""
        return next((c for c in accepted if self._holds_centre(c, size)), accepted[0])

    def _holds_centre(self, cand: Candidate, size: tuple[int, int]) -> bool:
        """Whether the artwork's outline under the candidate's homography holds the frame's centre."""
        w, h = self.index.sizes[cand.artwork]
        quad = outline(cand.H, (int(w), int(h)))  # type: ignore[arg-type]
        centre = (size[0] / 2, size[1] / 2)
        return quad is not None and cv2.pointPolygonTest(np.array(quad, np.float32), centre, False) >= 0

    def _by_overall_look(self, frame: np.ndarray) -> Recognition:
        """The fallback for plain artworks: named by outline and look, outlined, no details or pose."""
        plain = self.index.plain
        if plain is None or not len(plain.prototypes):
            return Recognition(None)
        a, score, quad = plain.nearest(frame)
        if a is None or quad is None:
            return Recognition(None)
        return Recognition(self.index.artwork_ids[a], score, quad=[(float(x), float(y)) for x, y in quad])

    def at_pose(self, artwork: str, pose: Pose, frame_size: tuple[int, int], score: float) -> Recognition:
        """The artwork's outline and visible details at ``pose`` (a tracked one), by the same rules
        as a recognition: what the lens draws between full recognitions."""
        a = self._artwork_number[artwork]
        cand = Candidate(a, 0, len(pose.artwork_points), pose.H, pose.artwork_points, pose.frame_points)
        rec = self._placed(cand, frame_size, score)
        rec.pose, rec.method = pose, f"{self.method}/{self.mode}"
        return rec

    def _placed(self, cand: Candidate, size: tuple[int, int], score: float) -> Recognition:
        assert cand.H is not None
        w, h = self.index.sizes[cand.artwork]
        quad = outline(cand.H, (int(w), int(h)))
        details = [DetailHit(i, s, b) for i, s, b in self.matcher.details(cand, size)]
        return Recognition(self.index.artwork_ids[cand.artwork], score, details, quad=quad)
