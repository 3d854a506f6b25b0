"""The kinds of job there are, and the parameters each accepts: checked before a job starts
(``job start``, the studio) and again inside its process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import UserError

if TYPE_CHECKING:
    from ..methods import Training

#: Each kind of job, and what people call it.
KINDS = {"views": "training views", "index": "retrieval index", "train": "training"}
#: Seconds a job is given to end by itself once cancelled, before it is killed: a training ends
#: its batch, calibrates and saves its best model so far (the default for the others).
CANCEL_GRACE_S = {"train": 180.0}
DEFAULT_CANCEL_GRACE_S = 10.0


def training_params(params: dict[str, Any]) -> tuple[Training, Any]:
    """How the job's method trains, and its parameters validated (``method`` names the method,
    classification by default; the rest are the method's parameters)."""
    from ..methods import training_of
    from ..params import parse_params
    from ..vocabulary import Method

    raw = dict(params)
    training = training_of(str(raw.pop("method", Method.CLASSIFICATION)))
    return training, parse_params(training.params, raw)


def check_params(kind: str, params: dict[str, Any]) -> None:
    """Refuse a job's parameters before it starts (a :class:`UserError` naming each bad one)."""
    if kind in ("views", "train"):
        training_params(params)
    elif kind == "index":
        from ..methods import method_spec
        from ..vocabulary import Method

        unknown = sorted(set(params) - {"mode", "rebuild"})
        if unknown:
            raise UserError(f"unknown parameter(s) {', '.join(unknown)} (known: mode, rebuild)")
        modes = method_spec(Method.RETRIEVAL).modes
        if params.get("mode", modes[0]) not in modes:
            raise UserError(f"parameter mode: {params['mode']!r} is not one of {', '.join(modes)}")
    else:
        raise UserError(f"unknown job kind {kind!r}: choose one of {', '.join(KINDS)}")
