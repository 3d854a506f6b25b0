"""Settings: typed fields from defaults, ``smartlens.toml`` and the environment, one clear message
naming the key or the variable for a bad value, and a plain frozen dataclass tests replace."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartlens.config import Settings, load_settings
from smartlens.errors import UserError

from conftest import ROOT, TEST_ENV


def _load(tmp_path: Path, env: dict[str, str] | None = None, toml: str | None = None) -> Settings:
    path = tmp_path / "smartlens.toml"
    if toml is not None:
        path.write_text(toml, encoding="utf-8")
    return load_settings(env or {}, path)


def test_defaults_then_toml_then_environment(tmp_path):
    assert _load(tmp_path) == Settings()
    toml = (
        "[smartlens]\nthreads = 3\ndownload_timeout_s = 5\noffline = true\n"
        'data_dir = "~/museum-data"\nui_languages = ["en", "fr"]\nevent_retention_days = 0\n'
    )
    s = _load(tmp_path, toml=toml)
    assert (s.threads, s.download_timeout_s, s.offline, s.event_retention_days) == (3, 5.0, True, 0)
    assert s.data_dir == Path.home() / "museum-data" and s.ui_languages == ("en", "fr")
    env = {"SMARTLENS_THREADS": "2", "SMARTLENS_OFFLINE": "no", "SMARTLENS_WEIGHTS": "", "KERAS_HOME": "/k"}
    s = _load(tmp_path, env, toml)
    assert (s.threads, s.offline, s.weights, s.keras_home) == (2, False, None, Path("/k"))
    assert isinstance(s.threads, int) and isinstance(s.download_timeout_s, float)


@pytest.mark.parametrize(
    "env,words",
    [
        ({"SMARTLENS_THREADS": "abc"}, "SMARTLENS_THREADS = 'abc': input should be a valid integer"),
        ({"SMARTLENS_THREADS": "0"}, "SMARTLENS_THREADS = '0': input should be greater than or equal to 1"),
        ({"SMARTLENS_THREADS": "2.5"}, "SMARTLENS_THREADS = '2.5'"),
        ({"SMARTLENS_OFFLINE": "maybe"}, "SMARTLENS_OFFLINE = 'maybe': input should be a valid boolean"),
        (
            {"SMARTLENS_DOWNLOAD_TIMEOUT": "nan"},
            "SMARTLENS_DOWNLOAD_TIMEOUT = 'nan': input should be a finite",
        ),
        ({"SMARTLENS_DOWNLOAD_TIMEOUT": "-1"}, "SMARTLENS_DOWNLOAD_TIMEOUT = '-1'"),
        ({"SMARTLENS_HOME": ""}, "SMARTLENS_HOME = '': expected a path"),
    ],
)
def test_a_bad_environment_variable_is_named(tmp_path, env, words):
    with pytest.raises(UserError) as err:
        _load(tmp_path, env)
    assert words in str(err.value), str(err.value)


@pytest.mark.parametrize(
    "toml,words",
    [
        ('threads = "4"', "threads = '4': input should be a valid integer"),  # TOML has types: no guessing
        ('offline = "yes"', "offline = 'yes': input should be a valid boolean"),
        ("data_dir = 5", "data_dir = 5: expected a path"),
        ("download_timeout_s = nan", "download_timeout_s = nan: input should be a finite number"),
        ("event_retention_days = -1", "event_retention_days = -1"),
        ("ui_languages = [1, 2]", "ui_languages = [1, 2]"),
        ("colour = 5", "unknown setting 'colour'"),
        ("threads = ", "not valid TOML"),
    ],
)
def test_a_bad_toml_value_is_named_with_its_file(tmp_path, toml, words):
    with pytest.raises(UserError) as err:
        _load(tmp_path, toml=toml)
    assert words in str(err.value) and "smartlens.toml" in str(err.value), str(err.value)


def test_the_password_is_never_shown(tmp_path):
    with pytest.raises(UserError) as err:
        _load(tmp_path, toml="studio_password = 12345678")
    assert "12345678" not in str(err.value) and "studio_password = (hidden)" in str(err.value)
    assert "hunter2" not in repr(dataclasses.replace(Settings(), studio_password="hunter2"))


def test_settings_are_a_frozen_dataclass_tests_replace(tmp_path):
    s = Settings(home=tmp_path, data_dir=tmp_path / "d", offline=True, threads=3)
    t = dataclasses.replace(s, threads=1)
    assert (t.threads, s.threads, t.offline, t.guides) == (1, 3, True, tmp_path / "d" / "guides")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.offline = False  # type: ignore[misc]


def test_the_command_line_names_a_bad_variable_in_one_line():
    out = subprocess.run(
        [sys.executable, "-m", "smartlens", "guide", "list"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **TEST_ENV, "SMARTLENS_THREADS": "many"},
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.startswith("error: bad setting: SMARTLENS_THREADS = 'many'"), out.stderr
