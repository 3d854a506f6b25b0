"""The studio's Visitors page over synthetic events whose figures are known."""

from __future__ import annotations

import contextlib
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

#: (session, language, [(type, artwork, detail, dwell_s)]) in guide "demo"; s2 and s4 start in
#: English and switch to Italian before their first recognition (the language of their events)
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
        "en>it",
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
    ("s4", "en>it", [("artwork_recognised", "the-blue-house", None, None)]),
    ("s5", "en", []),
]


@pytest.fixture
def events_env(tmp_path, monkeypatch, demo_guide):
    """A data folder with the demo guide and the events of :data:`VISITS` (plus one visit of another guide)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "guides").symlink_to(demo_guide.root.parent)
    log = EventLog(data / "events", flush_every=0.05)
    for session, langs, events in VISITS:
        start, _, then = langs.partition(">")
        log.log("session_start", session, guide="demo", language=start, method="retrieval")
        for type_, artwork, detail, dwell in events:
            log.log(
                type_,
                session,
                guide="demo",
                language=then or start,
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


def test_figures_from_the_library(events_env, demo_guide):
    from smartlens.analytics.titles import guide_titles

    figs = stats.figures(
        events_env, stats.Filters(guide="demo"), options=stats.Options(guide_titles([demo_guide.guide]))
    )
    assert figs["funnel"]["sessions"].tolist() == [5, 4, 2, 1]
    top = figs["artworks"].iloc[0]
    assert (top["artwork"], top["views"], top["visitors"], top["median_dwell_s"]) == (
        "harbour-at-dawn",
        3,
        3,
        30.0,
    )
    assert figs["summary"].iloc[0]["median_dwell_s"] == 25.0
    langs = figs["languages"].set_index("language")
    assert langs.loc["en"].tolist() == [5, 5, 0] and langs.loc["it"].tolist() == [
        2,
        0,
        2,
    ]  # used, started, switched
    assert figs["attraction"].set_index("artwork")["title"]["harbour-at-dawn"] == "Harbour at Dawn"
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


def test_dashboard_shows_the_figures(events_env, demo_guide):
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
    assert artworks.iloc[0]["title"] == "Harbour at Dawn" and artworks.iloc[0]["views"] == 3
    attraction = next(t for t in tables if "attraction" in t.columns)
    assert dict(zip(attraction["title"], attraction["visits"]))["Harbour at Dawn"] == 3
    details = next(t for t in tables if "opened" in t.columns)
    assert set(details["detail_title"]) == {"The rising sun", "The sailing boat"}
    assert at.selectbox(key="visitors_heat_artwork").value == "harbour-at-dawn"
    assert len(at.get("image")) == 1  # the heat map
    assert len(at.get("download_button")) == 4
    langs = _chart_data(at, "Languages")
    assert set(zip(langs["language"], langs["how"], langs["visits"])) == {
        ("en", "started in it", 5),
        ("en", "switched to it", 0),
        ("it", "started in it", 0),
        ("it", "switched to it", 2),  # s2 and s4 switched to Italian mid-visit
    }
    assert set(_chart_data(at, "Attraction power")["title"]) == {
        a.title["en"] for a in demo_guide.guide.artworks
    }  # every work of the guide, by its title, framed or not
    at.selectbox(key="visitors_language").set_value("it").run()  # titles in Italian
    assert not at.exception, at.exception
    tables = [d.value for d in at.dataframe]
    assert next(t for t in tables if "views" in t.columns).iloc[0]["title"] == "Porto all'alba"
    assert "Porto all'alba" in set(_chart_data(at, "Most viewed artworks")["title"])


def _chart_data(at: AppTest, title: str):
    """The data of the Vega-Lite chart titled ``title`` (Streamlit sends it as Arrow)."""
    import json

    import pyarrow as pa

    for e in at.get("vega_lite_chart"):
        spec = json.loads(e.proto.spec)
        named = spec.get("title")
        if title in (named, named.get("text") if isinstance(named, dict) else None):
            (data,) = [d.data.data for d in e.proto.datasets] or [e.proto.data.data]
            return pa.ipc.open_stream(data).read_pandas()
    raise AssertionError(f"no chart titled {title!r}")


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


@contextlib.contextmanager
def _dashboard(data: Path, height: int = 2400):
    """The Visitors page served by ``streamlit run`` over ``data``, in headless Chromium (selenium)."""
    import os
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from smartlens.bench.browser import free_port

    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.skip("chromium / chromedriver not installed")
    port = free_port()
    env = {**TEST_ENV, "SMARTLENS_DATA": str(data), "PATH": os.environ["PATH"]}
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
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        o.add_argument(arg)
    o.add_argument(f"--window-size=1366,{height}")
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
        yield driver
    finally:
        driver.quit()
        server.terminate()
        server.wait(20)


LANGUAGES = "Languages: visits that started in each language, and visits that switched to it"
ATTRACTION = "Attraction power: the share of visits that framed each work"


def _charts(driver) -> dict[str, list[str]]:
    """Each drawn Vega chart's accessible name (its description) -> the texts drawn in it."""
    from selenium.webdriver.common.by import By

    out = {}
    for chart in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"]'):
        name = chart.get_attribute("aria-label") or ""
        out[name] = [t.get_attribute("textContent") for t in chart.find_elements(By.CSS_SELECTOR, "svg text")]
    return out


