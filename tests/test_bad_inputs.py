"""A corpus of bad inputs through the command line (import, check, index, recognize) and the
library: each gets a message naming the file and the field, exit code 2 (never a traceback),
and the working guide is left exactly as it was. Also: EXIF-rotated photos, disposable caches."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import media_samples
import numpy as np
import pytest
from PIL import Image

from smartlens.errors import GuideError
from smartlens.guide import load_guide
from smartlens.guide.edit import add_artwork
from smartlens.guide.formats.paintings import import_paintings
from smartlens.methods.retrieval import load_retrieval
from smartlens.methods.retrieval.cache import load_index

from conftest import ROOT, TEST_ENV


def _picture(seed: int, w: int = 160, h: int = 120) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.integers(0, 255, (h // 10, w // 10, 3), dtype=np.uint8), (w, h))
    cv2.circle(img, (w // 3, h // 2), h // 4, (255, 255, 255), 3)
    return img


def _jpeg(seed: int = 0, w: int = 160, h: int = 120) -> bytes:
    return cv2.imencode(".jpg", _picture(seed, w, h))[1].tobytes()


def _tiny() -> bytes:
    return cv2.imencode(".jpg", np.zeros((1, 1, 3), np.uint8))[1].tobytes()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's first bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _good_art(file: str = "a.jpg") -> dict:
    return {
        "id": "a",
        "file": file,
        "title": {"en": "A"},
        "details": [{"id": "d", "box_xywh": [10, 10, 40, 30], "name": "D"}],
    }


def paintings(
    folder: Path, arts: object, images: dict[str, bytes] | None = None, raw: str | bytes | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (images if images is not None else {"a.jpg": _jpeg()}).items():
        (folder / name).write_bytes(data)
    text = raw if raw is not None else json.dumps(arts)
    (folder / "artworks.json").write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return folder


def _with(**fields) -> list[dict]:
    art = _good_art()
    art.update(fields)
    return [art]


def _with_box(box: object) -> list[dict]:
    art = _good_art()
    art["details"][0]["box_xywh"] = box
    return [art]


LONG = "x" * 300 + ".jpg"

#: name -> (builder of the bad folder, words the message must hold)
IMPORTS: dict[str, tuple[Callable[[Path], Path], list[str]]] = {
    "width written 470.0": (
        lambda d: paintings(d, _with(width=470.0, height=120)),
        ["artworks[0].width", "470.0"],
    ),
    "width as a string": (
        lambda d: paintings(d, _with(width="160")),
        ["artworks[0].width", "positive integer"],
    ),
    "width true": (lambda d: paintings(d, _with(width=True)), ["artworks[0].width"]),
    "1x1 picture": (
        lambda d: paintings(d, [{**_good_art(), "details": []}], {"a.jpg": _tiny()}),
        ["artworks[a].image", "too small"],
    ),
    "truncated JPEG": (
        lambda d: paintings(d, [_good_art()], {"a.jpg": _jpeg(0, 640, 480)[:6000]}),
        ["artworks[a].image", "truncated"],
    ),
    "empty artworks": (lambda d: paintings(d, []), ["artworks.json", "empty"]),
    "box Infinity": (
        lambda d: paintings(
            d, None, raw=json.dumps(_with_box([1, 1, 5, 5])).replace("[1, 1, 5, 5]", "[1, 1, Infinity, 5]")
        ),
        ["details[0].box_xywh", "finite numbers", "inf"],
    ),
    "box NaN": (
        lambda d: paintings(
            d, None, raw=json.dumps(_with_box([1, 1, 5, 5])).replace("[1, 1, 5, 5]", "[NaN, 1, 5, 5]")
        ),
        ["details[0].box_xywh", "nan"],
    ),
    "box of strings": (lambda d: paintings(d, _with_box(["a", "b", "c", "d"])), ["details[0].box_xywh"]),
    "box of 3": (lambda d: paintings(d, _with_box([1, 2, 3])), ["details[0].box_xywh"]),
    "details 5": (lambda d: paintings(d, _with(details=5)), ["artworks[0].details", "expected a list"]),
    "detail not an object": (
        lambda d: paintings(d, _with(details=["face"])),
        ["details[0]", "expected an object"],
    ),
    "id a number": (lambda d: paintings(d, _with(id=7)), ["artworks[0].id", "expected a string"]),
    "unsafe id": (lambda d: paintings(d, _with(id="../../etc")), ["artworks[../../etc].id", "not allowed"]),
    "nested 100000 deep": (
        lambda d: paintings(d, None, raw="[" * 100_000 + "]" * 100_000),
        ["nested too deeply"],
    ),
    "not JSON": (lambda d: paintings(d, None, raw="{broken"), ["artworks.json", "not valid JSON"]),
    "not UTF-8": (lambda d: paintings(d, None, raw=b"\xff[]"), ["not valid JSON"]),
    "300-character file name": (lambda d: paintings(d, [_good_art(LONG)]), ["artworks[0].file", "too long"]),
    "zero-byte image": (
        lambda d: paintings(d, [_good_art()], {"a.jpg": b""}),
        ["artworks[a].image", "not an image"],
    ),
    "text renamed .jpg": (
        lambda d: paintings(d, [_good_art()], {"a.jpg": b"hello, I am a text file\n" * 20}),
        ["artworks[a].image", "not an image"],
    ),
    "decompression bomb": (
        lambda d: paintings(d, [_good_art("a.png")], {"a.png": _png_header(30_000, 30_000)}),
        ["artworks[a].image", "too large"],
    ),
    "../ path": (
        lambda d: paintings(d, [_good_art("../outside.jpg")]),
        ["artworks[0].file", "points outside"],
    ),
    "absolute path": (
        lambda d: paintings(d, [_good_art("/etc/hostname")]),
        ["artworks[0].file", "points outside"],
    ),
    "missing image": (
        lambda d: paintings(d, [_good_art("nowhere.jpg")], {}),
        ["artworks[a].image", "no such image"],
    ),
    "box outside": (
        lambda d: paintings(d, _with_box([150, 10, 40, 30])),
        ["details[d].box", "outside the image (160x120)"],
    ),
    "top level a string": (lambda d: paintings(d, "artworks"), ["artworks: expected a list"]),
    # wrong types are refused, never turned into text
    "title a list": (lambda d: paintings(d, _with(title=[1, 2])), ["artworks[0].title", "[1, 2]"]),
    "author an object in an object": (
        lambda d: paintings(d, _with(author={"en": {"a": 1}})),
        ["artworks[0].author.en: expected a text", "{'a': 1}"],
    ),
    "detail name a number": (
        lambda d: paintings(
            d, [{**_good_art(), "details": [{"id": "d", "box_xywh": [1, 1, 5, 5], "name": 5}]}]
        ),
        ["artworks[0].details[0].name", "5"],
    ),
    "language code EN": (
        lambda d: paintings(d, _with(title={"EN": "A"})),
        ["'EN' is not a language code like 'en' or 'pt-BR'"],
    ),
    "description of 1 MB": (
        lambda d: paintings(d, _with(description="x" * 2**20)),
        ["artworks[a].description.en: too long (1,048,576 characters; at most 20,000)"],
    ),
    # pictures are what their bytes are: refused when not one the lens reads, whatever their name
    "GIF named .png": (
        lambda d: paintings(d, [_good_art("a.png")], {"a.png": media_samples.picture("GIF", (160, 120))}),
        ["artworks[a].image", "a GIF image; use JPEG, PNG, WebP or BMP"],
    ),
    "TIFF named .jpg": (
        lambda d: paintings(d, [_good_art()], {"a.jpg": media_samples.picture("TIFF", (160, 120))}),
        ["artworks[a].image", "a TIFF image"],
    ),
    "AVIF named .jpg": (
        lambda d: paintings(d, [_good_art()], {"a.jpg": media_samples.picture("AVIF", (160, 120))}),
        ["artworks[a].image", "a AVIF image"],
    ),
}


def coco(folder: Path, data: object, raw: str | None = None, files: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.jpg").write_bytes(_jpeg())
    for name, content in (files or {}).items():
        (folder / name).write_bytes(content)
    path = folder / "coco.json"
    path.write_text(raw if raw is not None else json.dumps(data))
    return path


def _coco(**changes) -> dict:
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 160, "height": 120}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 30]}],
        "categories": [{"id": 1, "name": "a/face"}],
    }
    data.update(changes)
    return data


def _with_media(kind: str, rel: str) -> dict:
    return _coco(images=[{"id": 1, "file_name": "a.jpg", "smartlens": {"id": "a", kind: {"en": rel}}}])


COCO: dict[str, tuple[Callable[[Path], Path], list[str]]] = {
    "info a string": (
        lambda d: coco(d, _coco(info="made by hand")),
        ["coco.json", "info: expected an object"],
    ),
    "bbox NaN": (
        lambda d: coco(d, None, raw=json.dumps(_coco()).replace("[10, 10, 40, 30]", "[10, NaN, 40, 30]")),
        ["annotations[0].bbox", "finite"],
    ),
    "image id a list": (
        lambda d: coco(d, _coco(images=[{"id": [1], "file_name": "a.jpg"}])),
        ["images[0]", "'id' and 'file_name'"],
    ),
    "width float": (
        lambda d: coco(d, _coco(images=[{"id": 1, "file_name": "a.jpg", "width": 160.0, "height": 120}])),
        ["images[0].width"],
    ),
    "smartlens a list": (
        lambda d: coco(d, _coco(images=[{"id": 1, "file_name": "a.jpg", "smartlens": [1]}])),
        ["images[0].smartlens", "expected an object"],
    ),
    "no images": (lambda d: coco(d, _coco(images=[])), ["images", "empty"]),
    "title a list": (
        lambda d: coco(d, _coco(images=[{"id": 1, "file_name": "a.jpg", "smartlens": {"title": [1, 2]}}])),
        ["images[0].smartlens.title", "[1, 2]"],
    ),
    # media files are read for what they are: first bytes alone prove nothing
    **{
        f"audio: {name} as .mp3": (
            lambda d, data=data: coco(d, _with_media("audio", "a.mp3"), files={"a.mp3": data}),
            ["artworks[a].audio", "a.mp3: not an audio file the lens plays"],
        )
        for name, data in media_samples.FAKES.items()
    },
    "video: an AVIF still picture as .mp4": (
        lambda d: coco(d, _with_media("video", "a.mp4"), files={"a.mp4": media_samples.picture("AVIF")}),
        ["artworks[a].video", "a.mp4: its video has no duration"],
    ),
    "audio: an Ogg named .mp3": (
        lambda d: coco(d, _with_media("audio", "a.mp3"), files={"a.mp3": media_samples.ogg()}),
        ["artworks[a].audio", "a.mp3 is a .ogg file under another name; name it .ogg"],
    ),
    "captions: SRT named .vtt": (
        lambda d: coco(
            d, _with_media("captions", "a.vtt"), files={"a.vtt": b"1\n00:00:00,000 --> 00:00:01,000\nHi\n"}
        ),
        ["artworks[a].captions", "the first line must be WEBVTT"],
    ),
    "icon: a web page named .png": (
        lambda d: coco(
            d,
            _coco(annotations=[{**_coco()["annotations"][0], "smartlens": {"icon": "i.png"}}]),
            files={"i.png": b"<html>not a picture</html>"},
        ),
        ["details[face].icon", "not an image"],
    ),
}


def cli(*args: str, data: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smartlens", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, **TEST_ENV, "SMARTLENS_DATA": str(data)},
    )


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def museum(tmp_path_factory) -> Path:
    """A data folder holding a good guide 'museum' (two artworks)."""
    tmp = tmp_path_factory.mktemp("bad-inputs")
    src = tmp / "good"
    paintings(
        src,
        [_good_art(), {**_good_art("b.jpg"), "id": "b", "title": "B"}],
        {"a.jpg": _jpeg(1), "b.jpg": _jpeg(2)},
    )
    data = tmp / "data"
    out = cli("guide", "import", str(src), "--name", "museum", data=data)
    assert out.returncode == 0, out.stderr
    return data


def _assert_refused(out: subprocess.CompletedProcess, words: list[str]) -> None:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and out.stderr.startswith("error: "), out.stderr
    for w in words:
        assert w in out.stderr, (w, out.stderr)


@pytest.mark.parametrize("case", list(IMPORTS))
def test_bad_import_is_refused_and_the_guide_kept(museum, tmp_path, case):
    build, words = IMPORTS[case]
    guide = museum / "guides" / "museum"
    before = _snapshot(guide)
    src = build(tmp_path / "src")
    _assert_refused(cli("guide", "import", str(src), "--name", "museum", "--force", data=museum), words)
    assert _snapshot(guide) == before
    assert not list((museum / "guides").glob(".museum.*"))  # no staged folder left behind


@pytest.mark.parametrize("case", list(COCO))
def test_bad_coco_is_refused_and_the_guide_kept(museum, tmp_path, case):
    build, words = COCO[case]
    guide = museum / "guides" / "museum"
    before = _snapshot(guide)
    path = build(tmp_path / "src")
    args = ("guide", "import", str(path), "--images", str(path.parent), "--name", "museum", "--force")
    _assert_refused(cli(*args, data=museum), words)
    assert _snapshot(guide) == before


#: a broken guide.json (a curator's hand edit, a bad copy) -> words of the message
GUIDE_JSON: dict[str, tuple[Callable[[dict], str], list[str]]] = {
    "nested 100000 deep": (lambda g: "[" * 100_000 + "]" * 100_000, ["guide.json", "nested too deeply"]),
    "NaN box": (
        lambda g: json.dumps(g).replace("[10, 10, 40, 30]", "[NaN, 10, 40, 30]", 1),
        ["guide.json", "artworks[a].details[d].box", "nan"],
    ),
    "width 160.0": (
        lambda g: json.dumps(g).replace('"width": 160', '"width": 160.0', 1),
        ["artworks[a].width", "expected a whole number", "160.0"],
    ),
    "artworks an object": (lambda g: json.dumps({**g, "artworks": {}}), ["artworks: expected a list"]),
    "details 5": (
        lambda g: json.dumps({**g, "artworks": [{**g["artworks"][0], "details": 5}]}),
        ["artworks[a].details: expected a list"],
    ),
    "image ../": (
        lambda g: json.dumps({**g, "artworks": [{**g["artworks"][0], "image": "../../etc/passwd"}]}),
        ["artworks[a].image", "not allowed"],
    ),
    "image missing": (
        lambda g: json.dumps({**g, "artworks": [{**g["artworks"][0], "image": "images/gone.jpg"}]}),
        ["artworks[a].image", "no such image"],
    ),
    "not UTF-8": (lambda g: "\udcff[]", ["guide.json", "not valid JSON"]),
    "title [1, 2]": (
        lambda g: json.dumps({**g, "artworks": [{**g["artworks"][0], "title": [1, 2]}]}),
        ["artworks[a].title: expected an object, got [1, 2]"],
    ),
    "author {en: {a: 1}}": (
        lambda g: json.dumps({**g, "artworks": [{**g["artworks"][0], "author": {"en": {"a": 1}}}]}),
        ["artworks[a].author.en: expected a text, got {'a': 1}"],
    ),
    "width true": (
        lambda g: json.dumps({**g, "artworks": [{**g["artworks"][0], "width": True}]}),
        ["artworks[a].width: expected a whole number, got True"],
    ),
    "a typo in a key": (
        lambda g: json.dumps({**g, "artworks": [{**g["artworks"][0], "descripton": {"en": "x"}}]}),
        ["artworks[a].descripton: not a field of guide.json"],
    ),
    "box of floats": (
        lambda g: json.dumps(g).replace("[10, 10, 40, 30]", "[10.5, 10, 40, 30]", 1),
        ["artworks[a].details[d].box: expected [x, y, width, height] as 4 whole numbers of pixels"],
    ),
    "no languages": (lambda g: json.dumps({**g, "languages": []}), ["languages: expected at least 1 item"]),
    "format 2": (lambda g: json.dumps({**g, "format": "smartlens-guide/2"}), ["format: 'smartlens-guide/2'"]),
    "transcript too long": (
        lambda g: json.dumps({**g, "artworks": [{**g["artworks"][0], "transcript": {"en": "x" * 200_001}}]}),
        ["artworks[a].transcript.en: too long (200,001 characters; at most 200,000)"],
    ),
}


@pytest.mark.parametrize("case", list(GUIDE_JSON))
def test_broken_guide_json_check_index_recognize(museum, tmp_path, case):
    import shutil

    make, words = GUIDE_JSON[case]
    good = museum / "guides" / "museum"
    before = _snapshot(good)
    broken = tmp_path / "broken"
    shutil.copytree(good, broken)
    text = make(json.loads((good / "guide.json").read_text()))
    (broken / "guide.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    _assert_refused(cli("guide", "check", "--guide", str(broken), data=museum), words)
    if case in ("nested 100000 deep", "NaN box"):  # the same loader serves index and recognize
        _assert_refused(cli("index", "--guide", str(broken), data=museum), words)
        image = tmp_path / "frame.jpg"
        image.write_bytes(_jpeg(1))
        _assert_refused(cli("recognize", "--guide", str(broken), str(image), data=museum), words)
    assert _snapshot(good) == before


def test_bad_images_given_to_recognize_are_reported_one_by_one(museum, tmp_path):
    files = {"empty.jpg": b"", "text.jpg": b"not a picture", "cut.jpg": _jpeg()[:300], "long": None}
    paths = []
    for name, data in files.items():
        path = tmp_path / (LONG if data is None else name)
        if data is not None:
            path.write_bytes(data)
        paths.append(str(path))
    good = tmp_path / "good.jpg"
    good.write_bytes(_jpeg())
    out = cli("recognize", "--guide", "museum", "--json", str(good), *paths, data=museum)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    # the good picture's result on stdout; each bad one an error line on stderr, naming it
    assert [json.loads(x)["image"] for x in out.stdout.splitlines()] == [str(good)]
    errors = [x for x in out.stderr.splitlines() if x.startswith("error: ")]
    assert len(errors) == len(paths) and all(p in e for p, e in zip(paths, errors)), out.stderr


def test_force_import_keeps_a_backup_and_restore_brings_it_back(museum, tmp_path):
    guide = museum / "guides" / "museum"
    before = _snapshot(guide)
    src = paintings(tmp_path / "new", [{**_good_art(), "title": "Replaced"}], {"a.jpg": _jpeg(5)})
    assert cli("guide", "import", str(src), "--name", "museum", "--force", data=museum).returncode == 0
    assert _snapshot(guide) != before
    listed = cli("guide", "backups", "--guide", "museum", data=museum)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) >= 1
    out = cli("guide", "restore", "--guide", "museum", data=museum)
    assert out.returncode == 0, out.stderr
    assert _snapshot(guide) == before
    assert cli("guide", "check", "--guide", "museum", data=museum).returncode == 0
    _assert_refused(
        cli("guide", "restore", "--guide", "museum", "--backup", "../x", data=museum), ["not allowed"]
    )


def test_a_folder_here_named_like_a_guide_is_never_taken_for_it(museum, tmp_path):
    here = tmp_path / "here"
    mydocs = here / "mydocs"
    mydocs.mkdir(parents=True)
    (mydocs / "letter.txt").write_text("the user's own files")
    paintings(here / "museum", [_good_art()])  # a folder named like the guide 'museum'
    before = {"mydocs": _snapshot(mydocs), "museum": _snapshot(here / "museum")}
    src = paintings(tmp_path / "src", [_good_art()])
    out = cli("guide", "import", str(src), "--name", "mydocs", data=museum, cwd=here)
    assert out.returncode == 0, out.stderr
    assert (museum / "guides" / "mydocs" / "guide.json").is_file()  # the name is a guide under data/
    assert before == {"mydocs": _snapshot(mydocs), "museum": _snapshot(here / "museum")}
    assert sorted(p.name for p in here.iterdir()) == ["museum", "mydocs"]  # nothing moved or added
    # --guide museum is the guide under data/, never ./museum (which holds no guide.json)
    out = cli("guide", "check", "--guide", "museum", data=museum, cwd=here)
    assert out.returncode == 0 and "guide 'museum' is valid" in out.stdout, out.stderr
    _assert_refused(cli("guide", "check", "--guide", "nosuch", data=museum, cwd=here), ["no guide 'nosuch'"])
    # a folder is given as a path; a name that only a folder here has gets a hint
    _assert_refused(
        cli("guide", "check", "--guide", "./museum", data=museum, cwd=here), ["no guide at museum"]
    )
    (here / "mydocs2").mkdir()
    _assert_refused(
        cli("guide", "check", "--guide", "mydocs2", data=museum, cwd=here),
        ["no guide 'mydocs2'", "./mydocs2"],
    )
    _assert_refused(cli("guide", "check", "--guide", "My Docs", data=museum, cwd=here), ["./NAME"])
    assert cli("guide", "check", "--guide", str(museum / "guides" / "museum"), data=museum).returncode == 0
    guide_json = museum / "guides" / "museum" / "guide.json"
    assert cli("guide", "check", "--guide", str(guide_json), data=museum).returncode == 0


def test_imported_pictures_are_stored_under_what_they_are(tmp_path, settings):
    png = cv2.imencode(".png", _picture(7))[1].tobytes()
    src = paintings(
        tmp_path / "src",
        [_good_art("a.txt"), {**_good_art("b.jpg"), "id": "b"}],
        {"a.txt": _jpeg(6), "b.jpg": png},
    )
    out = cli("guide", "import", str(src), "--name", "renamed", data=settings.data)
    assert out.returncode == 0, out.stderr
    ref = load_guide("renamed", settings)
    assert [a.image for a in ref.guide.artworks] == ["images/a.jpg", "images/b.png"]
    assert ref.path("images/a.jpg").read_bytes() == _jpeg(6) and ref.path("images/b.png").read_bytes() == png


def test_guide_check_reads_every_file_for_what_it_is(museum, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(museum / "guides" / "museum", broken)
    data = json.loads((broken / "guide.json").read_text())
    art = data["artworks"][0]
    art["audio"] = {"en": "media/a.mp3"}
    art["video"] = {"en": "media/a.mp4"}
    art["captions"] = {"en": "media/a.vtt"}
    art["details"][0]["icon"] = "media/icon.png"
    (broken / "media").mkdir()
    (broken / "media" / "a.mp3").write_bytes(media_samples.FAKES["ID3 then a web page"])
    (broken / "media" / "a.mp4").write_bytes(media_samples.FAKES["HEIC header"])
    (broken / "media" / "a.vtt").write_bytes(b"<html>captions?</html>")
    (broken / "media" / "icon.png").write_bytes(media_samples.picture("GIF"))
    (broken / "guide.json").write_text(json.dumps(data))
    words = [
        "artworks[a].audio: media/a.mp3: not an audio file",
        "artworks[a].video: media/a.mp4: not a video file",
        "artworks[a].captions: media/a.vtt: not a WebVTT captions file",
        "artworks[a].details[d].icon: media/icon.png: a GIF image",
    ]
    _assert_refused(cli("guide", "check", "--guide", str(broken), data=museum), words)
    (broken / "media" / "a.mp3").write_bytes(media_samples.mp3())
    (broken / "media" / "a.mp4").write_bytes(media_samples.mp4())
    (broken / "media" / "a.vtt").write_bytes(media_samples.VTT)
    (broken / "media" / "icon.png").write_bytes(media_samples.picture("PNG"))
    out = cli("guide", "check", "--guide", str(broken), data=museum)
    assert out.returncode == 0 and "is valid" in out.stdout, out.stderr


def test_unicode_names_import(tmp_path, settings):
    src = paintings(tmp_path / "src", [_good_art("Ñandú 🎨 — 夜.jpg")], {"Ñandú 🎨 — 夜.jpg": _jpeg()})
    imp = import_paintings(src, "u")
    assert imp.guide.artworks[0].image == "images/a.jpg"


def _exif_rotated_jpeg(path: Path) -> None:
    """A phone photo: stored 160x120 (landscape) with EXIF orientation 6 (shown 120x160)."""
    img = Image.fromarray(_picture(3)[:, :, ::-1])
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(path, "JPEG", exif=exif.tobytes())


def test_exif_rotated_photo_through_import_and_add(tmp_path, settings):
    src = tmp_path / "src"
    src.mkdir()
    _exif_rotated_jpeg(src / "a.jpg")
    # upright it is 120 wide and 160 tall: this box fits upright, not in the stored 160x120
    art = {"id": "a", "file": "a.jpg", "title": "A", "details": [{"id": "d", "box_xywh": [10, 100, 60, 50]}]}
    (src / "artworks.json").write_text(json.dumps([art]))
    out = cli("guide", "import", str(src), "--name", "phone", data=settings.data)
    assert out.returncode == 0, out.stderr
    ref = load_guide("phone", settings)
    assert (ref.guide.artworks[0].width, ref.guide.artworks[0].height) == (120, 160)
    ref = add_artwork(ref, (src / "a.jpg").read_bytes(), "photo.jpg", "Photo", "en")
    added = ref.guide.artwork("photo")
    assert (added.width, added.height) == (120, 160)
    assert load_guide("phone", settings).guide.artwork("photo").height == 160


def _small_guide(settings) -> object:
    src = paintings(settings.data.parent / "src", [_good_art()], {"a.jpg": _jpeg(4, 320, 240)})
    imp = import_paintings(src, "small")
    from smartlens.guide import save_guide

    return save_guide(imp.guide, settings.guides / "small", files=imp.files)


def test_a_damaged_index_cache_is_rebuilt(settings, caplog):
    ref = _small_guide(settings)
    first = load_retrieval(ref, settings)
    path = first.info.path
    data = path.read_bytes()
    for damage in (b"", b"PK\x03\x04 not a zip", b"\0" * 100, data[:-10]):
        path.write_bytes(damage)
        with caplog.at_level(logging.WARNING):
            assert load_index(path) is None  # whatever the damage: a rebuild, not an exception
    path.write_bytes(data[: len(data) // 2])  # truncated: BadZipFile before
    with caplog.at_level(logging.WARNING):
        rec = load_retrieval(ref, settings)
    assert rec.info.built
    rec.recognize(_picture(4, 320, 240))  # serves frames
    assert "damaged index cache" in caplog.text and str(path) in caplog.text


def test_an_unwritable_cache_still_serves_the_index_built(settings, caplog):
    ref = _small_guide(settings)
    settings.cache.parent.mkdir(parents=True, exist_ok=True)
    settings.cache.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING):
        rec = load_retrieval(ref, settings)
    rec.recognize(_picture(4, 320, 240))  # serves frames from the index in memory
    assert "could not save the index" in caplog.text


def test_damaged_model_files_are_named(settings):
    from smartlens.errors import UserError
    from smartlens.model_store import read_info

    folder = settings.models / "small" / "classification-1"
    folder.mkdir(parents=True)
    (folder / "info.json").write_text("{")
    with pytest.raises(UserError, match=r"info.json: damaged"):
        read_info(folder)


def test_library_import_errors_name_the_field(tmp_path):
    for case in ("box NaN", "details 5", "nested 100000 deep", "300-character file name"):
        build, words = IMPORTS[case]
        with pytest.raises(GuideError) as err:
            import_paintings(build(tmp_path / case.replace(" ", "-")), "x")
        assert all(w in str(err.value) for w in words), str(err.value)


def test_settings_are_not_needed_for_parsing():
    # a guide dict with odd types goes through from_dict without a traceback
    from smartlens.guide.model import Guide

    bad = {
        "name": "x",
        "languages": ["en"],
        "default_language": "en",
        "artworks": [{"id": "a", "width": float("nan")}],
    }
    with pytest.raises(GuideError, match=r"artworks\[a\]\.width"):
        Guide.from_dict(bad)
    assert dataclasses.is_dataclass(Guide)
