"""The guide: import, save, load, export, and every validation rule with its message."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from smartlens.errors import GuideError, UnsafeNameError
from smartlens.guide import Guide, load_guide, save_guide
from smartlens.guide.formats.coco import export_coco, import_coco
from smartlens.guide.formats.paintings import import_paintings

from conftest import PAINTINGS, ROOT, needs_paintings
from conftest import SESSION_SETTINGS as SETTINGS


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _comparable(guide: Guide) -> dict:
    d = guide.to_dict()
    d.pop("name")
    return d


@needs_paintings
def test_round_trip_paintings_coco(tmp_path, settings):
    imp = import_paintings(PAINTINGS, "museum")
    saved = save_guide(imp.guide, tmp_path / "museum", files=imp.files)
    loaded = load_guide(tmp_path / "museum", SETTINGS)
    assert loaded.guide == saved.guide
    assert len(loaded.guide.artworks) == 8
    assert loaded.guide.languages == ["en", "it"]
    mona = loaded.guide.artwork("mona-lisa")
    assert mona.detail("face").box == (155, 84, 136, 182)
    assert loaded.guide.text(mona.title, "it") == "La Gioconda"
    assert loaded.guide.text(mona.author, "it") == "Leonardo da Vinci"  # fallback to default language

    out = export_coco(loaded, tmp_path / "export" / "coco.json")
    coco = json.loads(out.read_text())
    assert len(coco["annotations"]) == 24 and len(coco["images"]) == 8
    again = import_coco(out, out.parent, "museum")
    assert again.guide == loaded.guide
    resaved = save_guide(again.guide, tmp_path / "again", files=again.files)
    assert _comparable(load_guide(resaved.root, SETTINGS).guide) == _comparable(loaded.guide)


@needs_paintings
def test_plain_coco_import_matches_artworks_json(tmp_path):
    a = import_paintings(PAINTINGS, "a").guide
    c = import_coco(PAINTINGS / "annotations.coco.json", PAINTINGS, "c").guide
    assert [x.id for x in a.artworks] == [x.id for x in c.artworks]
    for xa, xc in zip(a.artworks, c.artworks):
        assert [(d.id, d.box) for d in xa.details] == [(d.id, d.box) for d in xc.details]
        assert (xa.width, xa.height) == (xc.width, xc.height)


@pytest.fixture
def saved_demo(tmp_path, demo_guide):
    """A private copy of the demo guide, and a snapshot of its files."""
    ref = save_guide(
        demo_guide.guide,
        tmp_path / "g",
        files={a.image: demo_guide.path(a.image) for a in demo_guide.guide.artworks},
    )
    return ref, _snapshot(ref.root)


def _broken(guide: Guide, how: str) -> Guide:
    g = copy.deepcopy(guide)
    art = g.artworks[1]
    if how == "missing image":
        art.image = "images/nowhere.jpg"
    elif how == "box outside":
        art.details[0].box = (art.width - 10, 5, 50, 50)
    elif how == "unknown language":
        art.details[0].name["fr"] = "Le soleil"
    elif how == "duplicate artwork id":
        g.artworks[2].id = art.id
    elif how == "duplicate detail id":
        art.details[1].id = art.details[0].id
    elif how == "unsafe id":
        art.id = "../../etc"
    return g


@pytest.mark.parametrize(
    "how,field,words",
    [
        ("missing image", "artworks[the-blue-house].image", "no such image file"),
        ("box outside", "artworks[the-blue-house].details[house].box", "goes outside the image"),
        ("unknown language", "artworks[the-blue-house].details[house].name", "unknown language 'fr'"),
        ("duplicate artwork id", "artworks[the-blue-house].id", "duplicate artwork id"),
        ("duplicate detail id", "artworks[the-blue-house].details[house].id", "duplicate detail id"),
        ("unsafe id", "artworks[../../etc].id", "not allowed"),
    ],
)
def test_validation_names_field_and_keeps_saved_guide(saved_demo, how, field, words):
    ref, before = saved_demo
    with pytest.raises(GuideError) as err:
        save_guide(_broken(ref.guide, how), ref.root)
    message = str(err.value)
    assert field in message and words in message, message
    assert _snapshot(ref.root) == before  # nothing saved was touched
    assert load_guide(ref.root, SETTINGS).guide == ref.guide


def test_malformed_guide_json_reports_fields(tmp_path, saved_demo):
    ref, _ = saved_demo
    data = json.loads((ref.root / "guide.json").read_text())
    data["artworks"][0]["details"][0]["box"] = "left corner"
    data["artworks"][1]["width"] = -3
    (ref.root / "guide.json").write_text(json.dumps(data))
    with pytest.raises(GuideError) as err:
        load_guide(ref.root, SETTINGS)
    assert "details[sun].box: expected [x, y, width, height]" in str(err.value)
    assert "artworks[the-blue-house].width: expected a number over 0, got -3" in str(err.value)
    (ref.root / "guide.json").write_text("{not json")
    with pytest.raises(GuideError, match="not valid JSON"):
        load_guide(ref.root, SETTINGS)


def test_corrupt_image_in_guide_is_reported(tmp_path, saved_demo):
    ref, _ = saved_demo
    (ref.root / ref.guide.artworks[0].image).write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(GuideError, match=r"artworks\[harbour-at-dawn\]\.image: .*(unreadable|not an image)"):
        load_guide(ref.root, SETTINGS)


def test_import_refuses_paths_outside_folder(tmp_path):
    (tmp_path / "artworks.json").write_text(
        json.dumps({"artworks": [{"id": "x", "file": "../../etc/passwd"}]})
    )
    with pytest.raises(GuideError, match="points outside"):
        import_paintings(tmp_path, "x")


def test_replace_only_with_force(tmp_path, demo_guide):
    files = {a.image: demo_guide.path(a.image) for a in demo_guide.guide.artworks}
    save_guide(demo_guide.guide, tmp_path / "g", files=files)
    with pytest.raises(FileExistsError, match="--force"):
        save_guide(demo_guide.guide, tmp_path / "g", files=files)
    g2 = copy.deepcopy(demo_guide.guide)
    g2.artworks = g2.artworks[:2]
    save_guide(g2, tmp_path / "g", files=files, replace=True)
    assert len(load_guide(tmp_path / "g", SETTINGS).guide.artworks) == 2
    assert not list(tmp_path.glob(".g.*"))  # no staging or trash folder left behind


def test_failed_replace_keeps_old_guide(tmp_path, demo_guide, monkeypatch):
    files = {a.image: demo_guide.path(a.image) for a in demo_guide.guide.artworks}
    ref = save_guide(demo_guide.guide, tmp_path / "g", files=files)
    before = _snapshot(ref.root)
    import smartlens.guide.store as store

    calls = {"n": 0}
    real = store.atomic_copy

    def flaky(src, dest):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(src, dest)

    monkeypatch.setattr(store, "atomic_copy", flaky)
    with pytest.raises(OSError, match="disk full"):
        save_guide(demo_guide.guide, ref.root, files=files, replace=True)
    assert _snapshot(ref.root) == before
    assert not list(tmp_path.glob(".g.*"))


def test_demo_guide_is_complete(demo_guide):
    g = demo_guide.guide
    assert len(g.artworks) >= 5 and set(g.languages) == {"en", "it"}
    for art in g.artworks:
        assert 2 <= len(art.details) <= 3
        assert art.title["en"] and art.title["it"] and art.description["it"]
        for d in art.details:
            assert d.name["en"] and d.name["it"]
        img = cv2.imread(str(demo_guide.path(art.image)))
        assert img.shape[:2] == (art.height, art.width) and img.std() > 20


def test_unsafe_guide_name():
    from smartlens.guide import guide_dir

    with pytest.raises(UnsafeNameError, match=r"to use a folder, give its path \(\./NAME"):
        guide_dir("Bad Name!", SETTINGS)


def test_a_guide_name_is_a_guide_under_the_data_folder_and_a_path_looks_like_one(tmp_path, monkeypatch):
    from smartlens.guide import guide_dir

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mydocs").mkdir()  # a folder here named like a guide changes nothing
    assert guide_dir("mydocs", SETTINGS) == SETTINGS.guides / "mydocs"
    assert guide_dir("./mydocs", SETTINGS) == Path("mydocs")
    assert guide_dir("../x", SETTINGS) == Path("../x")
    assert guide_dir("/srv/guides/x", SETTINGS) == Path("/srv/guides/x")
    assert guide_dir("x/guide.json", SETTINGS) == Path("x")
    assert guide_dir("guide.json", SETTINGS) == Path(".")
    assert guide_dir(".", SETTINGS) == Path(".")
    assert guide_dir(Path("mydocs"), SETTINGS) == Path("mydocs")  # code holding a Path means a folder


def test_image_errors(tmp_path):
    from smartlens.errors import ImageError
    from smartlens.imaging import as_bgr, decode_image, read_image

    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")
    with pytest.raises(ImageError, match="not an image"):
        decode_image(b"hello, I am text")
    good = cv2.imencode(".png", np.zeros((40, 40, 3), np.uint8))[1].tobytes()
    with pytest.raises(ImageError, match="corrupt|truncated|unreadable"):
        decode_image(good[: len(good) // 2])
    huge = cv2.imencode(".png", np.zeros((6000, 8000), np.uint8))[1].tobytes()  # 48 Mpx, ~50 KB
    with pytest.raises(ImageError, match="too large"):
        decode_image(huge)
    with pytest.raises(ImageError, match="no such image"):
        read_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="too small"):
        as_bgr(np.zeros((4, 4, 3), np.uint8))
    assert as_bgr(np.zeros((20, 30), np.uint8)).shape == (20, 30, 3)
    assert as_bgr(np.zeros((20, 30, 4), np.float32)).dtype == np.uint8


# --- the schema of guide.json -------------------------------------------------------------------
def test_the_published_schema_is_the_one_the_loader_uses(demo_guide):
    from smartlens.guide.model import guide_schema

    published = json.loads((ROOT / "docs" / "guide.schema.json").read_text(encoding="utf-8"))
    assert published == guide_schema(), (
        "docs/guide.schema.json is stale: python -m smartlens guide schema > it"
    )
    out = subprocess.run(
        [sys.executable, "-m", "smartlens", "guide", "schema"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0 and json.loads(out.stdout) == published
    # a tool that knows only the schema agrees with the loader on good and bad guides
    jsonschema = pytest.importorskip("jsonschema")
    checker = jsonschema.Draft202012Validator(published)
    good = json.loads((demo_guide.root / "guide.json").read_text())
    assert not list(checker.iter_errors(good))
    art = good["artworks"][0]
    for bad in (
        {**good, "title": [1, 2]},
        {**good, "artworks": [{**art, "author": {"en": {"a": 1}}}]},
        {**good, "artworks": [{**art, "width": 10.5}]},
        {**good, "artworks": [{**art, "descripton": {}}]},
        {**good, "artworks": [{**art, "title": {"EN": "x"}}]},
        {**good, "artworks": [{**art, "image": "../x.jpg"}]},
        {**good, "languages": []},
        {**good, "format": "smartlens-guide/2"},
    ):
        assert list(checker.iter_errors(bad)), bad
        with pytest.raises(GuideError):
            Guide.from_dict(bad)


@pytest.mark.parametrize(
    "change,words",
    [
        (lambda g: g.update(title=[1, 2]), "title: expected an object, got [1, 2]"),
        (
            lambda g: g["artworks"][0].update(author={"en": {"a": 1}}),
            "author.en: expected a text, got {'a': 1}",
        ),
        (lambda g: g["artworks"][0].update(year={"en": 1503}), "year.en: expected a text, got 1503"),
        (lambda g: g["artworks"][0].update(width="470"), "width: expected a whole number, got '470'"),
        (lambda g: g["artworks"][0].update(height=True), "height: expected a whole number, got True"),
        (lambda g: g["artworks"][0].update(icon="x.png"), "icon: not a field of guide.json"),
        (lambda g: g["artworks"][0]["details"][0].update(concept=7), "concept: expected a text, got 7"),
        (
            lambda g: g["artworks"][0]["details"][0].update(box=[1, 2, 0, 4]),
            "width and height must be positive",
        ),
        (lambda g: g["artworks"][0]["details"][0].update(box=[-1, 2, 3, 4]), "as 4 whole numbers of pixels"),
        (lambda g: g["artworks"][0].update(captions={"en": "/etc/passwd"}), "must be a relative path"),
        (lambda g: g.update(languages="en"), "languages: expected a list, got 'en'"),
        (lambda g: g.update(default_language=None), "default_language: expected a text, got None"),
        (lambda g: g["artworks"].insert(1, 5), "artworks[1]: expected an object, got 5"),
    ],
)
def test_wrong_types_are_refused_not_turned_into_text(demo_guide, change, words):
    data = json.loads((demo_guide.root / "guide.json").read_text())
    change(data)
    with pytest.raises(GuideError) as err:
        Guide.from_dict(data, "guide.json")
    assert words in str(err.value) and str(err.value).startswith("guide.json is not valid"), str(err.value)


def test_new_optional_fields_leave_older_guides_as_they_were(demo_guide):
    data = json.loads((demo_guide.root / "guide.json").read_text())
    guide = Guide.from_dict(data)
    assert guide.to_dict() == data  # byte for byte the same keys: fingerprints of indexes unchanged
    assert all("captions" not in a and "transcript" not in a for a in data["artworks"])
    art = guide.artworks[0]
    art.captions, art.transcript = {"en": "media/a.vtt"}, {"en": "Words."}
    art.details[0].transcript = {"it": "Parole."}
    again = Guide.from_dict(json.loads(json.dumps(guide.to_dict())))
    assert again == guide and again.artworks[0].details[0].transcript == {"it": "Parole."}
