"""``smartlens stats`` and ``events ...``: the visitors' figures and the event store."""

from __future__ import annotations

import argparse

from ..config import Settings
from ..errors import UserError
from .common import Subparsers, handles


def _filters(args: argparse.Namespace):
    from datetime import date

    from ..analytics.stats import Filters

    def day(text: str | None, flag: str) -> date | None:
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            raise UserError(f"--{flag}: {text!r} is not a date (YYYY-MM-DD)") from None

    return Filters(args.guide, day(args.since, "since"), day(args.until, "until"))


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    """Aggregated figures only (never raw events), groups under 5 visits hidden: an export."""
    from ..analytics import privacy
    from ..analytics.stats import Options, figures, guides, render
    from ..analytics.titles import load_titles

    if args.min_group < privacy.MIN_GROUP:
        raise UserError(f"--min-group must be at least {privacy.MIN_GROUP} (k-anonymity of exports)")
    if not 0 < args.reference_s <= 86_400:
        raise UserError("--reference-s must be between 0 and 86400 seconds")
    filters = _filters(args)
    names = [filters.guide] if filters.guide else guides(settings.events_dir)
    options = Options(load_titles(settings, names, args.language), args.reference_s, args.min_group)
    print(render(figures(settings.events_dir, filters, options=options), args.format, args.min_group))
    return 0


def _retention_days(args: argparse.Namespace, settings: Settings) -> int:
    return settings.event_retention_days if args.retention_days is None else args.retention_days


def _compacted(r, folder, what: str) -> bool:
    """False (with the reason printed) when a compaction did nothing: read-only folder or busy."""
    if r.read_only:
        raise UserError(f"{folder} is read-only (or not writable by this user): nothing {what}")
    if r.busy:
        print(f"another compaction is running; nothing {what}")
        return False
    return True


def _compact(args: argparse.Namespace, settings: Settings) -> int:
    from ..analytics.store import compact

    days = _retention_days(args, settings)
    r = compact(settings.events_dir, days)
    if _compacted(r, settings.events_dir, "compacted"):
        print(
            f"merged {r.merged} file(s) into {r.output.name if r.output else 'nothing'}: {r.events} events kept, "
            f"{r.pruned} older than {days} days deleted, {r.removed} file(s) removed"
            + (f" ({r.leftovers} left by killed compactions)" if r.leftovers else "")
            + f" ({r.seconds:.2f} s)"
        )
    return 0


def _prune(args: argparse.Namespace, settings: Settings) -> int:
    from ..analytics.store import compact

    days = _retention_days(args, settings)
    if days <= 0:
        raise UserError("retention is off (event_retention_days = 0): give --retention-days N")
    r = compact(settings.events_dir, days, min_files=1)
    if _compacted(r, settings.events_dir, "pruned"):
        print(f"{r.pruned} events older than {days} days deleted")
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from ..analytics.store import health

    h = health(settings.events_dir)
    state = "writable" if h.writable else "NOT writable"
    print(f"{h.folder}: {h.files} file(s), {h.bytes / 1e6:.1f} MB, {state}")
    for w in h.writers:
        print(
            f"  writer {w['writer']} ({'live' if w['live'] else 'gone'}): written {w['written']}, "
            f"dropped {w['dropped']}, failed {w['failed']}"
            + (f", error: {w['error']}" if w.get("error") else "")
        )
    if h.leftovers:
        print(
            f"leftovers: {len(h.leftovers)} file(s), {h.leftover_bytes / 1e6:.1f} MB, of interrupted compactions or "
            "conversions (no event is lost: `smartlens events compact` deletes them)"
        )
        for p in h.leftovers:
            print(f"  {p.relative_to(h.folder)}")
    if h.problem:
        print(f"problem: {h.problem}")
    return 1 if h.problem else 0


def register(sub: Subparsers) -> None:
    """``stats``, ``events compact|prune|status``."""
    st = handles(
        sub.add_parser("stats", help="visitor statistics: what was looked at, when, how (from data/events)"),
        _stats,
    )
    st.add_argument("--guide", help="one guide only")
    st.add_argument("--since", help="first day, YYYY-MM-DD (local time)")
    st.add_argument("--until", help="last day, YYYY-MM-DD (inclusive)")
    st.add_argument("--format", choices=["table", "csv", "json"], default="table")
    st.add_argument("--language", help="language of the works' titles (default: each guide's own)")
    st.add_argument(
        "--reference-s", type=float, default=17.0, help="holding power: seconds at a work to compare with"
    )
    st.add_argument(
        "--min-group", type=int, default=5, help="smallest group of visits shown (at least 5; k-anonymity)"
    )
    ev = sub.add_parser("events", help="the visitor-event store: compact, prune, status").add_subparsers(
        dest="sub", required=True
    )
    for name, handler, helptext in (
        ("compact", _compact, "merge small segment files (and apply the retention setting)"),
        ("prune", _prune, "delete events older than the retention setting"),
    ):
        handles(ev.add_parser(name, help=helptext), handler).add_argument(
            "--retention-days", type=int, help="override event_retention_days (0 keeps everything)"
        )
    handles(
        ev.add_parser(
            "status", help="files, size, whether it can be written, each lens writer's counts, leftovers"
        ),
        _status,
    )
