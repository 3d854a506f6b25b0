"""The studio's Visitors page over synthetic events whose figures are known."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from smartlens.analytics import stats
from smartlens.analytics.events import EventLog

from conftest import ROOT, TEST_ENV

STUDIO = ROOT / "apps" / "studio"
sys.path.insert(0, str(STUDIO))  # what streamlit does for the entry script's pages

#: (session, language, [(type, artwork, detail, dwell_s)]) in guide "demo"
VISITS = [
    (
        "s1",
        "en",
        [
            ("artwork_recognised", "harbour-at-dawn", None, None),
            ("detail_recognised", "harbour-at-dawn", "sun", None),
            ("detail_opened", "harbour-at-dawn", "sun", None),
            ("audio_played", "harbour-at-dawn", "sun", None),
            ("artwork_left", "harbour-at-dawn", None, 30.0),
        ],
    ),
    (
        "s2",
        "it",
        [
            ("artwork_recognised", "harbour-at-dawn", None, None),
            ("detail_opened", "harbour-at-dawn", "boat", None),
            ("artwork_left", "harbour-at-dawn", None, 10.0),
            ("artwork_recognised", "the-blue-house", None, None),
            ("artwork_left", "the-blue-house", None, 20.0),
        ],
    ),
    (
        "s3",
        "en",
        [
            ("artwork_recognised", "harbour-at-dawn", None, None),
            ("detail_recognised", "harbour-at-dawn", "sun", None),
            ("artwork_left", "harbour-at-dawn", None, 50.0),
        ],
    ),
    ("s4", "en", [("artwork_recognised", "the-blue-house", None, None)]),
    ("s5", "en", []),
]


@pytest.fixture
def events_env(tmp_path, monkeypatch, demo_guide):
    """A data folder with the demo guide and the events of :data:`VISITS` (plus one visit of another guide)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "guides").symlink_to(demo_guide.root.parent)
    log = EventLog(data / "events", flush_every=0.05)
    for session, lang, events in VISITS:
        log.log("session_start", session, guide="demo", language=lang, method="retrieval")
        for type_, artwork, detail, dwell in events:
            log.log(
                type_,
                session,
                guide="demo",
                language=lang,
                method="retrieval",
                artwork=artwork,
                detail=detail,
                dwell_s=dwell,
                score=0.8 if type_ == "artwork_recognised" else None,
            )
    log.log("session_start", "o1", guide="other", language="fr", method="classification")
    log.log("artwork_recognised", "o1", guide="other", language="fr", method="classification", artwork="x")
    log.close()
    monkeypatch.setenv("SMARTLENS_DATA", str(data))
    import streamlit as st

    st.cache_resource.clear()  # shared.settings() reads the environment once per process
    st.cache_data.clear()
    yield data / "events"
    st.cache_resource.clear()
    st.cache_data.clear()


def test_figures_from_the_library(events_env):
    figs = stats.figures(events_env, stats.Filters(guide="demo"))
    assert figs["funnel"]["sessions"].tolist() == [5, 4, 2, 1]
    top = figs["artworks"].iloc[0]
    assert (top["artwork"], top["views"], top["visitors"], top["median_dwell_s"]) == (
        "harbour-at-dawn",
        3,
        3,
        30.0,
    )
    assert figs["summary"].iloc[0]["median_dwell_s"] == 25.0
    assert dict(zip(figs["languages"]["language"], figs["languages"]["visits"])) == {"en": 4, "it": 1}
    assert figs["by_hour"]["visits"].sum() == 5 and figs["by_day"]["visits"].sum() == 5
    sun = figs["details"].query("detail == 'sun'").iloc[0]
    assert (sun["recognised"], sun["opened"], sun["played"]) == (2, 1, 1)
    assert stats.figures(events_env)["summary"].iloc[0]["visits"] == 6
    today = stats.day_span(events_env)[1]
    assert (
        stats.figures(events_env, stats.Filters(until=today - __import__("datetime").timedelta(days=1)))[
            "summary"
        ].iloc[0]["events"]
        == 0
    )
    csv = stats.export_bytes(events_env, stats.Filters(guide="other"), "csv").decode()
    assert csv.count("\n") == 3 and "ip" not in csv.splitlines()[0]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_dashboard_shows_the_figures(events_env):
    at = AppTest.from_file(str(STUDIO / "visitors.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert _metrics(at)["Visits"] == "6"  # all guides
    at.selectbox(key="visitors_guide").set_value("demo").run()
    assert not at.exception, at.exception
    m = _metrics(at)
    assert (m["Visits"], m["Artworks recognised"], m["Details opened"], m["Audio, video, read-aloud"]) == (
        "5",
        "5",
        "2",
        "1",
    )
    assert m["Median time at an artwork"] == "25 s"
    tables = [d.value for d in at.dataframe]
    funnel = next(t for t in tables if "stage" in t.columns)
    assert funnel["sessions"].tolist() == [5, 4, 2, 1]
    artworks = next(t for t in tables if "views" in t.columns)
    assert artworks.iloc[0]["artwork"] == "harbour-at-dawn" and artworks.iloc[0]["views"] == 3
    details = next(t for t in tables if "opened" in t.columns)
    assert set(details["detail"]) == {"sun", "boat"}
    assert at.selectbox(key="visitors_heat_artwork").value == "harbour-at-dawn"
    assert len(at.get("image")) == 1  # the heat map
    assert len(at.get("download_button")) == 2


def test_dashboard_without_events(tmp_path, monkeypatch):
    import streamlit as st

    monkeypatch.setenv("SMARTLENS_DATA", str(tmp_path / "empty"))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(STUDIO / "visitors.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert any("No visits recorded yet" in i.value for i in at.info)
    st.cache_resource.clear()


@pytest.mark.slow
@pytest.mark.browser
def test_dashboard_screenshot(events_env, tmp_path):
    """The page in headless Chromium, at a laptop's size; the PNG's path is printed."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    from smartlens.bench.browser import free_port

    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.skip("chromium / chromedriver not installed")
    port = free_port()
    env = {**TEST_ENV, "SMARTLENS_DATA": str(events_env.parent), "PATH": __import__("os").environ["PATH"]}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(STUDIO / "visitors.py"),
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    o = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1366,2400",
    ):
        o.add_argument(arg)
    o.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=o)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                driver.get(f"http://127.0.0.1:{port}/?guide=demo")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        while time.monotonic() < deadline:
            labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetricValue"]')]
            charts = driver.find_elements(By.CSS_SELECTOR, "canvas, svg.marks")
            pictures = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stImage"] img')
            if labels and labels[0] == "5" and len(charts) >= 6 and pictures:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"the page did not show its figures: metrics {labels}")
        time.sleep(2)  # let the Vega charts finish drawing
        out = Path("/tmp/smartlens-screens") / "visitors-dashboard.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
        print(f"\nscreenshot: {out}")
        assert out.stat().st_size > 20_000
    finally:
        driver.quit()
        server.terminate()
        server.wait(20)
