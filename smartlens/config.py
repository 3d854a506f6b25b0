"""All of SmartLens' configuration, in one place.

Settings come from (later wins): built-in defaults, an optional ``smartlens.toml`` in the
project root (or the file named by ``SMARTLENS_CONFIG``), and environment variables (:data:`ENV`).
Only the CLI and the apps call :func:`load_settings`; the library takes the resulting
:class:`Settings` as an argument and never reads the environment itself.

Every field is typed and checked by pydantic: a TOML value must already be of its field's type
(``threads = "4"`` is refused), an environment variable is text parsed as its field's type
(``SMARTLENS_OFFLINE=maybe`` is refused), and a bad value is one :class:`UserError` naming the key
or the variable. ``Settings`` is a plain frozen dataclass: tests build their own and change
them with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, get_type_hints

from pydantic import BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import UserError
from .imaging import ImageLimits

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Environment variable -> settings field.
ENV = {
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


def _path(value: object) -> object:
    """A folder or file named in TOML or the environment (``~`` expanded)."""
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a path (non-empty text)")
    return Path(os.path.expanduser(value))


def _names(value: object) -> object:
    """A TOML list, or comma-separated text from the environment, as a tuple of names."""
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    return value


FilePath = Annotated[Path, BeforeValidator(_path)]
Names = Annotated[tuple[str, ...], BeforeValidator(_names)]


@dataclass(frozen=True)
class Settings:
    """Where things live and how the heavy parts behave."""

    home: FilePath = PROJECT_ROOT
    data_dir: FilePath | None = None
    models_dir: FilePath | None = None
    #: A weights file or folder named by the user: Keras ``.h5`` / ``.weights.h5`` for
    #: MobileNetV3, or a ``.tflite`` MobileNetV3 feature extractor (MediaPipe Image Embedder).
    weights: FilePath | None = None
    #: Never try to download anything (tests set this).
    offline: bool = False
    download_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 20.0
    threads: Annotated[int, Field(ge=1, le=256)] = max(1, min(os.cpu_count() or 1, 4))
    #: Largest image accepted anywhere (pixels and bytes): guards against decompression bombs.
    max_image_pixels: Annotated[int, Field(ge=1)] = 40_000_000
    max_image_bytes: Annotated[int, Field(ge=1)] = 60 * 1024 * 1024
    #: Comma separated STUN/TURN URLs for the lens; empty = LAN only (host candidates).
    ice_servers: str = ""
    #: Keras' own folder (its weights cache is ``models/`` inside); Keras' ``KERAS_HOME``.
    keras_home: FilePath = Path.home() / ".keras"
    default_language: str = "en"
    ui_languages: Names = ("en", "it")
    #: The studio's staff password (also Streamlit secrets' ``studio_password``); empty: the studio
    #: listens on localhost only.
    studio_password: str = field(default="", repr=False)
    #: Visitor events older than this many days are deleted by compaction (0 keeps them forever).
    event_retention_days: Annotated[int, Field(ge=0)] = 365

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


#: One validator per field, from its annotation (types and bounds declared once, above).
_FIELDS = {
    name: TypeAdapter(hint, config=ConfigDict(allow_inf_nan=False))
    for name, hint in get_type_hints(Settings, include_extras=True).items()
}
_OPTIONAL = {f.name for f in dataclasses.fields(Settings) if f.default is None}


def _checked(values: dict[str, Any], strict: bool, name: dict[str, str]) -> dict[str, Any]:
    """``values`` checked against their fields; ``name`` says where each came from (a TOML key,
    an environment variable) for the message."""
    out, problems = {}, []
    for key, raw in values.items():
        try:
            out[key] = _FIELDS[key].validate_python(raw, strict=strict)
        except ValidationError as exc:
            shown = "(hidden)" if key == "studio_password" else repr(raw)[:80]
            msg = str(exc.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")
            problems.append(f"{name.get(key, key)} = {shown}: {msg[:1].lower()}{msg[1:]}")
    if problems:
        raise UserError("bad setting: " + "; ".join(problems))
    return out


def load_settings(env: dict[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Build settings from a TOML file and the environment (``os.environ`` by default)."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    path = config_file or Path(env.get("SMARTLENS_CONFIG", PROJECT_ROOT / "smartlens.toml"))
    if path.is_file():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: not valid TOML ({exc})") from None
        table = table.get("smartlens", table)
        unknown = sorted(set(table) - set(_FIELDS))
        if unknown:
            raise UserError(f"{path}: unknown setting '{unknown[0]}' (known: {', '.join(sorted(_FIELDS))})")
        # TOML has types of its own: each value must already be of its field's type
        values.update(_checked(table, strict=True, name={k: f"{path}: {k}" for k in table}))
    # the environment is text, parsed as each field's type by pydantic's rules (nothing guessed);
    # an empty variable for an optional path means "none"
    given = {
        ENV[var]: None if raw == "" and ENV[var] in _OPTIONAL else raw
        for var, raw in env.items()
        if var in ENV
    }
    values.update(_checked(given, strict=False, name={key: var for var, key in ENV.items()}))
    return Settings(**values)
