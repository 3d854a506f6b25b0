"""A guide's trained models as people see them in a list: method, date, the report set's figures
(with how many views they rest on) and the open-set gate, read from each model folder."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import USER_ERRORS
from ..model_store import list_models, read_info, read_model_json
from .registry import METHODS


@dataclass(frozen=True)
class ModelSummary:
    """One trained model, described for lists (the studio's table, its Publish list)."""

    name: str
    method: str
    created: float
    minutes: float
    #: The report set's figures in one line (or, for an older model, what it has).
    figures: str
    #: The short form for a list: top-1 and negatives named on the report set, and how many views.
    short: str
    gate: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        spec = METHODS.get(self.method)
        return spec.title if spec else self.method

    @property
    def date(self) -> str:
        return time.strftime("%d %b %H:%M", time.localtime(self.created))

    @property
    def label(self) -> str:
        """Method, date, figures and folder name: how a model is named in every list."""
        return f"{self.title} · {self.date} · {self.short} · {self.name}"

    @property
    def gate_line(self) -> str:
        """What the open-set gate does, in words."""
        g = self.gate
        if not g:
            return "no (trained before this gate: run smartlens gate)"
        if not g.get("available"):
            return f"no ({g.get('why', 'not built')})"
        return (
            f"yes: keeps {100 * (g.get('kept') or 0):.0f}% of right answers on validation views, "
            f"names {100 * (g.get('negatives_named') or 0):.1f}% of negatives"
        )


def _short(metrics: dict[str, Any]) -> str:
    report = metrics.get("report") or {}
    if report.get("views"):
        return (
            f"report: top-1 {report.get('artwork_top1')}% of {report['views']} views, "
            f"negatives named {report.get('negatives_fp')}% of {report.get('negatives')}"
        )
    if report.get("skipped"):
        return "no report (cancelled)"
    return "no report set (older model)"


def summarize(model_dir: Path) -> ModelSummary:
    """A model folder described for a list (a damaged folder raises a UserError naming it)."""
    info = read_info(model_dir)
    metrics = read_model_json(Path(model_dir), "metrics.json", dict)
    method = str(info.get("method", ""))
    spec = METHODS.get(method)
    figures = spec.training.figures(metrics) if spec and spec.training else ""
    created = info.get("created", 0)
    return ModelSummary(
        Path(model_dir).name,
        method,
        float(created) if isinstance(created, (int, float)) else 0.0,
        round(float(info.get("seconds", 0) or 0) / 60, 1),
        figures,
        _short(metrics),
        metrics.get("open_set_gate") or {},
    )


def guide_models(guide: str, settings: Settings) -> list[ModelSummary]:
    """Every readable model of a guide, newest first."""
    out = []
    for model in reversed(list_models(guide, settings)):
        try:
            out.append(summarize(model))
        except USER_ERRORS:
            continue
    return out
