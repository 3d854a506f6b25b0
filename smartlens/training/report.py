"""A trained model's figures on its report views: what ``metrics.json``, the studio's model table
and ``smartlens train`` show.

The report views (:mod:`.unseen`) were never used for any choice (not the best epoch, not a
threshold, not the gate). The model is scored through its recogniser as the lens runs it
(thresholds and open-set gate included), frame by frame, exactly as the benchmark scores a
method (:mod:`smartlens.bench.scoring`): artwork top-1, class top-1, detail precision and
recall (a box counts at IoU >= 0.5), negatives named, split into other paintings and the rest;
in all, and for each benchmark level whose camera drew the views (``levels``), to hold beside that
level's figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..augment.engine import read_labels
from ..bench.scoring import Score
from ..guide import GuideRef
from ..progress import Progress, ProgressEvent, StopSignal, no_progress
from .clock import TrainingCancelledError
from .unseen import view_of


def report_figures(
    recognizer: Any,
    folder: Path,
    ref: GuideRef,
    progress: Progress = no_progress,
    stop: StopSignal | None = None,
) -> dict[str, Any]:
    """The benchmark's figures of ``recognizer`` on the report views in ``folder``, with how many
    views they rest on (``views``: of the guide's artworks; ``negatives``; ``check_photos``), in
    all and per level (``levels``: level -> the same figures on the views its camera drew)."""
    details = {a.id: {d.id for d in a.details} for a in ref.guide.artworks}
    records = read_labels(Path(folder))
    score = Score()
    levels: dict[str, Score] = {}
    for i, record in enumerate(records):
        if stop is not None and stop.is_set():
            raise TrainingCancelledError("the report was interrupted")
        if i % 16 == 0:
            progress(ProgressEvent("report", i / max(1, len(records)), f"report views: {i}/{len(records)}"))
        view = view_of(Path(folder), record, details)
        result = recognizer.recognize(view.image)
        score.add(view, result)
        if record.get("level"):
            levels.setdefault(record["level"], Score()).add(view, result)
    progress(ProgressEvent("report", 1.0, f"report views: {len(records)}/{len(records)}"))
    checks = sum(1 for r in records if not r.get("boxes_known", True))
    return {
        **score.metrics(),
        "check_photos": checks,
        "levels": {level: levels[level].metrics() for level in sorted(levels)},
    }


def report_line(report: dict[str, Any]) -> str:
    """The report's figures in one line, with how many views they rest on."""
    if not report:
        return "no report figures"
    if report.get("skipped"):
        return f"no report figures ({report['skipped']})"
    checks = f", {report['check_photos']} check photos" if report.get("check_photos") else ""
    line = (
        f"report set ({report.get('views')} views{checks}, {report.get('negatives')} negatives): "
        f"artwork top-1 {report.get('artwork_top1')}%, negatives named {report.get('negatives_fp')}%"
    )
    if report.get("painting_negatives"):
        line += f" (other paintings {report.get('fp_held_out_paintings')}%)"
    for level, figures in (report.get("levels") or {}).items():
        recall = figures.get("detail_recall")
        line += (
            f"; {level} level's camera ({figures.get('views')} views, {figures.get('negatives')} negatives): "
            f"top-1 {figures.get('artwork_top1')}%"
            + ("" if recall is None else f", detail recall {recall}%")
            + f", negatives named {figures.get('negatives_fp')}%"
        )
    return line


def older_figures(metrics: dict[str, Any], key: str, name: str) -> str:
    """The figures of a model trained before report sets existed (its held-out views were like
    its training views: they overrate it on new views)."""
    held = metrics.get("held_out") or {}
    return f"no report set (older model): held-out {name} {held.get(key)}% on views like its training views"
