"""All of SmartLens' configuration, in one place.

Settings come from (later wins): built-in defaults, an optional ``smartlens.toml`` in the
project root (or the file named by ``SMARTLENS_CONFIG``), and ``SMARTLENS_*`` environment
variables. Only the CLI and the apps call :func:`load_settings`; the library takes the
resulting :class:`Settings` as an argument and never reads the environment itself.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import UserError
from .imaging import ImageLimits

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Environment variable -> (settings field, parser).
_ENV = {
    "SMARTLENS_HOME": "home",
    "SMARTLENS_DATA": "data_dir",
    "SMARTLENS_MODELS": "models_dir",
    "SMARTLENS_WEIGHTS": "weights",
    "SMARTLENS_OFFLINE": "offline",
    "SMARTLENS_DOWNLOAD_TIMEOUT": "download_timeout_s",
    "SMARTLENS_THREADS": "threads",
    "SMARTLENS_ICE_SERVERS": "ice_servers",
    "KERAS_HOME": "keras_home",
    "SMARTLENS_STUDIO_PASSWORD": "studio_password",
}


@dataclass(frozen=True)
class Settings:
    """Where things live and how the heavy parts behave."""

    home: Path = PROJECT_ROOT
    data_dir: Path | None = None
    models_dir: Path | None = None
    #: A weights file or folder named by the user: Keras ``.h5`` / ``.weights.h5`` for
    #: MobileNetV3, or a ``.tflite`` MobileNetV3 feature extractor (MediaPipe Image Embedder).
    weights: Path | None = None
    #: Never try to download anything (tests set this).
    offline: bool = False
    download_timeout_s: float = 20.0
    threads: int = max(1, min(os.cpu_count() or 1, 4))
    #: Largest image accepted anywhere (pixels and bytes): guards against decompression bombs.
    max_image_pixels: int = 40_000_000
    max_image_bytes: int = 60 * 1024 * 1024
    #: Comma separated STUN/TURN URLs for the lens; empty = LAN only (host candidates).
    ice_servers: str = ""
    #: Keras' own folder (its weights cache is ``models/`` inside); Keras' ``KERAS_HOME``.
    keras_home: Path = Path.home() / ".keras"
    default_language: str = "en"
    ui_languages: tuple[str, ...] = ("en", "it")
    #: The studio's staff password (also Streamlit secrets' ``studio_password``); empty: the studio
    #: listens on localhost only.
    studio_password: str = field(default="", repr=False)
    #: Visitor events older than this many days are deleted by compaction (0 keeps them forever).
    event_retention_days: int = 365

    @property
    def data(self) -> Path:
        return self.data_dir or self.home / "data"

    @property
    def guides(self) -> Path:
        return self.data / "guides"

    @property
    def models(self) -> Path:
        return self.models_dir or self.home / "models"

    @property
    def cache(self) -> Path:
        return self.data / "cache"

    @property
    def image_limits(self) -> ImageLimits:
        return ImageLimits(self.max_image_pixels, self.max_image_bytes)

    @property
    def keras_cache(self) -> Path:
        """Where Keras keeps downloaded weights."""
        return self.keras_home / "models"

    @property
    def events_dir(self) -> Path:
        """The visitor-event store: every lens process appends its own segment files here."""
        return self.data / "events"


def _parse(name: str, raw: object) -> object:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if raw is None or raw == "":
        return None if "None" in str(kind) else raw
    if "Path" in str(kind):
        return Path(os.path.expanduser(str(raw)))
    if kind == "bool":
        return str(raw).strip().lower() in {"1", "true", "yes", "on"}
    if kind == "float":
        return float(str(raw))
    if kind == "int":
        return int(str(raw))
    if "tuple" in str(kind):
        items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
        return tuple(str(i).strip() for i in items if str(i).strip())
    return str(raw)


def load_settings(env: dict[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Build settings from a TOML file and the environment (``os.environ`` by default)."""
    env = dict(os.environ if env is None else env)
    values: dict[str, object] = {}
    path = config_file or Path(env.get("SMARTLENS_CONFIG", PROJECT_ROOT / "smartlens.toml"))
    if path.is_file():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise UserError(f"{path}: not valid TOML ({exc})") from exc
        table = table.get("smartlens", table)
        known = {f.name for f in fields(Settings)}
        for key, raw in table.items():
            if key not in known:
                raise UserError(f"{path}: unknown setting '{key}' (known: {', '.join(sorted(known))})")
            values[key] = _parse(key, raw)
    for var, name in _ENV.items():
        if var in env:
            values[name] = _parse(name, env[var])
    return replace(Settings(), **values)  # type: ignore[arg-type]  # each value parsed to its field's type
