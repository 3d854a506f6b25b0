"""``smartlens guide ...``, ``demo`` and ``info``: guides in and out, and what is installed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..config import Settings
from ..errors import UserError
from .common import Subparsers, handles


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from ..guide import guide_dir, save_guide
    from ..guide.formats.coco import import_coco
    from ..guide.formats.paintings import import_paintings
    from ..storage import check_id

    name = check_id(args.name, "guide name")
    src = Path(args.src)
    if src.suffix == ".json" and src.name != "artworks.json":
        if not args.images:
            raise UserError(
                "importing a COCO file needs --images DIR (the folder its file_name values are relative to)"
            )
        imp = import_coco(src, Path(args.images), name, args.language, settings.image_limits)
    else:
        imp = import_paintings(src, name, args.language, settings.image_limits)
    ref = save_guide(
        imp.guide,
        guide_dir(name, settings),
        files=imp.files,
        replace=args.force,
        limits=settings.image_limits,
        backup=True,
    )
    n_details = sum(len(a.details) for a in ref.guide.artworks)
    print(
        f"imported guide '{name}': {len(ref.guide.artworks)} artworks, {n_details} details, "
        f"languages {', '.join(ref.guide.languages)} -> {ref.root}"
    )
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from ..guide import load_guide
    from ..guide.formats.coco import export_coco

    out = export_coco(load_guide(args.guide, settings), Path(args.out), copy_media=not args.no_media)
    print(f"wrote {out}")
    return 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from ..guide import load_guide, validate

    ref = load_guide(args.guide, settings)
    # every file read for what it is (pictures decoded, audio and video probed, captions read)
    validate(ref.guide, ref.root, str(ref.root / "guide.json"), settings.image_limits, deep=True)
    print(
        f"guide '{ref.guide.name}' is valid: {len(ref.guide.artworks)} artworks, "
        f"{sum(len(a.details) for a in ref.guide.artworks)} details, languages {', '.join(ref.guide.languages)}"
    )
    return 0


def _schema(args: argparse.Namespace, settings: Settings) -> int:
    from ..guide.model import guide_schema

    print(json.dumps(guide_schema(), indent=2, ensure_ascii=False))
    return 0


def _backups(args: argparse.Namespace, settings: Settings) -> int:
    from ..guide import guide_dir
    from ..guide.store import backups_dir, list_backups

    root = guide_dir(args.guide, settings)
    names = list_backups(root)
    if not names:
        print(f"no backups of guide '{root.name}' yet (an import with --force keeps one)")
    for name in names:
        print(f"{name}  {backups_dir(root) / name}")
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from ..guide import guide_dir
    from ..guide.store import restore_guide

    ref = restore_guide(guide_dir(args.guide, settings), args.backup, settings.image_limits)
    print(
        f"restored guide '{ref.root.name}' from backup {args.backup or '(newest)'}: "
        f"{len(ref.guide.artworks)} artworks; the guide it replaced is now the newest backup"
    )
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from ..guide import list_guides

    for name in list_guides(settings):
        print(name)
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from ..guide.demo import ensure_demo

    ref = ensure_demo(settings, force=args.force)
    print(f"demo guide ready: {len(ref.guide.artworks)} artworks at {ref.root}")
    return 0


def _info(args: argparse.Namespace, settings: Settings) -> int:
    from ..info import collect_info

    info = collect_info(settings)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:>18}: {value}")
    return 0


def register(sub: Subparsers) -> None:
    """``guide`` (import, export, check, schema, list, backups, restore), ``demo``, ``info``."""
    g = sub.add_parser("guide", help="import, export, check and list guides").add_subparsers(
        dest="sub", required=True
    )
    gi = handles(
        g.add_parser("import", help="import artworks.json (folder) or COCO JSON (with --images)"), _import
    )
    gi.add_argument("src", help="folder holding artworks.json, or a COCO .json file")
    gi.add_argument("--name", required=True, help="guide name (always a folder under data/guides/)")
    gi.add_argument("--images", help="COCO only: folder the file_name values are relative to")
    gi.add_argument("--language", default="en", help="language of plain-string texts and default language")
    gi.add_argument(
        "--force", action="store_true", help="replace an existing guide of that name (kept as a backup)"
    )
    ge = handles(
        g.add_parser("export", help="export a guide as COCO JSON (with its images beside it)"), _export
    )
    ge.add_argument("--guide", required=True)
    ge.add_argument("--out", required=True, help="output .json path")
    ge.add_argument("--no-media", action="store_true", help="write the JSON only")
    handles(
        g.add_parser("check", help="validate a guide (every field, every file read for what it is)"), _check
    ).add_argument("--guide", required=True)
    handles(
        g.add_parser("schema", help="print the JSON Schema of guide.json (as in docs/guide.schema.json)"),
        _schema,
    )
    handles(g.add_parser("list", help="list the guides under data/guides/"), _list)
    gb = handles(
        g.add_parser("backups", help="list the backups of a guide (kept when an import replaces it)"),
        _backups,
    )
    gb.add_argument("--guide", required=True)
    gr = handles(
        g.add_parser("restore", help="bring back a backup of a guide (the newest by default)"), _restore
    )
    gr.add_argument("--guide", required=True)
    gr.add_argument("--backup", help="backup name, as 'guide backups' lists them (default: the newest)")

    handles(sub.add_parser("demo", help="create the built-in demo guide"), _demo).add_argument(
        "--force", action="store_true", help="re-create it"
    )
    handles(sub.add_parser("info", help="versions, settings and which weights are used"), _info).add_argument(
        "--json", action="store_true"
    )
