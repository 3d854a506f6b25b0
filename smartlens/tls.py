"""A self-signed certificate for serving the lens over HTTPS on the museum LAN.

Phone browsers give the camera only to secure pages; on a LAN without a domain name, a
self-signed certificate (accepted once on each phone) is the simple way to get there.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from pathlib import Path

from .storage import atomic_write_bytes


def lan_addresses() -> list[str]:
    """This machine's addresses others on the LAN can reach (best effort, no traffic sent)."""
    found = {"127.0.0.1"}
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("10.255.255.255", 1))  # UDP connect sends nothing; it only picks a route
        found.add(s.getsockname()[0])
        s.close()
    except OSError:
        pass
    return sorted(found)


def make_certificate(out_dir: Path, names: list[str] | None = None, days: int = 825) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` into ``out_dir`` for the given host names / IPs."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    names = names or ["localhost", socket.gethostname(), *lan_addresses()]
    alt: list[x509.GeneralName] = []
    for n in dict.fromkeys(names):
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            alt.append(x509.DNSName(n))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SmartLens (self-signed)")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    out_dir = Path(out_dir)
    key_path = atomic_write_bytes(
        out_dir / "key.pem",
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    key_path.chmod(0o600)
    cert_path = atomic_write_bytes(out_dir / "cert.pem", cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
