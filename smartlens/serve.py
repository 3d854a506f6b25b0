"""Starting the Streamlit apps: one command line for the CLI, the tests and the benchmarks."""

from __future__ import annotations

import sys
from pathlib import Path

from .config import PROJECT_ROOT


def streamlit_command(
    app: str,
    port: int,
    address: str = "0.0.0.0",
    app_args: list[str] | None = None,
    cert: Path | None = None,
    key: Path | None = None,
) -> list[str]:
    """``streamlit run apps/<app>`` with SmartLens' server settings."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "apps" / app),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--server.fileWatcherType",
        "none",
        "--server.maxUploadSize",
        "64",
    ]
    if cert and key:
        cmd += ["--server.sslCertFile", str(cert), "--server.sslKeyFile", str(key)]
    return cmd + ["--"] + list(app_args or [])
