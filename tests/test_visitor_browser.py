"""A visitor's lens in headless Chromium (a phone-sized window, a fake camera showing the Mona
Lisa, a real lens server and WebRTC): what they hear, what screen readers and keyboards meet,
captions and transcripts, and axe-core's WCAG 2.2 A/AA rules before START and on the result card,
at 200 % zoom too. One lens server and one browser for the module; each test finds the card
again if an earlier one left the page elsewhere."""

from __future__ import annotations

import copy
import shutil
import time
import wave

import numpy as np
import pytest

from smartlens.bench.browser import browser, free_port, start_camera, start_lens, wait_for, write_y4m
from smartlens.guide import save_guide

from browser_checks import (
    assert_no_violations,
    axe_source,
    focus_order,
    no_zoom,
    overflowing_text,
    tab_to,
    wait_events,
    zoom,
)
from conftest import PAINTINGS, needs_paintings
from conftest import SESSION_SETTINGS as SETTINGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timing,  # WebRTC and recognition within timeouts on a shared 2-core machine
    needs_paintings,
    pytest.mark.skipif(
        not (shutil.which("chromium") and shutil.which("chromedriver")),
        reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
    ),
]

GUIDE = "visitors"
TRANSCRIPT = "A steady tone, as long as the sentence you are reading now."
CAPTION = "The hands rest one on the other."
TONE_SECONDS = 8


