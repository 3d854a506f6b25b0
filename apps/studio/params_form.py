"""Widgets for a method's training parameters, generated from its parameter class: the labels,
help texts, bounds and defaults are the library's own (nothing is declared twice)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import streamlit as st

from smartlens.params import ParamInfo, param_infos


def _widget(container: Any, info: ParamInfo, key: str) -> Any:
    label, help_ = info.label, info.help[:1].upper() + info.help[1:]
    if info.kind == "boolean":
        return container.checkbox(label, value=bool(info.default), help=help_, key=key)
    if info.choices:
        choices = list(info.choices)
        return container.selectbox(
            label, choices, index=choices.index(str(info.default)), help=help_, key=key
        )
    integer = info.kind == "integer"
    cast = int if integer else float
    low = None if info.minimum is None else cast(info.minimum)
    if low is not None and info.exclusive_minimum:  # "more than": the widget's bound is inclusive
        low = low + 1 if integer else low + 1e-6
    scale = abs(float(info.default or 1.0))
    return container.number_input(
        label,
        min_value=low,
        max_value=None if info.maximum is None else cast(info.maximum),
        value=None if info.default is None else cast(info.default),
        step=1 if integer else (0.5 if scale >= 1 else scale / 2),
        format=None if integer else "%g",
        help=help_ + (" Leave empty for none." if info.optional else ""),
        key=key,
    )


def route_toggles(params_cls: type, key: str) -> dict[str, Any]:
    """The booleans of ``params_cls`` that pick a route (their ``ignores`` name the fields that
    route does not use), drawn *outside* a form: ticking one redraws the page, and
    :func:`params_form` then leaves out what that route would ignore."""
    return {
        info.name: _widget(st, info, f"{key}-{info.name}")
        for info in param_infos(params_cls)
        if info.studio and info.ignores
    }


def ignored(params_cls: type, toggles: dict[str, Any]) -> set[str]:
    """The fields the routes ticked in ``toggles`` do not use (not shown, not sent)."""
    return {name for info in param_infos(params_cls) if toggles.get(info.name) for name in info.ignores}


def params_form(
    params_cls: type, key: str, only: set[str] | None = None, skip: Collection[str] = ()
) -> dict[str, Any]:
    """Draw the studio's widgets for ``params_cls`` (inside the caller's form) and return the values
    chosen; ``only`` limits them to those names, ``skip`` leaves those out. Advanced ones go in an
    expander."""
    infos = [
        i
        for i in param_infos(params_cls)
        if i.studio and (only is None or i.name in only) and i.name not in skip
    ]
    values: dict[str, Any] = {}
    basic = [i for i in infos if not i.advanced]
    columns = list(st.columns(min(4, max(1, len(basic)))))
    for n, info in enumerate(basic):
        values[info.name] = _widget(columns[n % len(columns)], info, f"{key}-{info.name}")
    advanced = [i for i in infos if i.advanced]
    if advanced:
        with st.expander("Advanced"):
            columns = list(st.columns(3))
            for n, info in enumerate(advanced):
                values[info.name] = _widget(columns[n % 3], info, f"{key}-{info.name}")
    return values
