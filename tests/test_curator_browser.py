"""A curator's whole path in headless Chromium, on real servers and real processes: log in to the
studio, create a guide, upload a painting, draw a box on the canvas with the mouse, name it,
save, make training views, train a small classifier within its budget, publish it; then the
lens, started without a method, shows that painting (a fake camera) with its new detail.
Screenshots are saved under the test's tmp_path (their paths are printed)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import time

import pytest

from smartlens.bench.browser import browser, free_port, start_app, start_camera, stop_app, write_y4m
from smartlens.imaging import read_image

from browser_checks import Curator, app_env
from conftest import EMBEDDER, PAINTINGS, needs_embedder, needs_paintings

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timing,  # WebRTC, recognition or a training budget on a shared machine
    needs_paintings,
    needs_embedder,
    pytest.mark.skipif(
        not (shutil.which("chromium") and shutil.which("chromedriver")),
        reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
    ),
]

PASSWORD = "staff only 7"
GUIDE = "curator-test"
PAINTING = "girl-with-a-pearl-earring"
TURBAN = (144, 101, 216, 148)  # the turban's box in the painting's pixels (artworks.json)
TITLE = "Girl with a Pearl Earring (studio)"
DETAIL = "The blue turban"
BUDGET_MINUTES = 1.0


def test_curator_path_from_an_empty_studio_to_the_lens(tmp_path, settings):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from smartlens.guide import load_guide
    from smartlens.jobs import list_jobs
    from smartlens.publish import read_published

    shots = tmp_path / "screenshots"
    shots.mkdir()
    settings = dataclasses.replace(settings, weights=EMBEDDER)
    env = app_env(settings, SMARTLENS_STUDIO_PASSWORD=PASSWORD)
    painting = PAINTINGS / f"{PAINTING}.jpg"
    y4m = write_y4m(tmp_path / "camera.y4m", read_image(painting))
    studio_port, lens_port = free_port(), free_port()
    t0 = time.monotonic()
    studio = start_app(
        [sys.executable, "-m", "smartlens", "studio", "--address", "127.0.0.1", "--port", str(studio_port)],
        studio_port,
        env,
        tmp_path / "studio.log",
    )
    lens = None
    driver = browser(y4m)
    driver.set_window_size(1400, 1300)
    c = Curator(driver, shots)
    timings: dict[str, float] = {}
    try:
        # --- log in, create a guide, upload the painting and give it a title --------------------
        driver.get(f"http://127.0.0.1:{studio_port}/")
        c.type("Staff password", "wrong")
        c.press("Log in")
        c.sees("Wrong password.")
        c.type("Staff password", PASSWORD)
        c.press("Log in")
        c.sees("Create the guide")
        c.type("Name (letters, digits, dashes)", GUIDE)
        c.type("Title", "Curator test museum")
        c.type("Languages (comma separated, the first is the default)", "en")
        c.press("Create the guide")
        c.sees(f"Guide '{GUIDE}' created")
        c.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "input[type='file']"), 30, "the uploader")
        driver.find_element(By.CSS_SELECTOR, "input[type='file']").send_keys(str(painting))
        c.sees("KB", 30)  # the uploaded file is listed with its size
        c.press("Add these pictures")
        c.sees(f"Added 1 artwork(s): {PAINTING}", 60)
        driver.find_element(By.XPATH, f"//summary[contains(., '{PAINTING}')]").click()
        c.type("Title (en)", TITLE)
        c.press("Save texts (en)")
        c.wait(
            lambda d: load_guide(GUIDE, settings).guide.artworks[0].title == {"en": TITLE},
            30,
            "the title saved",
        )
        c.shot("1-guide")

        # --- draw a box round the turban with the mouse, name it, save ---------------------------
        c.page("Annotate details")
        c.type("Label for the next box", "turban", commit=True)
        host = c.wait(
            lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid='stBidiComponentIsolated']"),
            60,
            "the canvas",
        )[0]
        canvas = c.wait(
            lambda d: host.shadow_root.find_elements(By.CSS_SELECTOR, "canvas.upper-canvas"), 30, "canvas"
        )[0]
        art = load_guide(GUIDE, settings).guide.artworks[0]
        scale = canvas.size["width"] / art.width
        x, y, w, h = (v * scale for v in TURBAN)
        cx, cy = canvas.size["width"] / 2, canvas.size["height"] / 2
        drag = (
            ActionChains(driver)
            .move_to_element_with_offset(canvas, int(x - cx), int(y - cy))
            .click_and_hold()
        )
        for _ in range(4):  # a few steps, as a hand drags
            drag = drag.move_by_offset(int(w / 4), int(h / 4))
        drag.release().perform()
        c.field("name (en)", 60)
        c.type("name (en)", DETAIL)
        c.type("text (en)", "Ultramarine, the most precious blue of its day.")
        time.sleep(1.0)
        c.press("Save details")
        c.wait(lambda d: load_guide(GUIDE, settings).guide.artworks[0].details, 30, "the detail saved")
        det = load_guide(GUIDE, settings).guide.artworks[0].details[0]
        assert det.id == "turban" and det.name == {"en": DETAIL}, det
        # the box is in the painting's pixels, where it was drawn (a few pixels of mouse rounding)
        assert all(abs(a - b) <= 4 / scale + 2 for a, b in zip(det.box, TURBAN)), (det.box, TURBAN)
        c.shot("2-annotated")

        # --- training views, then a small classifier within its budget, then publish -------------
        c.page("Training views")
        c.type("Views per artwork", "16", commit=True)
        c.type("Views with no artwork", "32", commit=True)
        c.press("Make the training views")
        c.wait(
            lambda d: (j := list_jobs(settings, GUIDE, "views")) and j[0].state == "done", 180, "the views"
        )
        timings["views"] = list_jobs(settings, GUIDE, "views")[0].seconds
        c.sees("done")
        c.shot("3-views")

        c.page("Train and publish")
        # on a CPU and a one-minute budget, the fast route: a head on the embedder's frozen features
        # (the route first: it redraws the form with the fields that route uses)
        c.check("Train only a head on frozen features")
        c.type("Time budget (minutes)", str(BUDGET_MINUTES))
        c.type("Views per artwork", "16")
        c.type("Views with no artwork", "32")
        c.press("Start training")
        c.wait(lambda d: list_jobs(settings, GUIDE, "train"), 30, "the training job")
        job = c.wait(
            lambda d: (j := list_jobs(settings, GUIDE, "train")[0]) and not j.running and j,
            BUDGET_MINUTES * 60 + 180,
            "the training's end",
        )
        assert job.state == "done", (job.status, job.log_tail())
        assert job.spec.params["frozen_features"] is True
        timings["training"] = job.seconds
        assert job.seconds <= BUDGET_MINUTES * 60 + 60  # the budget, views included, plus a minute
        model = job.status.result["model"]
        info = json.loads((settings.models / GUIDE / model / "info.json").read_text())
        made = list_jobs(settings, GUIDE, "views")[0].status.result
        assert info["views"]["train"] == made["views"] and info["views"]["validation"] == made["validation"]
        c.sees("done ·", 60)
        c.shot("4-trained")

        def model_offered(d):
            # the page redraws itself when the job ends: then the new model is offered for publishing
            from selenium.webdriver.common.keys import Keys

            box = d.find_element(By.XPATH, "//*[@data-testid='stSelectbox'][.//*[contains(., 'Publish')]]")
            box.find_element(By.CSS_SELECTOR, "[role='combobox']").click()
            time.sleep(0.5)
            options = [o for o in d.find_elements(By.CSS_SELECTOR, "[role='option']") if model in o.text]
            if not options:
                box.find_element(By.CSS_SELECTOR, "[role='combobox']").send_keys(Keys.ESCAPE)
                time.sleep(1.5)
            return options

        c.wait(model_offered, 60, "the model offered")[0].click()
        c.press("Publish")
        c.wait(
            lambda d: (p := read_published(GUIDE, settings)) is not None and p.model == model, 30, "published"
        )
        c.sees(f"Published: classification {model}", 30)
        c.shot("5-published")
        timings["studio"] = time.monotonic() - t0

        # --- the lens, started without a method, follows what was published ----------------------
        lens = start_app(
            [
                sys.executable,
                "-m",
                "smartlens",
                "lens",
                "--guide",
                GUIDE,
                "--port",
                str(lens_port),
                "--address",
                "127.0.0.1",
            ],
            lens_port,
            env,
            tmp_path / "lens.log",
        )
        assert "method classification" in (tmp_path / "lens.log").read_text()
        t_lens = time.monotonic()
        driver.get(f"http://127.0.0.1:{lens_port}/")
        start_camera(driver)
        c.sees(TITLE, 180)  # the model loads, WebRTC connects, frames arrive (slow on a busy machine)
        timings["lens recognition"] = time.monotonic() - t_lens
        # then the visitor steps up to the turban: a close-up, which the classifier names as the
        # new detail (one class a frame: a whole view names the artwork)
        driver.quit()
        x, y, w, h = TURBAN
        image = read_image(painting)
        close_up = image[max(0, y - h // 4) : y + h + h // 4, max(0, x - w // 4) : x + w + w // 4]
        driver = browser(write_y4m(tmp_path / "close-up.y4m", close_up))
        c = Curator(driver, shots)
        driver.get(f"http://127.0.0.1:{lens_port}/")
        start_camera(driver)
        c.sees(DETAIL, 120)  # the new detail's chip on the artwork's card
        c.sees(TITLE, 10)
        c.shot("6-lens")
    finally:
        driver.quit()
        stop_app(studio)
        if lens is not None:
            stop_app(lens)
    print(
        "\n"
        + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
        + f"; total {time.monotonic() - t0:.0f} s"
    )
