"""``smartlens lens``, ``studio``, ``qr`` and ``cert``: the two apps and what serving them needs."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import Settings
from ..methods import METHODS, method_spec
from ..vocabulary import Method
from .common import Subparsers, handles


def _streamlit(
    app: str, args: argparse.Namespace, settings: Settings, app_args: list[str], address: str | None = None
) -> int:
    """Print where the app answers, then become its Streamlit server (stopping us stops it)."""
    from ..serve import exec_command, streamlit_command, tls_files
    from ..tls import lan_addresses

    address = address or args.address
    cert = key = None
    if args.https:
        cert, key, made = tls_files(settings, args.cert_dir)
        if made:
            print(f"made a self-signed certificate in {cert.parent} (each phone or browser accepts it once)")
    hosts = [a for a in lan_addresses() if a != "127.0.0.1"] if address in ("0.0.0.0", "::") else [address]
    name = app.split("/")[0].removesuffix(".py")
    for host in hosts or ["localhost"]:
        print(f"SmartLens {name}: {'https' if cert else 'http'}://{host}:{args.port}/")
    if name == "lens":  # the studio's QR codes carry where it really answers
        from ..lens.address import LensAddress, record_lens_address

        record_lens_address(
            settings, LensAddress("https" if cert else "http", hosts or ["localhost"], args.port)
        )
    return exec_command(streamlit_command(app, args.port, address, app_args, cert, key))


def _lens(args: argparse.Namespace, settings: Settings) -> int:
    from ..lens.runtime import load_runtime

    # builds the index now, not on the first visit
    rt = load_runtime(args.guide, settings, args.method, args.mode)
    print(f"guide '{rt.ref.guide.name}': {len(rt.ref.guide.artworks)} artworks, method {rt.method}")
    # no --method: the app follows what the studio publishes, picked up for each new visitor
    app_args = ["--guide", args.guide]
    app_args += (["--method", args.method] if args.method else []) + (
        ["--mode", args.mode] if args.mode else []
    )
    return _streamlit("lens.py", args, settings, app_args)


def _studio(args: argparse.Namespace, settings: Settings) -> int:
    from ..access import studio_address

    # refused before anything starts when the studio would be open to others without a password
    address = studio_address(args.address, settings.studio_password)
    if not settings.studio_password:
        print(
            "no studio password set: listening on this machine only (set SMARTLENS_STUDIO_PASSWORD to open it)"
        )
    return _streamlit("studio/app.py", args, settings, ["--guide", args.guide], address)


def _qr(args: argparse.Namespace, settings: Settings) -> int:
    from ..escaping import terminal
    from ..qr import write_qr

    print(f"wrote {terminal(write_qr(args.url, Path(args.out), args.scale))}")
    return 0


def _cert(args: argparse.Namespace, settings: Settings) -> int:
    from ..tls import make_certificate

    cert, key = make_certificate(Path(args.out), args.name or None)
    print(
        f"wrote {cert} and {key}\nstart the lens with: python -m smartlens lens --https --cert-dir {args.out}"
    )
    return 0


def _served(parser: argparse.ArgumentParser, port: int, address_help: str) -> None:
    parser.add_argument("--guide", default="demo")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument(
        "--https", action="store_true", help="serve over HTTPS (phones need it for the camera)"
    )
    parser.add_argument(
        "--cert-dir", help="folder with cert.pem and key.pem (default data/tls, made if missing)"
    )
    parser.add_argument("--address", help=address_help)


def register(sub: Subparsers) -> None:
    """``lens``, ``studio``, ``qr``, ``cert``."""
    retrieval = method_spec(Method.RETRIEVAL)
    lens = handles(sub.add_parser("lens", help="start the visitors' lens (Streamlit + WebRTC)"), _lens)
    _served(lens, 8501, "0.0.0.0 (default): reachable from phones on the LAN")
    lens.set_defaults(address="0.0.0.0")
    lens.add_argument(
        "--method",
        choices=list(METHODS),
        help="default: what the studio published for the guide, else retrieval",
    )
    lens.add_argument("--mode", choices=retrieval.modes, help="retrieval: verified (default) or baseline")
    studio = handles(sub.add_parser("studio", help="start the curators' studio"), _studio)
    _served(studio, 8502, "default: the LAN with a studio password, else this machine only")

    q = handles(sub.add_parser("qr", help="a QR code of the lens URL, to print next to the artworks"), _qr)
    q.add_argument("url")
    q.add_argument("--out", default="lens-qr.png", help=".png or .svg")
    q.add_argument("--scale", type=int, default=10)
    c = handles(sub.add_parser("cert", help="make a self-signed certificate for HTTPS on the LAN"), _cert)
    c.add_argument("--out", default="data/tls")
    c.add_argument(
        "--name", action="append", help="host name or IP to include (repeatable; default: this machine's)"
    )
