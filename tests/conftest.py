"""Test set-up: every test runs offline against a throw-away data folder, with explicit settings.

Library code takes :class:`Settings` as an argument, so tests build theirs here instead of
changing the environment. The environment is still set for tests that start the CLI or an app
in a subprocess (those read it, as they would for a user).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import pytest

# aiortc's SRTP library (pylibsrtp) crashes the interpreter when it is first imported after
# TensorFlow (measured: `import tensorflow; import pylibsrtp` segfaults, the other order works).
# The lens imports streamlit-webrtc (aiortc) before any model; the test session does the same.
try:
    import pylibsrtp  # noqa: F401
except ImportError:  # without aiortc the WebRTC tests skip themselves
    pass

from smartlens.config import Settings

_TMP = Path(tempfile.mkdtemp(prefix="smartlens-tests-"))
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PAINTINGS = SHARED / "data" / "paintings"
EMBEDDER = SHARED / "weights" / "mobilenet_v3_small_embedder.tflite"

#: What subprocesses (CLI, apps) read: tests never touch the user's data or the network.
TEST_ENV = {
    "SMARTLENS_DATA": str(_TMP / "data"),
    "SMARTLENS_MODELS": str(_TMP / "models"),
    "SMARTLENS_OFFLINE": "1",
    "SMARTLENS_CONFIG": str(_TMP / "no-config.toml"),
    "KERAS_HOME": str(_TMP / "keras"),
}
os.environ.update(TEST_ENV)
os.environ.pop("SMARTLENS_WEIGHTS", None)

#: The settings of the whole session (the same folders the subprocesses use).
SESSION_SETTINGS = Settings(
    home=ROOT, data_dir=_TMP / "data", models_dir=_TMP / "models", offline=True, keras_home=_TMP / "keras"
)

needs_paintings = pytest.mark.skipif(
    not (PAINTINGS / "artworks.json").is_file(), reason="../shared/data/paintings is not present"
)
needs_embedder = pytest.mark.skipif(not EMBEDDER.is_file(), reason="../shared/weights is not present")


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    """Settings shared by the whole session (guides built once live here)."""
    return SESSION_SETTINGS


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings with a fresh data and models folder for one test; change more with
    ``dataclasses.replace(settings, ...)``."""
    return dataclasses.replace(
        SESSION_SETTINGS,
        data_dir=tmp_path / "data",
        models_dir=tmp_path / "models",
        keras_home=tmp_path / "keras",
    )


@pytest.fixture(scope="session")
def paintings_guide(base_settings):
    """The shared paintings imported once as a guide (read-only for tests)."""
    if not (PAINTINGS / "artworks.json").is_file():
        pytest.skip("../shared/data/paintings is not present")
    from smartlens.guide import save_guide
    from smartlens.guide.formats.paintings import import_paintings

    imp = import_paintings(PAINTINGS, "paintings")
    return save_guide(imp.guide, base_settings.guides / "paintings", files=imp.files, replace=True)


@pytest.fixture(scope="session")
def demo_guide(base_settings):
    from smartlens.guide.demo import ensure_demo

    return ensure_demo(base_settings)


@pytest.fixture(autouse=True)
def _keep_main_module():
    """Streamlit's AppTest leaves the page it ran as ``sys.modules['__main__']``; worker processes
    started later with the spawn method would run that page again. Put the real one back."""
    import sys

    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


def pytest_collection_modifyitems(items):
    """A test marked ``timing`` (WebRTC, recognition or a budget on a shared machine) gets one
    rerun when it fails (pytest-rerunfailures); every other test has none."""
    for item in items:
        if item.get_closest_marker("timing") and not item.get_closest_marker("flaky"):
            item.add_marker(pytest.mark.flaky(reruns=1))
