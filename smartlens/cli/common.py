"""What every command group shares: registering handlers, printing progress, parameter options."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ..config import Settings
from ..params import ParamInfo, describe_default, param_infos, parse_params
from ..progress import Progress, ProgressEvent

Handler = Callable[[argparse.Namespace, Settings], int]
Subparsers = Any  # argparse's _SubParsersAction, private in typeshed


def handles(parser: argparse.ArgumentParser, handler: Handler) -> argparse.ArgumentParser:
    """Make ``handler`` what runs when ``parser``'s command is given."""
    parser.set_defaults(handler=handler)
    return parser


def progress_printer(label: str) -> Progress:
    """A progress callback that redraws one console line (stderr)."""
    last = [-1]

    def show(event: ProgressEvent) -> None:
        pct = int(event.fraction * 100)
        if pct != last[0]:
            last[0] = pct
            end = "\n" if event.fraction >= 1 else ""
            extra = " ".join(f"{k}={v}" for k, v in event.metrics.items() if k not in ("done", "total"))
            message = f"{event.message} {extra}".strip()
            print(f"\r{label}: {pct:3d}% {message[:70]:<70}", end=end, file=sys.stderr, flush=True)

    return show


#: Command-line spellings that differ from a field's name (kept from earlier releases).
FLAGS = {"negative_dirs": "--negatives-dir"}


def _flag(info: ParamInfo) -> str:
    return FLAGS.get(info.name, info.flag)


def add_param_options(
    parser: argparse.ArgumentParser, classes: dict[str, type], skip: Iterable[str] = ()
) -> None:
    """One option per field of the parameter ``classes`` (method name -> class), with the field's
    help and each method's default; nothing is defaulted here, so a value not given is the
    class' own default (read back with :func:`params_from_args`)."""
    skipped = set(skip)
    infos: dict[str, list[tuple[str, ParamInfo]]] = {}
    for method, cls in classes.items():
        for info in param_infos(cls):
            if info.name not in skipped:
                infos.setdefault(info.name, []).append((method, info))
    group = parser.add_argument_group("parameters (defaults per method)")
    for name, seen in infos.items():
        info = seen[0][1]
        defaults = {describe_default(i.default) for _, i in seen}
        if len(defaults) == 1:
            shown = f"default {defaults.pop()}"
        else:
            shown = "default " + ", ".join(f"{describe_default(i.default)} ({m})" for m, i in seen)
        if len(seen) < len(classes):
            shown += "; " + ", ".join(m for m, _ in seen) + " only"
        kwargs: dict[str, Any] = {
            "dest": name,
            "default": argparse.SUPPRESS,
            "help": f"{info.help} ({shown})",
        }
        if info.kind == "boolean":
            kwargs["action"] = argparse.BooleanOptionalAction
        elif info.kind == "paths":
            kwargs["action"] = "append"
        elif info.choices:
            kwargs["choices"] = info.choices
        group.add_argument(_flag(info), **kwargs)


def params_from_args(cls: type, args: argparse.Namespace, **fixed: Any) -> Any:
    """An instance of parameter class ``cls`` from the options given (the class' defaults for the
    rest), validated: a :class:`~smartlens.errors.UserError` names each bad option."""
    given = {f.name: getattr(args, f.name) for f in param_infos(cls) if hasattr(args, f.name)}
    return parse_params(cls, {**given, **fixed}, "option")
