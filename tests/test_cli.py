"""The command line as scripts use it: exit codes, messages, outputs."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import PAINTINGS, ROOT, needs_paintings


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "smartlens", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


@needs_paintings
def test_guide_import_check_export_and_force(tmp_path):
    data = {"SMARTLENS_DATA": str(tmp_path / "data")}
    out = cli("guide", "import", str(PAINTINGS), "--name", "museum", env=data)
    assert out.returncode == 0 and "8 artworks, 24 details, languages en, it" in out.stdout, out.stderr
    again = cli("guide", "import", str(PAINTINGS), "--name", "museum", env=data)
    assert again.returncode == 2 and "--force" in again.stderr
    coco = cli(
        "guide",
        "import",
        str(PAINTINGS / "annotations.coco.json"),
        "--images",
        str(PAINTINGS),
        "--name",
        "museum",
        "--force",
        env=data,
    )
    assert coco.returncode == 0, coco.stderr
    assert cli("guide", "check", "--guide", "museum", env=data).returncode == 0
    exp = cli("guide", "export", "--guide", "museum", "--out", str(tmp_path / "out" / "coco.json"), env=data)
    assert (
        exp.returncode == 0 and len(json.loads((tmp_path / "out" / "coco.json").read_text())["images"]) == 8
    )
    assert cli("guide", "list", env=data).stdout.split() == ["museum"]


def test_bad_input_gives_a_message_not_a_traceback(tmp_path):
    (tmp_path / "artworks.json").write_text("{broken")
    out = cli("guide", "import", str(tmp_path), "--name", "x", env={"SMARTLENS_DATA": str(tmp_path / "d")})
    assert out.returncode == 2 and "not valid JSON" in out.stderr and "Traceback" not in out.stderr
    out = cli(
        "guide", "import", str(tmp_path), "--name", "Bad Name", env={"SMARTLENS_DATA": str(tmp_path / "d")}
    )
    assert out.returncode == 2 and "not allowed" in out.stderr
    out = cli("guide", "check", "--guide", "nope", env={"SMARTLENS_DATA": str(tmp_path / "d")})
    assert out.returncode == 2 and "no guide" in out.stderr


def test_info_reports_weights(tmp_path):
    out = cli("info", "--json")
    info = json.loads(out.stdout)
    assert info["weights (small)"].startswith("random:") and "SMARTLENS_WEIGHTS" in info["weights (small)"]


def test_augment_and_qr_commands(tmp_path, demo_guide):
    out = cli(
        "augment",
        "--guide",
        str(demo_guide.root),
        "--per-image",
        "1",
        "--out",
        str(tmp_path / "aug"),
        "--workers",
        "1",
    )
    assert out.returncode == 0 and "24 samples" in out.stdout, out.stderr
    coco = json.loads((tmp_path / "aug" / "annotations.coco.json").read_text())
    assert len(coco["images"]) == 24
    assert cli("qr", "https://lens.local:8501/", "--out", str(tmp_path / "qr.svg")).returncode == 0
    assert cli("qr", "x", "--out", str(tmp_path / "qr.bmp")).returncode == 2
