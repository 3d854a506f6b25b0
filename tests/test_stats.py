"""``python -m smartlens stats`` and ``events compact|prune|status``, and the heat map."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smartlens.analytics.events import EventLog
from smartlens.analytics.heatmap import attention_map
from smartlens.cli import main


@pytest.fixture
def data(tmp_path, monkeypatch):
    log = EventLog(tmp_path / "events", flush_every=0.05)
    for s, lang in (("a1", "en"), ("a2", "it"), ("a3", "it"), ("a4", "it"), ("a5", "it"), ("a6", "it")):
        log.log("session_start", s, guide="g", language=lang, method="retrieval")
        log.log("artwork_recognised", s, guide="g", language=lang, method="retrieval", artwork="mona-lisa")
    log.log("session_start", "b1", guide="h", language="en", method="classification")
    log.close()
    monkeypatch.setenv("SMARTLENS_DATA", str(tmp_path))
    return tmp_path


def test_stats_command_prints_the_figures(data, capsys):
    assert main(["stats", "--guide", "g", "--format", "json"]) == 0
    figs = json.loads(capsys.readouterr().out)
    assert figs["summary"][0]["visits"] == 6
    assert figs["artworks"][0] == {
        "title": "mona-lisa",  # no guide "g" to take a title from
        "guide": "g",
        "artwork": "mona-lisa",
        "views": 6,
        "visitors": 6,
        "details_opened": 0,
        "median_dwell_s": None,
    }
    # an export: the one English visit is a group under 5, hidden
    assert {r["language"]: r["visits"] for r in figs["languages"]} == {"it": 5, "en": None}
    assert [r["sessions"] for r in figs["funnel"]] == [6, 6, 0, 0]
    assert main(["stats"]) == 0
    table = capsys.readouterr().out
    assert "Most viewed artworks" in table and "mona-lisa" in table and "Funnel" in table
    assert main(["stats", "--format", "csv", "--since", "2000-01-01", "--until", "2000-12-31"]) == 0
    csv = capsys.readouterr().out
    assert "# summary\nvisits," in csv and "\n0,0,0,0,,0" in csv  # nothing in 2000
    assert main(["stats", "--since", "yesterday"]) == 2
    assert "not a date" in capsys.readouterr().err


def test_events_commands(data, capsys):
    assert main(["events", "status"]) == 0
    assert "writable" in capsys.readouterr().out
    assert main(["events", "compact"]) == 0
    capsys.readouterr()
    assert main(["events", "prune", "--retention-days", "0"]) == 2
    assert main(["events", "prune", "--retention-days", "1"]) == 0
    assert "0 events older than 1 days deleted" in capsys.readouterr().out
    assert main(["stats", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"][0]["events"] == 13
    # an event from the far past goes at the next prune
    old = EventLog(data / "events", flush_every=60)
    old.log("session_start", "old1", guide="g")
    event = old._queue.get_nowait()
    old._queue.put_nowait(
        type(event)(**{**event.__dict__, "ts": datetime.now(UTC).replace(tzinfo=None) - timedelta(days=9)})
    )
    old.close()
    assert main(["events", "prune", "--retention-days", "7"]) == 0
    assert "1 events older than 7 days deleted" in capsys.readouterr().out


def test_heat_map_warms_the_watched_detail(demo_guide, base_settings):
    import cv2

    art = demo_guide.guide.artwork("harbour-at-dawn")
    boxes = {d.id: d.box for d in art.details}
    hot = attention_map(demo_guide, art.id, {"sun": 9, "boat": 1}, base_settings)
    assert hot.shape[1] <= 900
    hsv = cv2.cvtColor(hot, cv2.COLOR_BGR2HSV)

    def inside(detail: str) -> np.ndarray:
        x, y, w, h = boxes[detail]
        s = hot.shape[1] / art.width
        return hsv[
            int((y + h * 0.3) * s) : int((y + h * 0.7) * s), int((x + w * 0.3) * s) : int((x + w * 0.7) * s)
        ]

    sun, boat, lighthouse = inside("sun"), inside("boat"), inside("lighthouse")
    assert np.median(sun[..., 0]) < 15 and sun[..., 1].mean() > 150  # the most watched: saturated red
    assert 80 < np.median(boat[..., 0]) < 130  # watched a little: the cold end of the map (cyan-blue)
    assert lighthouse[..., 1].mean() < 80  # nobody looked: the dimmed, greyed painting
    plain = attention_map(demo_guide, art.id, {}, base_settings)
    assert plain.shape == hot.shape
    with pytest.raises(KeyError):
        attention_map(demo_guide, "no-such-artwork", {}, base_settings)


def test_bench_events_times_every_query(tmp_path, capsys):
    """``bench events`` on a small store: every figure is timed, the export too, nothing lost."""
    out = tmp_path / "bench.json"
    assert main(["bench", "events", "--events", "24000", "--write-seconds", "0.2", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["store_24000"]["counted"] == 24000 and result["write"]["dropped"] == 0
    timed = result["queries_s"]["24000"]
    from smartlens.analytics.stats import QUERIES

    assert set(QUERIES) < set(timed) and "export of the figures, k = 5 (all, one guide)" in timed
    assert all(t > 0 for t in timed.values())
    assert "paths" in printed and "yardstick" in printed