def _wait_for(driver, ready, what: str, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = ready()
        except Exception:  # an element redrawn under us: look again
            found = None
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"the page did not show {what}")


@pytest.mark.slow
@pytest.mark.browser
def test_dashboard_in_the_browser_counts_the_italian_visits(events_env):
    """In Chromium: the Languages chart shows the two visits that switched to Italian, and the
    charts name the works by their full titles."""
    from selenium.webdriver.common.by import By

    with _dashboard(events_env.parent) as driver:

        def drawn():
            charts = _charts(driver)
            texts = charts.get(LANGUAGES)
            return charts if texts and "it" in texts and ATTRACTION in charts else None

        charts = _wait_for(driver, drawn, "an Italian bar in the Languages chart, and the others")
        assert "switched to it" in charts[LANGUAGES]
        value = [e.text for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetricValue"]')]
        assert value[0] == "5"
        attraction = charts[ATTRACTION]
        assert "Harbour at Dawn" in attraction and "The Blue House" in attraction
        assert not any("…" in t or t.startswith("harbour-at") for name in charts for t in charts[name])


def synthetic_visits(guide, visits: int, days: int, seed: int = 3):
    """Events of ``visits`` visits to ``guide`` over the last ``days`` days, as visitors make them:
    some works draw more than others, a visit goes on to the next work or ends, a few switch to
    Italian, open details, play audio. For the README's screenshot."""
    import random
    from datetime import UTC, datetime, timedelta

    from smartlens.analytics.schema import make_event

    rng = random.Random(seed)
    arts = guide.artworks
    pull = [1.0 / (1 + i) ** 0.6 for i in range(len(arts))]  # the first works draw more
    hold = [rng.uniform(8, 45) for _ in arts]  # each work's typical seconds
    today = datetime.now(UTC).replace(tzinfo=None, hour=9, minute=0, second=0, microsecond=0)
    for v in range(visits):
        session = f"v{v:05d}"
        t = today - timedelta(days=1 + rng.randrange(days)) + timedelta(minutes=rng.randrange(8 * 60))
        lang = "it" if rng.random() < 0.3 else "en"
        method = rng.choice(["retrieval", "retrieval", "classification", "detection"])
        base = {"guide": guide.name, "method": method}
        yield make_event(t, "session_start", session, base | {"language": lang})
        order = list(range(len(arts)))
        for _ in range(len(arts)):
            if not order or rng.random() < 0.2:
                break
            i = rng.choices(order, [pull[j] for j in order])[0]
            order.remove(i)
            if lang == "en" and rng.random() < 0.06:
                lang = "it"  # switched mid-visit
            art = arts[i]
            fields = base | {"language": lang, "artwork": art.id}
            t += timedelta(seconds=rng.uniform(10, 60))
            yield make_event(
                t, "artwork_recognised", session, fields | {"score": round(rng.uniform(0.6, 1), 3)}
            )
            for d in art.details:
                if rng.random() < 0.35:
                    t += timedelta(seconds=2)
                    yield make_event(t, "detail_recognised", session, fields | {"detail": d.id})
                    if rng.random() < 0.5:
                        yield make_event(t, "detail_opened", session, fields | {"detail": d.id})
                        if rng.random() < 0.4:
                            yield make_event(t, "audio_played", session, fields | {"detail": d.id})
            dwell = round(rng.lognormvariate(0, 0.6) * hold[i], 1)
            t += timedelta(seconds=dwell)
            yield make_event(t, "artwork_left", session, fields | {"dwell_s": dwell})


@pytest.mark.slow
@pytest.mark.browser
def test_dashboard_screenshot(tmp_path, demo_guide):
    """The page over 400 synthetic visits in headless Chromium, at a laptop's size; the PNG's path
    is printed (docs/visitors-dashboard.png is it, in 256 colours; SCREENSHOT_HEIGHT=4000 shows
    the whole page)."""
    import os

    data = tmp_path / "data"
    data.mkdir()
    (data / "guides").symlink_to(demo_guide.root.parent)
    log = EventLog(data / "events", flush_every=60, capacity=100_000)
    for event in synthetic_visits(demo_guide.guide, 400, 14):
        log._queue.put_nowait(event)
    log.close()
    with _dashboard(data, height=int(os.environ.get("SCREENSHOT_HEIGHT", 1400))) as driver:
        _wait_for(driver, lambda: len(_charts(driver)) >= 8, "its charts")
        time.sleep(3)  # let the Vega charts finish drawing
        out = Path("/tmp/smartlens-screens") / "visitors-dashboard.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
        print(f"\nscreenshot: {out}")
        assert out.stat().st_size > 20_000
