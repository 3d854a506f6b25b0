"""End to end in a real browser: headless Chromium, a fake camera showing a painting, a real
Streamlit server with real WebRTC. Screenshots go to artifacts/."""

from __future__ import annotations

import shutil
import time

import pytest

from smartlens.bench.browser import (
    ARTIFACTS,
    browser,
    free_port,
    start_camera,
    start_lens,
    wait_for,
    write_y4m,
)

from conftest import PAINTINGS, needs_paintings
from conftest import SESSION_SETTINGS as SETTINGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timing,  # WebRTC, recognition or a training budget on a shared machine
    needs_paintings,
    pytest.mark.skipif(
        not (shutil.which("chromium") and shutil.which("chromedriver")),
        reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
    ),
]


def _processed(driver) -> float:
    """Full recognitions so far, from the page's debug line (0 while Streamlit redraws it)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return float(driver.find_element(By.ID, "sl-stats").get_attribute("data-processed") or 0)
    except (NoSuchElementException, StaleElementReferenceException, ValueError):
        return 0.0


def test_lens_end_to_end(paintings_guide, tmp_path):
    from selenium.webdriver.common.by import By

    from smartlens.analytics.events import read_events
    from smartlens.imaging import read_image
    from smartlens.methods import load_recognizer

    load_recognizer(paintings_guide, SETTINGS, "retrieval")  # the index, built before the server needs it
    y4m = write_y4m(tmp_path / "mona.y4m", read_image(PAINTINGS / "mona-lisa.jpg"))
    port = free_port()
    server = start_lens("paintings", port)
    driver = browser(y4m)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        t0 = time.monotonic()
        driver.get(f"http://127.0.0.1:{port}/?debug=1")
        start_camera(driver)
        wait_for(driver, lambda d: "Mona Lisa" in d.find_element(By.TAG_NAME, "body").text, 30, "the title")
        first = time.monotonic() - t0
        at_title = _processed(driver)
        chip = wait_for(
            driver,
            lambda d: [b for b in d.find_elements(By.TAG_NAME, "button") if b.text == "The smile"],
            20,
            "the detail chip",
        )
        chip[0].click()
        wait_for(
            driver,
            lambda d: "famously ambiguous smile" in d.find_element(By.TAG_NAME, "body").text,
            15,
            "the detail text",
        )
        driver.save_screenshot(str(ARTIFACTS / "e2e-lens-en.png"))

        driver.find_element(By.CSS_SELECTOR, "[data-testid='stSelectbox'] [role='combobox']").click()
        option = wait_for(
            driver,
            lambda d: [
                o for o in d.find_elements(By.CSS_SELECTOR, "[role='option']") if o.text == "Italiano"
            ],
            10,
            "the language list",
        )
        option[0].click()
        italian = (
            "La Gioconda",
            "Inquadra un'opera",
            "Il sorriso",
            "Il celebre sorriso ambiguo",
            "Scatta una foto",
        )
        wait_for(
            driver,
            lambda d: all(x in d.find_element(By.TAG_NAME, "body").text for x in italian),
            20,
            "the Italian texts",
        )
        assert "Mona Lisa" not in driver.find_element(By.TAG_NAME, "body").text
        hands = [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text == "Le mani incrociate"]
        hands[0].click()
        wait_for(
            driver,
            lambda d: "La mano destra poggia sulla sinistra" in d.find_element(By.TAG_NAME, "body").text,
            15,
            "the second detail in Italian",
        )
        time.sleep(1.5)  # the video keeps going: let the overlay labels turn Italian
        driver.save_screenshot(str(ARTIFACTS / "e2e-lens-it.png"))
        # while the painting stays tracked, a full recognition still confirms it about once a second
        wait_for(driver, lambda d: _processed(d) >= at_title + 3, 20, "recognitions going on while tracking")
        print(f"\nfirst recognition {first:.1f} s after page open; {_processed(driver):.0f} recognitions")
    finally:
        driver.quit()
        server.terminate()
        server.wait(20)
    events = read_events(SETTINGS.events_dir)
    types = {(e["type"], e["artwork"], e["detail"]) for e in events}
    assert ("artwork_recognised", "mona-lisa", None) in types
    assert ("detail_opened", "mona-lisa", "face") in types and (
        "detail_opened",
        "mona-lisa",
        "hands",
    ) in types
    assert any(t == "detail_recognised" for t, _, _ in types) and any(
        t == "session_start" for t, _, _ in types
    )
    assert {e["language"] for e in events} >= {"en", "it"}
    # the switch itself is an event: the dashboard counts the visit in Italian too
    assert any(e["type"] == "language_changed" and e["language"] == "it" for e in events)
