"""Who may use the studio: staff with the password, or anyone on this machine when none is set.

The password comes from Streamlit secrets (``studio_password`` in ``.streamlit/secrets.toml``)
or the ``SMARTLENS_STUDIO_PASSWORD`` setting. Without one the studio serves this machine only:
the CLI refuses to listen beyond it, and the studio itself checks each visitor's own address
(:func:`is_local`), however it was started. Wrong passwords are slowed down per visitor address
and per session (:class:`LoginThrottle`); a login is kept in a signed cookie for a working day
(:func:`issue_login`, :func:`login_valid`), its key kept under the data folder.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import UserError

HOW_TO_SET = (
    "set a studio password first: export SMARTLENS_STUDIO_PASSWORD='...' (or studio_password = '...' "
    "in smartlens.toml, or in .streamlit/secrets.toml)"
)
#: The cookie that keeps a studio login across reloads.
LOGIN_COOKIE = "smartlens_studio_login"
#: How long a login lasts: a working day.
LOGIN_HOURS = 10.0
#: The login key's file, under the data folder.
LOGIN_KEY_FILE = "studio-login.key"


def is_local(address: str | None) -> bool:
    """Whether ``address`` (a peer's or a listening address) is this machine only.

    Empty or None means unknown, which is not local; ``::ffff:127.0.0.1`` (an IPv4 peer of a
    dual-stack socket) is.
    """
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def studio_address(address: str | None, password: str) -> str:
    """The address the studio listens on: as asked, refused when open to others without a password.

    ``address`` None: the LAN when a password is set, else localhost.
    """
    if address is None:
        return "0.0.0.0" if password else "127.0.0.1"
    if not password and not is_local(address):
        raise UserError(
            f"the studio would listen on {address} with no password, so anyone on the network could "
            f"edit or delete the guides: {HOW_TO_SET}; or use --address 127.0.0.1"
        )
    return address


def check_password(given: str, expected: str) -> bool:
    """Constant-time comparison (of digests, so not even the length leaks); an empty expected
    password admits nobody."""
    if not expected:
        return False
    return hmac.compare_digest(_digest(given), _digest(expected))


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class LoginThrottle:
    """Slows down guessing: after ``free_tries`` wrong passwords under one key (a visitor's address,
    a session), each further try waits twice as long as the one before, up to ``max_delay_s``.

    One instance serves the whole studio process (thread-safe); a right password clears the
    keys it came with.
    """

    def __init__(
        self,
        free_tries: int = 3,
        base_delay_s: float = 2.0,
        max_delay_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.free_tries, self.base_delay_s, self.max_delay_s = free_tries, base_delay_s, max_delay_s
        self._clock, self._max_keys = clock, max_keys
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (wrong tries, not before)
        self._lock = threading.Lock()

    def wait_s(self, keys: Iterable[str]) -> float:
        """Seconds before a try under any of ``keys`` is looked at (0: now)."""
        now = self._clock()
        with self._lock:
            return max([0.0] + [self._failures[k][1] - now for k in keys if k in self._failures])

    def failed(self, keys: Iterable[str]) -> float:
        """Count a wrong password under each key; returns the wait it earned."""
        now = self._clock()
        waits = [0.0]
        with self._lock:
            if len(self._failures) > self._max_keys:
                self._forget_old(now)
            for k in keys:
                n = self._failures.get(k, (0, now))[0] + 1
                extra = n - self.free_tries
                wait = 0.0 if extra <= 0 else min(self.base_delay_s * 2 ** (extra - 1), self.max_delay_s)
                self._failures[k] = (n, now + wait)
                waits.append(wait)
        return max(waits)

    def succeeded(self, keys: Iterable[str]) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)

    def _forget_old(self, now: float) -> None:
        # keys whose last wait ended long ago carry no information worth the memory
        for k in [k for k, (_, t) in self._failures.items() if t + 2 * self.max_delay_s < now]:
            del self._failures[k]


# --- a login kept for a working day -------------------------------------------------------------
def login_key(data_dir: Path) -> bytes:
    """The studio's login key, made once (random, readable by this user only) under ``data_dir``."""
    path = Path(data_dir) / LOGIN_KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    except ValueError:
        raise UserError(f"{path} is damaged: delete it (every studio login then ends)") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # the first studio to get here wins; the others read its key
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())


def _signature(key: bytes, password: str, body: str) -> str:
    # the password is part of the key: changing it ends every login made with the old one
    signing_key = hmac.new(key, b"studio-login\0" + _digest(password), hashlib.sha256).digest()
    return hmac.new(signing_key, body.encode("ascii"), hashlib.sha256).hexdigest()


def issue_login(key: bytes, password: str, hours: float = LOGIN_HOURS, now: float | None = None) -> str:
    """A signed token saying "logged in until <time>" (nothing secret in it)."""
    expires = int((time.time() if now is None else now) + hours * 3600)
    body = f"1.{expires}.{secrets.token_hex(8)}"
    return f"{body}.{_signature(key, password, body)}"


def login_valid(
    token: str | None, key: bytes, password: str, hours: float = LOGIN_HOURS, now: float | None = None
) -> bool:
    """Whether ``token`` was issued with this key and password and has not expired."""
    if not token or not password or len(token) > 200:
        return False
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != "1" or not parts[1].isdigit():
        return False
    now = time.time() if now is None else now
    expires = int(parts[1])
    if not now < expires <= now + hours * 3600 + 60:
        return False
    expected = _signature(key, password, ".".join(parts[:3]))
    return hmac.compare_digest(parts[3].encode("ascii", "replace"), expected.encode("ascii"))
