"""A recognition method is one unit: one spec in one registry, one source of defaults, no import cycle."""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

import pytest

from smartlens import cli
from smartlens.errors import UserError
from smartlens.jobs.kinds import check_params, training_params
from smartlens.methods import METHODS, method_spec, trainable, training_of
from smartlens.params import param_infos, parse_params
from smartlens.vocabulary import Method, choices

from conftest import ROOT

PACKAGE = ROOT / "smartlens"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(unresolved: list[str] | None = None) -> dict[str, set[str]]:
    """Module -> the smartlens modules it imports anywhere in its code (functions included), each
    import also counting the packages above the imported module (Python runs their __init__).
    Imports of smartlens modules that do not exist are added to ``unresolved``."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    unresolved = [] if unresolved is None else unresolved
    for name, path in modules.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                mod = ".".join(base + ([node.module] if node.module else []))
                targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
                if mod not in modules and (node.level or mod.startswith("smartlens")):
                    unresolved.append(f"{name}:{node.lineno} {'.' * node.level}{node.module or ''}")
            for t in targets:
                parts = t.split(".")
                for i in range(1, len(parts) + 1):
                    up = ".".join(parts[:i])
                    # a module's own parent packages are already running when it is imported
                    if up in modules and up != name and not name.startswith(up + "."):
                        graph[name].add(up)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_and_every_import_resolves():
    unresolved: list[str] = []
    graph = import_graph(unresolved)
    assert len(graph) > 50 and sum(map(len, graph.values())) > 300  # the walk saw the package
    assert cycles(graph) == []
    assert unresolved == []  # e.g. a relative import left pointing where a module used to be


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _branches_on_a_method(tree: ast.AST) -> list[int]:
    """Lines comparing something with a method's name (``method == Method.DETECTION``,
    ``x.startswith("retrieval")``): dispatch that belongs in the registry."""
    names = set(choices(Method))

    def is_method(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Method"
        ) or (isinstance(node, ast.Constant) and node.value in names)

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(is_method(n) for n in [node.left, *node.comparators]):
            lines.append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("startswith", "endswith")
            and any(is_method(a) for a in node.args)
        ):
            lines.append(node.lineno)
    return lines


def test_no_branch_on_a_method_name_outside_the_registry():
    found = {}
    for folder in ("smartlens", "apps"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.is_relative_to(PACKAGE / "methods"):
                continue
            lines = _branches_on_a_method(ast.parse(path.read_text()))
            if lines:
                found[str(path.relative_to(ROOT))] = lines
    assert found == {}
    assert _branches_on_a_method(ast.parse("if method == Method.DETECTION: pass")) == [1]


def test_registry_holds_every_method_once():
    assert list(METHODS) == choices(Method)
    assert [s.name for s in trainable()] == [Method.CLASSIFICATION, Method.DETECTION]
    assert method_spec("retrieval/baseline") is METHODS[Method.RETRIEVAL]
    with pytest.raises(UserError, match="unknown method"):
        method_spec("telepathy")
    with pytest.raises(UserError, match="needs no training"):
        training_of(Method.RETRIEVAL)


@pytest.mark.parametrize("spec", trainable(), ids=lambda s: s.name)
def test_defaults_come_from_the_parameter_class_everywhere(spec):
    """The library's defaults, the CLI's (no option given), a job's (no parameter given) and the
    studio's widgets' are the parameter class' own."""
    training = spec.training
    library = training.params()
    args = cli.build_parser().parse_args(["train", "--guide", "g", "--method", spec.name])
    assert cli.common.params_from_args(training.params, args) == library
    assert training_params({"method": spec.name}) == (training, library)
    studio = {i.name: i.default for i in param_infos(training.params) if i.studio}
    assert studio == {k: v for k, v in dataclasses.asdict(library).items() if k in studio}


def test_detection_keeps_its_own_defaults_through_the_cli_and_jobs():
    det, cls = training_of(Method.DETECTION).params(), training_of(Method.CLASSIFICATION).params()
    assert (det.per_image, det.negatives) != (cls.per_image, cls.negatives)
    args = cli.build_parser().parse_args(["train", "--guide", "g", "--method", "detection", "--epochs", "3"])
    got = cli.common.params_from_args(training_of(Method.DETECTION).params, args)
    assert (got.per_image, got.negatives, got.epochs) == (det.per_image, det.negatives, 3)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"budget_minutes": "abc"}, "budget_minutes"),
        ({"epochs": -5}, "epochs"),
        ({"rm_rf": "yes"}, "rm_rf"),
        ({"budget_minutes": float("nan")}, "finite"),
        ({"preset": "extreme"}, "preset"),
        ({"method": "telepathy"}, "unknown method"),
    ],
)
def test_job_parameters_are_checked_before_a_job_starts(raw, message):
    with pytest.raises(UserError, match=message):
        check_params("train", raw)


def test_text_values_become_typed_parameters():
    p = parse_params(
        training_of(Method.DETECTION).params,
        {"budget_minutes": "none", "epochs": "7", "frozen_backbone": "no"},
    )
    assert p.budget_minutes is None and p.epochs == 7 and p.frozen_backbone is False
