"""``python -m smartlens ...``: one command line for guides, recognition, training and benchmarks.

Each command group is a module with a ``register(subparsers)`` that adds its commands, each bound
to its handler (``handler(args, settings) -> exit status``):

- :mod:`.guides`: ``guide ...``, ``demo``, ``info``;
- :mod:`.recognition`: ``index``, ``recognize``, ``annotate``;
- :mod:`.training`: ``augment``, ``train``, ``gate`` (options from each method's parameter class);
- :mod:`.jobs`: ``job run|start|list|cancel``;
- :mod:`.visitors`: ``stats``, ``events ...``;
- :mod:`.serve`: ``lens``, ``studio``, ``qr``, ``cert``;
- :mod:`.bench`: ``bench NAME``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ..allocator import keep_freed_memory
from ..blas_threads import single_threaded_blas
from ..config import load_settings
from ..errors import USER_ERRORS
from ..escaping import TerminalSafe, terminal_lines
from . import bench, guides, jobs, recognition, serve, training, visitors

GROUPS = (guides, recognition, training, jobs, visitors, serve, bench)


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, every group's commands registered."""
    p = argparse.ArgumentParser(
        prog="smartlens",
        description="SmartLens: a phone as a smart lens for museums (guides, recognition, training).",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = p.add_subparsers(dest="cmd", required=True)
    for group in GROUPS:
        group.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; the only place besides the apps that reads the environment."""
    # TensorFlow's C++ start-up chatter hides the messages people need; users can still raise it
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    if not isinstance(sys.stdout, TerminalSafe):
        sys.stdout = TerminalSafe(sys.stdout)  # nothing printed acts on the terminal
    keep_freed_memory()  # before the first frame: per-frame buffers then stay mapped (see allocator)
    single_threaded_blas()  # no idle BLAS thread spinning on a core between frames (see blas_threads)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args, load_settings()))
    except USER_ERRORS as exc:
        print(f"error: {terminal_lines(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