def tone_wav(path, seconds: float = TONE_SECONDS, rate: int = 16000):
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.2 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def small_webm(path, seconds: int = 3, fps: int = 10):
    import av

    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(seconds * fps):
            img = np.full((120, 160, 3), (i * 8) % 255, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture(scope="module")
def visitors_guide(paintings_guide, tmp_path_factory):
    """The paintings with media on the Mona Lisa's details: audio with a transcript on the face,
    a video with English captions on the hands, a file damaged on disk on the landscape."""
    from smartlens.methods import load_recognizer

    tmp = tmp_path_factory.mktemp("visitor-media")
    (tmp / "captions.vtt").write_text(f"WEBVTT\n\n00:00.000 --> 00:03.000\n{CAPTION}\n", encoding="utf-8")
    guide = copy.deepcopy(paintings_guide.guide)
    guide.name = GUIDE
    mona = guide.artwork("mona-lisa")
    mona.audio = {}  # the artwork itself is read aloud
    mona.detail("face").audio = {"en": "media/tone.wav"}
    mona.detail("face").transcript = {"en": TRANSCRIPT}
    mona.detail("hands").video = {"en": "media/hands.webm"}
    mona.detail("hands").captions = {"en": "media/hands.en.vtt"}
    mona.detail("landscape").audio = {"en": "media/broken.wav"}
    files = {a.image: paintings_guide.path(a.image) for a in guide.artworks}
    files["media/tone.wav"] = tone_wav(tmp / "tone.wav")
    files["media/hands.webm"] = small_webm(tmp / "hands.webm")
    files["media/hands.en.vtt"] = tmp / "captions.vtt"
    files["media/broken.wav"] = tone_wav(tmp / "broken.wav", seconds=1)
    ref = save_guide(guide, SETTINGS.guides / GUIDE, files=files, replace=True)
    # damaged on disk after it was checked and saved: no browser can decode it
    ref.path("media/broken.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8)
    load_recognizer(ref, SETTINGS, "retrieval")  # the index, built before the server needs it
    return ref


@pytest.fixture(scope="module")
def lens(visitors_guide):
    port = free_port()
    server = start_lens(GUIDE, port)
    yield f"http://127.0.0.1:{port}/"
    server.terminate()
    server.wait(20)


@pytest.fixture(scope="module")
def page(lens, tmp_path_factory):
    from smartlens.imaging import read_image

    tmp = tmp_path_factory.mktemp("visitor-browser")
    driver = browser(write_y4m(tmp / "mona.y4m", read_image(PAINTINGS / "mona-lisa.jpg")))
    driver.shots = tmp  # screenshots of failures land next to the clip
    yield driver
    driver.quit()


def body(driver) -> str:
    from selenium.webdriver.common.by import By

    try:
        return driver.find_element(By.TAG_NAME, "body").text
    except Exception:  # redrawn meanwhile
        return ""


def buttons(driver, label: str):
    from selenium.webdriver.common.by import By

    return [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == label]


def show_card(driver, lens: str, detail: str | None = None) -> None:
    """The Mona Lisa's card (and ``detail`` opened), starting the camera when it is not shown."""
    driver.switch_to.default_content()
    no_zoom(driver)
    if not buttons(driver, "The smile"):
        driver.get(lens)
        start_camera(driver)
        wait_for(driver, lambda d: "Mona Lisa" in body(d), 60, "the title")
        wait_for(driver, lambda d: buttons(d, "The smile"), 30, "the detail chips")
    if detail is not None and detail not in opened(driver):  # a chip pressed again closes its detail
        buttons(driver, detail)[0].click()
        wait_for(driver, lambda d: detail in opened(d), 15, detail)


def opened(driver) -> list[str]:
    """The open detail's heading (empty when none is open)."""
    from selenium.webdriver.common.by import By

    return [h.text for h in driver.find_elements(By.TAG_NAME, "h4")]


def players(driver, label: str):
    """The lens' media players whose button reads ``label``, as the page is now."""
    from selenium.webdriver.common.by import By

    return [
        p
        for p in driver.find_elements(By.CSS_SELECTOR, ".sl-media")
        if p.find_element(By.CSS_SELECTOR, ".sl-media-button").text.strip() == label
    ]


def player(driver, label: str):
    """The player whose button reads ``label`` (the last one: the open detail's), once drawn."""
    return wait_for(driver, lambda d: players(d, label), 15, f"the {label} player")[-1]


def session_events(driver, kind: str, detail: str | None):
    return lambda e: e["guide"] == GUIDE and e["type"] == kind and e["detail"] == detail


def test_lens_before_start_meets_wcag(lens, page):
    page.get(lens)
    wait_for(page, lambda d: "Point your camera" in body(d), 60, "the lens page")
    time.sleep(1.0)  # the camera's iframe and the card settle
    assert_no_violations(page, axe_source(), "the lens before START", page.shots)


def test_recognised_artwork_is_announced_once(lens, page):
    """A polite live region says what was recognised; it changes when the artwork does, not at
    every redraw of the page (the region is there before START, so its change is announced)."""
    from selenium.webdriver.common.by import By

    page.get(lens)
    wait_for(
        page, lambda d: d.find_elements(By.CSS_SELECTOR, ".sl-live[aria-live='polite']"), 60, "live region"
    )
    page.execute_script(
        """window.slLive = document.querySelector('.sl-live');
        window.slSaid = [];
        new MutationObserver(() => window.slSaid.push(window.slLive.textContent))
          .observe(window.slLive, {childList: true, characterData: true, subtree: true});"""
    )
    start_camera(page)
    wait_for(page, lambda d: "Mona Lisa" in body(d), 60, "the title")
    wait_for(page, lambda d: buttons(d, "The smile"), 30, "the detail chips")
    time.sleep(4)  # details confirmed, the page rerun several times meanwhile
    said = page.execute_script("return [window.slLive.isConnected, window.slSaid]")
    assert said[0], "the live region was replaced: a screen reader would not announce its text"
    assert said[1] == ["Recognised: Mona Lisa."], said[1]


def test_listen_plays_the_audio_and_counts_it_once_it_plays(lens, page):
    show_card(page, lens, "The smile")
    before = len(wait_events(SETTINGS.events_dir, session_events(page, "audio_played", "face"), timeout=0))
    buttons(page, "Listen")[-1].click()  # the open detail's (the card's own is "Read aloud")
    wait_for(
        page,
        lambda d: d.execute_script(
            "window.slAudio = [...document.querySelectorAll('audio')].find(a => !a.paused && a.currentTime > 0);"
            "return !!window.slAudio;"
        ),
        10,
        "the audio playing",
    )
    t0 = page.execute_script("return window.slAudio.currentTime")
    time.sleep(2.0)  # the page reruns meanwhile (the played event, the recogniser's news)
    state = page.execute_script(
        "const a = window.slAudio; return [a.isConnected, a.paused, a.currentTime, a.ended];"
    )
    assert state[0] and not state[1] and not state[3], state  # the same element, still playing
    assert state[2] - t0 >= 1.5, (t0, state)  # and its time went on for 2 s
    played = wait_events(SETTINGS.events_dir, session_events(page, "audio_played", "face"))
    assert len(played) == before + 1, played
    summary = player(page, "Listen").find_element("css selector", "details summary")  # the transcript
    summary.click()
    assert TRANSCRIPT in body(page)


def test_audio_that_never_plays_is_not_counted(lens, page):
    show_card(page, lens, "The imaginary landscape")
    player(page, "Listen").find_element("css selector", ".sl-media-button").click()
    wait_for(
        page,
        lambda d: "could not play" in players(d, "Listen")[-1].text,
        15,
        "the player saying it could not play",
    )
    time.sleep(2.5)  # more than the event log's flush
    assert not wait_events(
        SETTINGS.events_dir, session_events(page, "audio_played", "landscape"), timeout=0
    ), "an audio that never played was counted"


def test_read_aloud_speaks_and_counts_only_speech_that_started(lens, page):
    """Headless Chromium has no voice installed (its speech fails), so a spy stands in for the
    browser's speechSynthesis: it records what the lens asks to say, and starts speaking only
    when the test says so."""
    show_card(page, lens)
    page.execute_script(
        """window.slSpoken = [];
        window.slStart = false;
        speechSynthesis.speak = (u) => {
          window.slSpoken.push({text: u.text, lang: u.lang});
          if (window.slStart) u.dispatchEvent(new SpeechSynthesisEvent('start', {utterance: u}));
        };"""
    )
    button = player(page, "Read aloud").find_element("css selector", ".sl-media-button")
    button.click()
    spoken = page.execute_script("return window.slSpoken")
    assert len(spoken) == 1 and spoken[0]["lang"] == "en", spoken
    assert spoken[0]["text"].startswith("Mona Lisa. ") and len(spoken[0]["text"]) > 40, spoken
    time.sleep(2.5)
    counted = session_events(page, "tts_played", None)
    assert not wait_events(SETTINGS.events_dir, counted, timeout=0), "speech that never started was counted"
    page.execute_script("window.slStart = true;")
    button.click()
    assert len(wait_events(SETTINGS.events_dir, counted)) == 1


def test_video_has_captions(lens, page):
    from selenium.webdriver.common.by import By

    show_card(page, lens, "The folded hands")
    p = player(page, "Watch the video")
    track = p.find_element(By.CSS_SELECTOR, "video track[kind='captions']")
    assert track.get_attribute("srclang") == "en" and track.get_attribute("label") == "English"
    p.find_element(By.CSS_SELECTOR, ".sl-media-button").click()
    wait_for(
        page,
        lambda d: (
            d.execute_script(
                "const v = document.querySelector('.sl-media video'); const t = v.textTracks[0];"
                "return !v.paused && t.mode === 'showing' && t.cues && t.cues.length > 0 && t.cues[0].text;"
            )
            == CAPTION
        ),
        15,
        "the captions shown on the playing video",
    )
    assert wait_events(SETTINGS.events_dir, session_events(page, "video_played", "hands"))


def test_chips_and_media_are_reached_and_named_by_keyboard(lens, page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    def active() -> list[str]:
        return page.execute_script(
            "const e = document.activeElement; return [e.textContent.trim(), e.getAttribute('role') || e.tagName];"
        )

    show_card(page, lens, "The smile")
    order = focus_order(page)
    for name in ("Read aloud", "The smile", "Listen", "Transcript"):
        assert name in order, (name, order)
    # a keyboard alone plays the audio: Tab to "Listen", then Enter
    assert tab_to(page, "Listen")
    ActionChains(page).send_keys(Keys.ENTER).perform()
    wait_for(
        page,
        lambda d: d.execute_script(
            "const a = document.querySelector('.sl-media audio'); return a && !a.paused;"
        ),
        10,
        "the audio played from the keyboard",
    )
    # the chips are a radio group: Tab reaches the chosen one, the arrows the others, Enter opens one
    assert tab_to(page, "The smile")
    assert active() == ["The smile", "radio"]
    ActionChains(page).send_keys(Keys.ARROW_RIGHT).perform()
    assert active() == ["The folded hands", "radio"]
    ActionChains(page).send_keys(Keys.ENTER).perform()
    wait_for(page, lambda d: "The folded hands" in opened(d), 15, "the detail opened from the keyboard")
    assert "Watch the video" in focus_order(page)


def test_result_card_with_a_detail_meets_wcag_also_at_200_percent(lens, page):
    show_card(page, lens, "The smile")
    source = axe_source()
    assert_no_violations(page, source, "the result card with a detail open", page.shots)
    zoom(page, 2.0)
    try:
        time.sleep(1.0)  # the page lays itself out again
        assert "Mona Lisa" in body(page) and "The smile" in body(page)
        assert not overflowing_text(page), overflowing_text(page)
        assert_no_violations(page, source, "the result card at 200 % zoom", page.shots)
    finally:
        no_zoom(page)
