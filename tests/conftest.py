"""Test set-up: every test runs offline against a throw-away data folder."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="smartlens-tests-"))
# Set before smartlens reads its settings: tests never touch the user's data or the network.
os.environ.update({
    "SMARTLENS_DATA": str(_TMP / "data"),
    "SMARTLENS_MODELS": str(_TMP / "models"),
    "SMARTLENS_OFFLINE": "1",
    "SMARTLENS_CONFIG": str(_TMP / "no-config.toml"),
    "KERAS_HOME": str(_TMP / "keras"),
})
os.environ.pop("SMARTLENS_WEIGHTS", None)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PAINTINGS = SHARED / "data" / "paintings"
EMBEDDER = SHARED / "weights" / "mobilenet_v3_small_embedder.tflite"

needs_paintings = pytest.mark.skipif(not (PAINTINGS / "artworks.json").is_file(),
                                     reason="../shared/data/paintings is not present")
needs_embedder = pytest.mark.skipif(not EMBEDDER.is_file(), reason="../shared/weights is not present")


@pytest.fixture
def settings_env(monkeypatch, tmp_path):
    """Point SmartLens at a fresh data folder for one test; returns a function to set more env."""
    from smartlens.config import get_settings

    monkeypatch.setenv("SMARTLENS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SMARTLENS_MODELS", str(tmp_path / "models"))
    get_settings.cache_clear()

    def set_env(**env: str) -> None:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        get_settings.cache_clear()

    yield set_env
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def paintings_guide():
    """The shared paintings imported once as a guide (read-only for tests)."""
    if not (PAINTINGS / "artworks.json").is_file():
        pytest.skip("../shared/data/paintings is not present")
    from smartlens.config import get_settings
    from smartlens.guide_io import import_paintings
    from smartlens.guide_store import save_guide

    dest = get_settings().guides / "paintings"
    imp = import_paintings(PAINTINGS, "paintings")
    return save_guide(imp.guide, dest, files=imp.files, replace=True)


@pytest.fixture(scope="session")
def demo_guide():
    from smartlens.demo import ensure_demo

    return ensure_demo()
