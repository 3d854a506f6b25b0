"""Starting the Streamlit apps: one command line for the CLI, the tests and the benchmarks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .config import PROJECT_ROOT, Settings

#: The apps' accent colour (buttons, chosen chips, links), readable on white and under white text.
ACCESSIBLE_PRIMARY = "#1a5fb4"

#: The file ``streamlit run`` is given for each app: an ``st.App`` serving the app's page with
#: :func:`smartlens.server_guard.middleware` in front (the studio's entry script is both).
SERVER_FILES = {"lens.py": "lens_app.py", "studio/app.py": "studio/app.py"}


def streamlit_command(
    app: str,
    port: int,
    address: str = "0.0.0.0",
    app_args: list[str] | None = None,
    cert: Path | None = None,
    key: Path | None = None,
    toolbar: str = "viewer",
) -> list[str]:
    """``streamlit run`` of ``apps/<app>``'s server file, with SmartLens' server settings.

    ``toolbar`` "viewer" (the default) shows visitors and staff no developer menu or deploy button.
    """
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "apps" / SERVER_FILES.get(app, app)),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        toolbar,
        "--server.fileWatcherType",
        "none",
        "--server.maxUploadSize",
        "200",
        # Streamlit's default red fails WCAG's 4.5:1 as the text of a chosen chip or a link, and
        # its captions (the text colour at 60 %) fail it on white: this blue keeps 6.3:1 on white
        # (and white text on it), captions from black text keep 5.1:1 even on the grey sidebar
        "--theme.primaryColor",
        ACCESSIBLE_PRIMARY,
        "--theme.textColor",
        "#000000",
        "--theme.codeTextColor",  # inline code, also in a caption: black at 60 % keeps 5.7:1
        "#000000",
    ]
    if cert and key:
        cmd += ["--server.sslCertFile", str(cert), "--server.sslKeyFile", str(key)]
    return cmd + ["--"] + list(app_args or [])


def tls_files(settings: Settings, cert_dir: str | None) -> tuple[Path, Path, bool]:
    """(cert, key, made now) for HTTPS: the ones in ``cert_dir`` (default data/tls), made if missing."""
    from .tls import make_certificate

    folder = Path(cert_dir) if cert_dir else settings.data / "tls"
    cert, key = folder / "cert.pem", folder / "key.pem"
    if cert.is_file() and key.is_file():
        return cert, key, False
    cert, key = make_certificate(folder)
    return cert, key, True


def exec_command(cmd: list[str]) -> int:
    """Become ``cmd`` (the Streamlit server takes this process' place), so stopping this process
    (Ctrl-C, SIGTERM to its pid, a service manager) stops the server; no orphan is left behind."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(cmd[0], cmd)
    return 0  # not reached
