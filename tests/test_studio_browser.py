"""The studio in headless Chromium, as a curator meets it: the chosen guide and editing language
kept on every page and after a reload, forms that start clean, sections that stay open, the QR
code that opens the lens on its guide, and axe-core's WCAG 2.2 A/AA rules on every page. One
studio server (no password: it listens on this machine only) and one browser for the module."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time

import cv2
import numpy as np
import pytest

from smartlens.bench.browser import browser, free_port, start_app, stop_app, write_y4m
from smartlens.config import Settings
from smartlens.guide import load_guide, save_guide
from smartlens.guide.demo import build_demo

from browser_checks import Curator, assert_no_violations, axe_source
from conftest import ROOT, TEST_ENV

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("chromium") and shutil.which("chromedriver")),
        reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
    ),
]

FIRST, SECOND = "first-museum", "second-museum"
SECOND_TITLE = "The second museum"
#: Every page of the studio, by its title in the sidebar and its header.
PAGES = [
    "Guide and artworks",
    "Annotate details",
    "Training views",
    "Train and publish",
    "Try and compare",
    "Visitors",
    "Share the lens",
    "Settings",
]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A studio on its own data folder holding two guides (the demo's paintings, in en and it)."""
    tmp = tmp_path_factory.mktemp("studio-browser")
    settings = Settings(
        home=ROOT, data_dir=tmp / "data", models_dir=tmp / "models", offline=True, keras_home=tmp / "keras"
    )
    demo = build_demo(tmp / "demo")
    files = {a.image: demo.path(a.image) for a in demo.guide.artworks}
    for name, title in ((FIRST, "The first museum"), (SECOND, SECOND_TITLE)):
        guide = dataclasses.replace(demo.guide, name=name, title={"en": title})
        save_guide(guide, settings.guides / name, files=files)
    env = {
        **os.environ,
        **TEST_ENV,
        "SMARTLENS_DATA": str(settings.data),
        "SMARTLENS_MODELS": str(settings.models),
        "KERAS_HOME": str(settings.keras_home),
    }
    env.pop("SMARTLENS_STUDIO_PASSWORD", None)
    port = free_port()
    cmd = [sys.executable, "-m", "smartlens", "studio", "--guide", FIRST, "--address", "127.0.0.1"]
    server = start_app([*cmd, "--port", str(port)], port, env, tmp / "studio.log")
    yield settings, env, f"http://127.0.0.1:{port}/", tmp
    stop_app(server)


@pytest.fixture(scope="module")
def curator(studio):
    settings, env, url, tmp = studio
    driver = browser(write_y4m(tmp / "still.y4m", np.zeros((48, 64, 3), np.uint8), frames=2))
    driver.set_window_size(1400, 1000)
    c = Curator(driver, tmp)
    c.url = url
    yield c
    driver.quit()


def open_studio(c: Curator, query: str = "") -> None:
    c.d.get(c.url + query)
    c.sees("Guide and artworks", 60)


def test_guide_and_language_kept_on_every_page_and_after_a_reload(curator):
    c = curator
    open_studio(c)
    c.page("Annotate details")
    assert c.selected("Guide") == FIRST  # the one the studio was started with
    c.choose("Guide", SECOND)
    c.choose("Editing language", "it")
    for title in PAGES:
        c.page(title)
        assert (c.selected("Guide"), c.selected("Editing language")) == (SECOND, "it"), title
        c.d.refresh()  # a reload opens the same guide, in the same language, on the same page
        c.sees(title)
        c.selectbox("Editing language", 60)
        assert (c.selected("Guide"), c.selected("Editing language")) == (SECOND, "it"), f"{title}, reloaded"
    assert f"guide={SECOND}" in c.d.current_url and "lang=it" in c.d.current_url


def test_every_studio_page_meets_wcag(curator):
    c = curator
    source = axe_source()
    open_studio(c)
    for title in PAGES:
        c.page(title)
        time.sleep(1.5)  # charts, tables and images finish drawing
        assert_no_violations(c.d, source, f"the studio's {title} page", c.shots)


def test_a_second_concept_starts_blank(curator, studio):
    settings = studio[0]
    c = curator
    open_studio(c, f"?guide={FIRST}")
    c.type("Concept id", "face")
    c.type("Name (en)", "Face")
    c.type("Name (it)", "Volto")
    c.press("Add or rename the concept")
    c.wait(lambda d: load_guide(FIRST, settings).guide.concepts, 30, "the first concept saved")
    c.wait(lambda d: c.field("Concept id").get_attribute("value") == "", 30, "a blank form")
    assert c.field("Name (it)").get_attribute("value") == ""
    c.type("Concept id", "signature")
    c.type("Name (en)", "Signature")
    c.press("Add or rename the concept")
    c.wait(lambda d: len(load_guide(FIRST, settings).guide.concepts) == 2, 30, "the second concept saved")
    second = load_guide(FIRST, settings).guide.concept("signature")
    assert second.name == {"en": "Signature"}, second.name  # not the first one's "Volto"


def test_an_artwork_section_stays_open_after_a_save(curator, studio):
    from selenium.webdriver.common.by import By

    settings = studio[0]
    c = curator
    open_studio(c, f"?guide={FIRST}")
    art = load_guide(FIRST, settings).guide.artworks[1]
    section = c.wait(lambda d: d.find_elements(By.XPATH, f"//summary[contains(., '{art.id}')]"), 30, art.id)
    section[0].click()
    c.type("Title (en)", "A new title")
    c.press("Save texts (en)")
    c.wait(
        lambda d: load_guide(FIRST, settings).guide.artwork(art.id).title["en"] == "A new title", 30, "saved"
    )
    c.sees("A new title —")  # the section's label, redrawn with the new title
    time.sleep(1.0)
    details = c.d.find_element(By.XPATH, f"//details[.//summary[contains(., '{art.id}')]]")
    assert details.get_attribute("open") is not None, "the section closed after the save"
    assert c.field("Title (en)").get_attribute("value") == "A new title"


def test_the_qr_code_opens_the_lens_on_its_guide(curator, studio):
    """The studio's Share page offers a QR code: decoded, it is the address of the lens as it was
    started (scheme, address, port), and opening it shows that guide, not the lens' default."""
    from selenium.webdriver.common.by import By

    settings, env, _, tmp = studio
    c = curator
    port = free_port()
    cmd = [sys.executable, "-m", "smartlens", "lens", "--guide", FIRST, "--address", "127.0.0.1"]
    lens = start_app([*cmd, "--port", str(port)], port, env, tmp / "lens.log")
    try:
        open_studio(c, f"?guide={SECOND}")
        c.page("Share the lens")
        img = c.wait(
            lambda d: [
                i
                for i in d.find_elements(By.CSS_SELECTOR, "img[alt^='QR code of']")
                if i.size["height"] > 100
            ],
            30,
            "the QR code",
        )[0]
        picture = cv2.imdecode(np.frombuffer(img.screenshot_as_png, np.uint8), cv2.IMREAD_COLOR)
        url, _, _ = cv2.QRCodeDetector().detectAndDecode(picture)
        assert url == f"http://127.0.0.1:{port}/?guide={SECOND}", url
        c.d.get(url)
        c.sees(SECOND_TITLE, 120)  # the guide loads (its index is built) and the lens shows it
        assert "The first museum" not in c.text()
    finally:
        stop_app(lens)
