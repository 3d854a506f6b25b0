"""Who may use the studio: staff with the password, or anyone on this machine when none is set.

The password comes from Streamlit secrets (``studio_password`` in ``.streamlit/secrets.toml``)
or the ``SMARTLENS_STUDIO_PASSWORD`` setting. Without one the studio must listen on localhost
only (the CLI refuses anything else and says how to set one).
"""

from __future__ import annotations

import hmac
import ipaddress

from .errors import UserError

HOW_TO_SET = (
    "set a studio password first: export SMARTLENS_STUDIO_PASSWORD='...' (or studio_password = '...' "
    "in smartlens.toml, or in .streamlit/secrets.toml)"
)


def is_local(address: str) -> bool:
    """Whether ``address`` is reachable from this machine only."""
    if address in ("localhost", ""):
        return address == "localhost"
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


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
    """Constant-time comparison; an empty expected password admits nobody."""
    if not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
