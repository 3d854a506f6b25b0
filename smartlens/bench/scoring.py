"""Scoring recognisers against the virtual camera's ground truth.

A reported detail counts as found when the view shows it and, if the method gives a box, the
box overlaps the truth at IoU >= :data:`DETAIL_IOU`; negatives are counted apart by kind: held-out
real paintings (``painting:<id>``) and the procedural walls, rooms and pictures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..geometry import box_iou
from ..recognition.result import Recognition
from ..synth.camera import View
from .timing import summary

#: A detail counts as present when this much of it is in the frame and it is this large...
PRESENT_VISIBLE, PRESENT_AREA = 0.7, 0.01
#: ...and as absent when less than this much is visible (in between: not scored either way).
ABSENT_VISIBLE, ABSENT_AREA = 0.3, 0.002
#: A detail box counts as right at this overlap with the true box.
DETAIL_IOU = 0.5
#: Kind prefix of negatives showing a held-out real painting (see bench.views.held_out_views).
PAINTING_KIND = "painting:"


def detail_state(view: View, detail_id: str) -> str:
    """'present', 'absent' or 'unsure' (not scored) for a detail in a view."""
    t = view.details.get(detail_id)
    if t is None or t.visible < ABSENT_VISIBLE or t.area < ABSENT_AREA:
        return "absent"
    if t.visible >= PRESENT_VISIBLE and t.area >= PRESENT_AREA:
        return "present"
    return "unsure"


def true_class(view: View) -> str | None:
    """The class a whole-frame classifier should give: the detail for close-ups, else the artwork."""
    if view.artwork is None:
        return None
    return f"{view.artwork}/{view.focus}" if view.kind == "detail" else view.artwork


def predicted_class(r: Recognition) -> str | None:
    if r.artwork is None:
        return None
    if r.details and r.details[0].box is None:  # a classifier's detail class
        return f"{r.artwork}/{r.details[0].id}"
    return r.artwork


def _conditions(view: View) -> str:
    return f" [{', '.join(view.conditions)}]" if view.conditions else ""


@dataclass
class Score:
    views: int = 0
    correct: int = 0
    class_correct: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    negatives: int = 0
    false_positives: int = 0
    painting_negatives: int = 0  # negatives showing held-out real paintings
    painting_false_positives: int = 0
    ms: list[float] = field(default_factory=list)
    yard_ms: list[float] = field(default_factory=list)  # the yardstick, frame by frame alongside
    failures: list[str] = field(default_factory=list)
    #: condition (or view kind) -> [views, right]: artwork top-1 per kind of difficulty
    conditions: dict[str, list[int]] = field(default_factory=dict)

    def add(self, view: View, r: Recognition) -> None:
        self.ms.append(r.ms)
        if view.artwork is None:
            painting = view.kind.startswith(PAINTING_KIND)
            self.negatives += 1
            self.painting_negatives += painting
            if r.artwork is not None:
                self.false_positives += 1
                self.painting_false_positives += painting
                self.failures.append(f"negative ({view.kind}{_conditions(view)}) -> {r.artwork}")
            return
        self.views += 1
        ok = r.artwork == view.artwork
        self.correct += ok
        for c in (view.kind, *(view.conditions or ("no visitors, glass or dim light",))):
            seen = self.conditions.setdefault(c, [0, 0])
            seen[0] += 1
            seen[1] += ok
        self.class_correct += predicted_class(r) == true_class(view)
        if not ok:
            self.failures.append(
                f"{view.artwork} {view.kind}{'/' + view.focus if view.focus else ''}{_conditions(view)} "
                f"-> {r.artwork}"
            )
        hits = {d.id: d for d in r.details} if ok else {}
        wrong_art = r.artwork is not None and not ok
        for det in view.details:
            state = detail_state(view, det)
            hit = hits.get(det)
            truth = view.details[det].box
            placed = hit is not None and (
                hit.box is None or (truth is not None and box_iou(hit.box, truth) >= DETAIL_IOU)
            )
            if state == "present":
                self.tp += placed
                self.fn += not placed
                self.fp += hit is not None and not placed  # named, but its box is elsewhere
            elif state == "absent" and hit is not None:
                self.fp += 1
        if wrong_art:  # every detail reported on a wrong artwork is a false one
            self.fp += len(r.details)

    def metrics(self) -> dict:
        def pct(a: int, b: int) -> float | None:
            return round(100.0 * a / b, 1) if b else None

        return {
            "artwork_top1": pct(self.correct, self.views),
            "class_top1": pct(self.class_correct, self.views),
            "detail_precision": pct(self.tp, self.tp + self.fp),
            "detail_recall": pct(self.tp, self.tp + self.fn),
            "negatives_fp": pct(self.false_positives, self.negatives),
            "fp_held_out_paintings": pct(self.painting_false_positives, self.painting_negatives),
            "fp_other_negatives": pct(
                self.false_positives - self.painting_false_positives, self.negatives - self.painting_negatives
            ),
            **summary(self.ms),
            **({f"yardstick_{k}": v for k, v in summary(self.yard_ms).items()} if self.yard_ms else {}),
            "p95_vs_yardstick": (
                round(float(np.percentile(self.ms, 95) / np.percentile(self.yard_ms, 95)), 2)
                if self.yard_ms and self.ms
                else None
            ),
            "by_condition": {c: pct(right, seen) for c, (seen, right) in sorted(self.conditions.items())},
            "views": self.views,
            "negatives": self.negatives,
            "painting_negatives": self.painting_negatives,
        }


def evaluate(recognize, views: list[View], negatives: list[View], ruler=None) -> Score:
    """Score ``recognize`` on every view. With ``ruler`` (a fixed piece of work on a frame), it is
    timed on each frame right after the method, so both see the machine at the same speed."""
    score = Score()
    for v in views + negatives:
        score.add(v, recognize(v.image))
        if ruler is not None:
            t0 = time.perf_counter()
            ruler(v.image)
            score.yard_ms.append((time.perf_counter() - t0) * 1000)
    return score
