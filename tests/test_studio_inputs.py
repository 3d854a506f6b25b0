"""Bad input through the studio's own paths (the pages, driven with AppTest, and the library
functions they call): each gets a clear message, and nothing saved is lost or corrupted.
Also: per-detail audio, video and pictures attached on the annotate page and shown back."""

from __future__ import annotations

import hashlib
import io
import wave
from pathlib import Path

import cv2
import media_samples
import numpy as np
import pytest
from PIL import Image
from test_studio import button, studio, studio_guide  # noqa: F401  (a fixture, used by name)

from smartlens.errors import GuideError, UserError
from smartlens.guide import edit as guide_edit
from smartlens.guide import load_guide
from smartlens.imaging import encode_jpeg, fit_within, read_image

from conftest import SESSION_SETTINGS as SETTINGS

RED = (0, 0, 255)


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def picture(w: int, h: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    cv2.circle(img, (w // 2, h // 2), min(w, h) // 4, (255, 255, 255), max(2, w // 100))
    return img


def shown(elements) -> list[str]:
    """The texts of message elements as a person reads them (markdown escapes removed)."""
    return [e.value.replace("\\", "") for e in elements]


def uploader(at, label: str):
    return next(u for u in at.file_uploader if u.label.startswith(label))


def test_bad_uploads_on_the_guide_page_are_named_and_the_good_one_added(studio_guide):  # noqa: F811
    name = studio_guide.guide.name
    root = studio_guide.root
    before = snapshot(root)
    good = encode_jpeg(picture(400, 300, 1))
    at = studio(guide=name)
    uploader(at, "Pictures").set_value(
        [
            ("notes.jpg", b"Dear visitors, the museum is closed on Mondays.\n" * 20, "image/jpeg"),
            ("cut.jpg", encode_jpeg(picture(640, 480, 2))[:3000], "image/jpeg"),
            ("../../outside/Phone Photo.JPG", good, "image/jpeg"),
        ]
    )
    button(at, "Add these pictures").click()
    at.run()
    assert not at.exception, at.exception
    errors = shown(at.error)
    assert any("notes.jpg" in e and "not an image" in e for e in errors), errors
    assert any("cut.jpg" in e and ("truncated" in e or "corrupt" in e) for e in errors), errors
    assert any("Added 1 artwork(s): phone-photo" in s.value for s in at.success), [
        s.value for s in at.success
    ]
    after = snapshot(root)
    kept = {k: v for k, v in before.items() if k != "guide.json"}
    assert {k: after.get(k) for k in kept} == kept  # every file saved before is as it was
    assert set(after) - set(before) == {"images/phone-photo.jpg"}
    assert not (root.parent / "outside").exists() and not (root.parent.parent / "outside").exists()
    ref = load_guide(name, SETTINGS)
    assert [a.id for a in ref.guide.artworks][-1] == "phone-photo"
    # the uploader is emptied: a second click adds nothing twice
    button(at, "Add these pictures").click()
    at.run()
    assert len(load_guide(name, SETTINGS).guide.artworks) == len(ref.guide.artworks)


def test_a_100_megapixel_scan_gets_a_working_copy_and_the_original_is_kept(studio_guide):  # noqa: F811
    w, h = 12_000, 8_400  # 100.8 Mpx, over the 40 Mpx working limit
    gradient = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
    img = np.empty((h, w, 3), np.uint8)
    img[:] = gradient
    cv2.rectangle(img, (w // 4, h // 4), (w // 2, h // 2), RED, -1)
    data = encode_jpeg(img, 80)
    del img
    at = studio(guide=studio_guide.guide.name)
    uploader(at, "Pictures").set_value(("Big Scan.jpg", data, "image/jpeg"))
    button(at, "Add these pictures").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    ref = load_guide(studio_guide.guide.name, SETTINGS)
    art = ref.guide.artwork("big-scan")
    assert max(art.width, art.height) == 2400 and abs(art.width / art.height - w / h) < 0.01
    working = read_image(ref.path(art.image))
    assert working.shape[:2] == (art.height, art.width)
    y, x = int(art.height * 0.375), int(art.width * 0.375)  # inside the red rectangle
    assert working[y, x, 2] > 200 and working[y, x, 0] < 60
    assert art.original and ref.path(art.original).read_bytes() == data  # the upload, byte for byte
    assert any("original kept" in c.value for c in at.caption)


def _exif_rotated_photo(upright: np.ndarray) -> bytes:
    """What a phone saves for ``upright``: the sensor's landscape pixels and EXIF orientation 6
    ("turn 90 degrees clockwise to view")."""
    stored = np.ascontiguousarray(np.rot90(upright, k=1))  # counter-clockwise: 6 turns it back
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored[:, :, ::-1]).save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def test_boxes_drawn_on_an_exif_rotated_photo_land_where_drawn(studio_guide):  # noqa: F811
    # upright the photo is 1200 wide and 1600 tall, with a red square at x 200..500, y 1000..1300
    upright = cv2.cvtColor(cv2.cvtColor(picture(1200, 1600, 3), cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    cv2.rectangle(upright, (200, 1000), (500, 1300), RED, -1)
    data = _exif_rotated_photo(upright)
    assert Image.open(io.BytesIO(data)).size == (1600, 1200)  # stored sideways
    ref = guide_edit.add_artwork(studio_guide, data, "IMG_0001.JPG", "Phone photo", "en")
    art = ref.guide.artwork("phone-photo")
    assert (art.width, art.height) == (1200, 1600)
    # the annotate page shows the picture through the one reader, fitted to its canvas
    shown, _ = fit_within(read_image(ref.path(art.image)), 720)
    assert shown.shape[:2] == (720, 540)
    # the curator draws round the red square where they see it on the canvas
    red = (shown[:, :, 2] > 200) & (shown[:, :, 1] < 60) & (shown[:, :, 0] < 60)
    ys, xs = np.nonzero(red)
    drawn = {
        "label": "square",
        "left": float(xs.min()),
        "top": float(ys.min()),
        "width": float(xs.max() - xs.min() + 1),
        "height": float(ys.max() - ys.min() + 1),
    }
    [(label, box)] = guide_edit.boxes_from_canvas([drawn], (540, 720), (art.width, art.height))
    assert label == "square"
    assert np.allclose(box, (200, 1000, 301, 301), atol=4), box
    ref = guide_edit.set_details(ref, art.id, [("square", box, "Square", "")], "en")
    saved = load_guide(ref.root, SETTINGS).guide.artwork(art.id).detail("square")
    x, y, bw, bh = saved.box
    crop = read_image(ref.path(art.image))[y : y + bh, x : x + bw]  # what recognition and training cut
    assert (crop[:, :, 2] > 200).mean() > 0.9 and (crop[:, :, 0] < 60).mean() > 0.9


def test_two_curators_saving_the_same_artwork_the_second_is_told(studio_guide):  # noqa: F811
    name = studio_guide.guide.name
    art_id = studio_guide.guide.artworks[0].id
    first, second = studio(guide=name), studio(guide=name)  # both pages drawn from the same guide

    def save_title(at, title: str) -> None:
        [t for t in at.text_input if t.label == "Title (en)"][0].input(title)
        [b for b in at.button if b.label == "Save texts (en)"][0].click()
        at.run()
        assert not at.exception, at.exception

    save_title(first, "Harbour, first curator")
    assert not first.error
    save_title(second, "Harbour, second curator")
    errors = shown(second.error)
    assert any("changed by someone else" in e and "nothing was saved" in e for e in errors), errors
    saved = load_guide(name, SETTINGS).guide.artwork(art_id)
    assert saved.title["en"] == "Harbour, first curator"  # the first curator's text is kept
    # the second page now shows the saved text: a save from it is accepted
    save_title(second, "Harbour, agreed")
    assert load_guide(name, SETTINGS).guide.artwork(art_id).title["en"] == "Harbour, agreed"


def _wav(seconds: float = 0.2) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((np.sin(np.arange(int(8000 * seconds)) * 0.3) * 8000).astype("<i2").tobytes())
    return out.getvalue()


def _mp4(path: Path) -> bytes:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (64, 48))
    for k in range(5):
        writer.write(np.full((48, 64, 3), 40 * k, np.uint8))
    writer.release()
    return path.read_bytes()


def test_detail_audio_video_and_picture_on_the_annotate_page(studio_guide, tmp_path):  # noqa: F811
    name = studio_guide.guide.name
    art = studio_guide.guide.artworks[0]
    det = art.details[0]
    at = studio("annotate.py", guide=name)
    assert any(det.id in e.label for e in at.expander)

    def attach(kind: str, filename: str, data: bytes, mime: str) -> None:
        round_ = at.session_state["media_round"]
        at.file_uploader(key=f"up-{kind}-{art.id}-{det.id}-{round_}").set_value((filename, data, mime))
        at.run()
        at.button(key=f"attach-{kind}-{art.id}-{det.id}").click()
        at.run()
        assert not at.exception, at.exception

    wav, mp4 = _wav(), _mp4(tmp_path / "clip.mp4")
    attach("audio", "../../voice.wav", wav, "audio/wav")
    attach("video", "clip.mp4", mp4, "video/mp4")
    photo = encode_jpeg(picture(500, 400, 5))
    attach("picture", "close-up.jpg", photo, "image/jpeg")
    assert not at.error, [e.value for e in at.error]
    ref = load_guide(name, SETTINGS)
    saved = ref.guide.artwork(art.id).detail(det.id)
    audio, video, icon = ref.path(saved.audio["en"]), ref.path(saved.video["en"]), ref.path(saved.icon or "")
    assert audio.read_bytes() == wav and video.read_bytes() == mp4
    assert audio.parent == ref.root / "media" / art.id and audio.suffix == ".wav"  # stored under the guide
    assert read_image(icon).shape[:2] == (400, 500)
    assert saved.audio.keys() == {"en"} and saved.name == det.name  # texts kept
    # shown back on the page
    assert len(at.get("audio")) == 1 and len(at.get("video")) == 1
    assert any(b.label == "Remove" for b in at.button)

    # a file that is not what its name says is refused, and what was attached stays
    before = snapshot(ref.root)
    attach("video", "film.mp4", b"<html>not a film</html>", "video/mp4")
    assert any("not a video file the lens plays" in e for e in shown(at.error)), shown(at.error)
    assert snapshot(ref.root) == before
    # replacing the audio removes the old file once the guide is saved
    attach("audio", "voice2.wav", _wav(0.3), "audio/wav")
    new_audio = ref.path(load_guide(name, SETTINGS).guide.artwork(art.id).detail(det.id).audio["en"])
    assert new_audio != audio and new_audio.is_file() and not audio.exists()
    # removing the picture deletes its file
    at.button(key=f"rm-picture-{art.id}-{det.id}").click()
    at.run()
    assert load_guide(name, SETTINGS).guide.artwork(art.id).detail(det.id).icon is None and not icon.exists()


def test_detail_media_refused_cleanly(studio_guide):  # noqa: F811
    ref = studio_guide
    art = ref.guide.artworks[0]
    det = art.details[0]
    before = snapshot(ref.root)
    cases = [
        ("audio", "en", b"", "empty.mp3", "empty"),
        ("audio", "en", b"MZ\x90\x00 an executable", "song.mp3", "not an audio file"),
        ("audio", "fr", _wav(), "voice.wav", "unknown language 'fr'"),
        ("picture", None, b"GIF89a not really", "face.png", "not an image"),
        ("picture", None, media_samples.picture("GIF"), "face.png", "a GIF image; use JPEG"),
        ("picture", None, media_samples.picture("TIFF"), "face.jpg", "a TIFF image; use JPEG"),
        ("captions", "en", b"1\n00:00:00,000 --> 00:00:01,000\nSRT, not WebVTT\n", "a.vtt", "must be WEBVTT"),
        ("captions", "en", b"WEBVTT\n\n\xff\xfe not UTF-8", "a.vtt", "not UTF-8"),
        ("captions", "en", b"WEBVTT\n" + b"x" * (2**20), "big.vtt", "file too large"),
        ("hologram", "en", _wav(), "a.wav", "media kind 'hologram'"),
    ]
    for kind, lang, data, filename, words in cases:
        with pytest.raises(UserError, match=words):
            guide_edit.set_detail_media(ref, art.id, det.id, kind, lang, data, filename)
    with pytest.raises(GuideError, match="has no detail 'nope'"):
        guide_edit.set_detail_media(ref, art.id, "nope", "audio", "en", _wav(), "a.wav")
    with pytest.raises(GuideError, match="media kind 'picture'"):  # an artwork's picture is its image
        guide_edit.set_media(ref, art.id, None, "picture", None, media_samples.picture("JPEG"), "a.jpg")
    assert snapshot(ref.root) == before
    assert not list((ref.root / "media").rglob("*")) if (ref.root / "media").exists() else True


#: name -> (kind, file name claimed, bytes): files that start like media and are not
FAKE_MEDIA = {
    **{f"{name} as .mp3": ("audio", "a.mp3", data) for name, data in media_samples.FAKES.items()},
    **{f"{name} as .mp4": ("video", "a.mp4", data) for name, data in media_samples.FAKES.items()},
    "AVIF still picture as .mp4": ("video", "photo.mp4", media_samples.picture("AVIF")),
    "a video as audio": ("audio", "a.mp3", media_samples.mp4()),
    "audio as a video": ("video", "a.mp4", media_samples.m4a()),
    "an mp3 cut to 300 bytes": ("audio", "a.mp3", media_samples.mp3()[:300]),
}


@pytest.mark.parametrize("case", list(FAKE_MEDIA))
def test_fake_media_are_refused_by_what_they_are(studio_guide, case):  # noqa: F811
    kind, filename, data = FAKE_MEDIA[case]
    ref = studio_guide
    art, det = ref.guide.artworks[0], ref.guide.artworks[0].details[0]
    before = snapshot(ref.root)
    with pytest.raises(UserError) as err:
        guide_edit.set_detail_media(ref, art.id, det.id, kind, "en", data, filename)
    message = str(err.value)
    assert f"detail '{det.id}', {kind}: '{filename}'" in message, message  # names what was refused
    assert any(w in message for w in ("not an audio file", "not a video file", "holds no", "no duration")), (
        message
    )
    assert snapshot(ref.root) == before


#: file name claimed -> (kind, bytes, extension it is stored under): the bytes decide, not the name
REAL_MEDIA = {
    "voice.mp3 (an Ogg Opus)": ("audio", media_samples.ogg, "ogg"),
    "voice.wav (an MP3)": ("audio", media_samples.mp3, "mp3"),
    "voice.exe (a WAV)": ("audio", media_samples.wav, "wav"),
    "voice.mp3 (an AAC in MP4)": ("audio", media_samples.m4a, "m4a"),
    "clip.webm (an H.264 MP4)": ("video", media_samples.mp4, "mp4"),
    "clip.mp4 (a VP8 WebM)": ("video", media_samples.webm, "webm"),
    "subs.txt (WebVTT)": ("captions", lambda: media_samples.VTT, "vtt"),
    "close-up.txt (a JPEG)": ("picture", lambda: media_samples.picture("JPEG", (200, 160)), "jpg"),
    "close-up.jpg (a PNG)": ("picture", lambda: media_samples.picture("PNG", (200, 160)), "jpg"),
}


@pytest.mark.parametrize("case", list(REAL_MEDIA))
def test_media_are_stored_under_what_they_really_are(studio_guide, case):  # noqa: F811
    kind, make, ext = REAL_MEDIA[case]
    data = make()
    ref = studio_guide
    art, det = ref.guide.artworks[0], ref.guide.artworks[0].details[0]
    ref = guide_edit.set_detail_media(ref, art.id, det.id, kind, "en", data, case.split(" ")[0])
    saved = load_guide(ref.root, SETTINGS).guide.artwork(art.id).detail(det.id)
    rel = saved.icon if kind == "picture" else getattr(saved, kind)["en"]
    assert rel and rel.endswith(f".{ext}") and rel.startswith(f"media/{art.id}/"), rel
    stored = ref.path(rel).read_bytes()
    assert stored == data if kind != "picture" else read_image(ref.path(rel)).shape[:2] == (160, 200)


def test_artwork_captions_and_transcripts(studio_guide):  # noqa: F811
    ref = studio_guide
    art = ref.guide.artworks[0]
    det = art.details[0]
    ref = guide_edit.set_media(ref, art.id, None, "video", "en", media_samples.mp4(), "film.mp4")
    ref = guide_edit.set_media(ref, art.id, None, "captions", "en", media_samples.VTT, "film.vtt")
    ref = guide_edit.set_media(ref, art.id, det.id, "captions", "it", media_samples.VTT, "film.vtt")
    ref = guide_edit.set_transcript(ref, art.id, None, "en", "  The harbour at dawn.  ")
    ref = guide_edit.set_transcript(ref, art.id, det.id, "it", "Il sole.")
    saved = load_guide(ref.root, SETTINGS).guide.artwork(art.id)
    assert (
        saved.captions.keys() == {"en"} and ref.path(saved.captions["en"]).read_bytes() == media_samples.VTT
    )
    assert saved.video["en"].endswith(".mp4") and saved.transcript == {"en": "The harbour at dawn."}
    assert saved.detail(det.id).captions["it"].endswith(".vtt") and saved.detail(det.id).transcript == {
        "it": "Il sole."
    }
    # the guide's file says so (and drops the keys again when they are emptied)
    data = (ref.root / "guide.json").read_text()
    assert '"captions"' in data and '"transcript"' in data
    old = ref.path(saved.captions["en"])
    ref = guide_edit.set_media(ref, art.id, None, "captions", "en", None)
    ref = guide_edit.set_transcript(ref, art.id, None, "en", "")
    assert not old.exists()  # the file it used went with it
    assert "captions" not in load_guide(ref.root, SETTINGS).guide.to_dict()["artworks"][0]
    before = snapshot(ref.root)
    with pytest.raises(
        GuideError, match=r"artworks\[harbour-at-dawn\]\.transcript\.en: too long \(200,001 characters"
    ):
        guide_edit.set_transcript(ref, art.id, None, "en", "x" * 200_001)
    with pytest.raises(GuideError, match="unknown language 'fr'"):
        guide_edit.set_transcript(ref, art.id, None, "fr", "Le port.")
    assert snapshot(ref.root) == before


def test_a_50_mb_description_and_a_nan_box_get_a_message(studio_guide):  # noqa: F811
    ref = studio_guide
    art = ref.guide.artworks[0]
    before = snapshot(ref.root)
    with pytest.raises(
        GuideError, match=r"description\.en: too long \(52,428,800 characters; at most 20,000\)"
    ):
        guide_edit.set_texts(ref, art.id, "en", "Title", "", "", "x" * (50 * 2**20))
    with pytest.raises(GuideError, match=r"title\.en: too long"):
        guide_edit.set_texts(ref, art.id, "en", "T" * 501, "", "", "")
    for box in ((float("nan"), 1, 10, 10), (1, 1, float("inf"), 10), (1, 1, 10), ("a", 1, 2, 3)):
        with pytest.raises(GuideError, match="is not \\[x, y, width, height\\] as 4 finite numbers"):
            guide_edit.set_details(ref, art.id, [("face", box, "Face", "")], "en")  # type: ignore[list-item]
    assert snapshot(ref.root) == before


def test_a_stale_languages_form_keeps_what_another_curator_added(studio_guide):  # noqa: F811
    name = studio_guide.guide.name
    art_id = studio_guide.guide.artworks[0].id
    page_a = studio(guide=name)  # curator A's page, drawn before B's changes
    # curator B adds French and writes a French title
    ref = guide_edit.set_languages(load_guide(name, SETTINGS), ["en", "it", "fr"], "en")
    guide_edit.set_texts(ref, art_id, "fr", "Le port à l'aube", "", "", "")
    # A changes the default language on the form drawn before: told, and French kept
    next(t for t in page_a.text_input if t.label == "Default language").input("it")
    button(page_a, "Save").click()
    page_a.run()
    assert not page_a.exception, page_a.exception
    errors = shown(page_a.error)
    told = "languages and default language were changed by someone else"
    assert any(told in e and "nothing was saved" in e for e in errors), errors
    guide = load_guide(name, SETTINGS).guide
    assert guide.languages == ["en", "it", "fr"] and guide.default_language == "en"
    assert guide.artwork(art_id).title["fr"] == "Le port à l'aube"
    # the page now shows French: the same change from it is saved, French still there
    assert (
        next(t for t in page_a.text_input if t.label == "Languages (comma separated)").value == "en, it, fr"
    )
    next(t for t in page_a.text_input if t.label == "Default language").input("it")
    button(page_a, "Save").click()
    page_a.run()
    assert not page_a.error, shown(page_a.error)
    guide = load_guide(name, SETTINGS).guide
    assert guide.default_language == "it" and guide.artwork(art_id).title["fr"] == "Le port à l'aube"


def test_uploaded_pictures_are_what_their_bytes_say(studio_guide):  # noqa: F811
    ref = studio_guide
    before = snapshot(ref.root)
    for fmt, name in (("GIF", "painting.png"), ("TIFF", "scan.jpg"), ("AVIF", "photo.jpg")):
        with pytest.raises(UserError, match=f"{name}: a {fmt} image; use JPEG, PNG, WebP or BMP"):
            guide_edit.add_artwork(ref, media_samples.picture(fmt, (400, 300)), name, "", "en")
    assert snapshot(ref.root) == before
    jpeg = media_samples.picture("JPEG", (400, 300))
    ref = guide_edit.add_artwork(ref, jpeg, "notes.txt", "A JPEG named .txt", "en")
    art = ref.guide.artwork("a-jpeg-named-txt")
    assert art.image == "images/a-jpeg-named-txt.jpg" and (art.width, art.height) == (400, 300)
