"""Parameters of long work (a training, its views) as frozen dataclasses: the one source of defaults.

A parameter class declares each field once, with its default, bounds and help text
(``Annotated[int, Field(ge=1, description=...)]``). The library builds it directly; the CLI's
options, the studio's widgets and a job's ``--param NAME=VALUE`` all read the same class through
:func:`param_infos` and validate through :func:`parse_params` (pydantic, strict about unknown
names, bounds and non-finite numbers), so no front end declares a default of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .errors import UserError


@dataclass(frozen=True)
class ParamInfo:
    """One field of a parameter class, as front ends show it."""

    name: str
    kind: str  # "integer", "number", "boolean", "string", "paths"
    default: Any
    help: str
    label: str
    optional: bool = False  # None is allowed (e.g. no time budget)
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] = ()
    #: Shown under "advanced" in the studio (still an option of the CLI).
    advanced: bool = False
    #: Shown in the studio at all (folders and worker counts belong to the command line).
    studio: bool = True
    #: For a boolean that picks a route: the fields that route does not use (the studio hides
    #: them while it is ticked, so every setting shown is one the training honours).
    ignores: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        """The command-line option (``budget_minutes`` -> ``--budget-minutes``)."""
        return "--" + self.name.replace("_", "-")


@cache
def _adapter(cls: type) -> TypeAdapter:
    return TypeAdapter(cls)


def param_infos(cls: type) -> list[ParamInfo]:
    """The fields of a parameter dataclass, in declaration order, from its JSON Schema."""
    schema = _adapter(cls).json_schema()
    defs = schema.get("$defs", {})
    out = []
    for f in fields(cls):
        prop = schema["properties"][f.name]
        extra = {k: prop[k] for k in ("advanced", "studio", "ignores") if k in prop}
        options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
        body = options[0] if options else {}
        if "$ref" in body:
            body = defs[body["$ref"].split("/")[-1]]
        elif "$ref" in prop:
            body = defs[prop["$ref"].split("/")[-1]]
        kind = body.get("type", "string")
        if kind == "array":
            kind = "paths"
        low = body.get("minimum", body.get("exclusiveMinimum"))
        out.append(
            ParamInfo(
                name=f.name,
                kind=kind,
                default=f.default,
                help=prop.get("description", ""),
                label=prop.get("title", f.name.replace("_", " ").capitalize()),
                optional=len(prop.get("anyOf", [])) > len(options),
                minimum=low,
                maximum=body.get("maximum"),
                exclusive_minimum="exclusiveMinimum" in body,
                choices=tuple(body.get("enum", ())),
                advanced=bool(extra.get("advanced", False)),
                studio=bool(extra.get("studio", True)),
                ignores=tuple(extra.get("ignores", ())),
            )
        )
    return out


def parse_params(cls: type, raw: Mapping[str, Any], what: str = "parameter") -> Any:
    """An instance of ``cls`` from ``raw`` (JSON values or text: ``"5"``, ``"yes"``, ``"light"``),
    the class' defaults for what is missing; a :class:`UserError` naming every bad field (unknown
    names, wrong types, values out of bounds, NaN or infinity) otherwise."""
    optional = {i.name for i in param_infos(cls) if i.optional}
    # 'none' as text (a command-line option, a job parameter) is how people leave an optional value out
    values = {
        k: None if k in optional and isinstance(v, str) and v.lower() == "none" else v for k, v in raw.items()
    }
    try:
        return _adapter(cls).validate_python(values)
    except ValidationError as exc:
        known = ", ".join(f.name for f in fields(cls))
        problems = []
        for e in exc.errors():
            name = ".".join(str(p) for p in e["loc"]) or "(all)"
            value = e.get("input")
            shown = f" (got {value!r})" if not isinstance(value, dict) else ""
            hint = f"; known: {known}" if e["type"] == "unexpected_keyword_argument" else ""
            problems.append(f"{what} {name}: {e['msg']}{shown}{hint}")
        raise UserError("; ".join(problems)) from None


def describe_default(value: Any) -> str:
    """A default as people read it (``None`` -> 'none', a float without noise)."""
    if value is None or value == ():
        return "none"
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value)
