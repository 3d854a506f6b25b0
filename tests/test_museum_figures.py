"""The figures museums use (attraction, holding, diligent visits, paths, languages) and the
k-anonymity of exports, on synthetic visits whose answers are worked out by hand below."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
import pytest

from smartlens.analytics import privacy, stats
from smartlens.analytics.events import EventLog
from smartlens.analytics.queries import QUERIES
from smartlens.analytics.schema import make_event
from smartlens.analytics.titles import guide_titles
from smartlens.guide.model import Artwork, Detail, Guide

# Guide "g" lists five works; "d" has no title (its id is shown), "e" nobody frames.
GUIDE = Guide(
    "g",
    ["en", "it"],
    "en",
    artworks=[
        Artwork(
            "a",
            "a.jpg",
            10,
            10,
            title={"en": "Alpha", "it": "Alfa"},
            details=[Detail("face", (0, 0, 5, 5), name={"en": "The face", "it": "Il volto"})],
        ),
        Artwork("b", "b.jpg", 10, 10, title={"en": "Beta", "it": "Beta"}),
        Artwork("c", "c.jpg", 10, 10, title={"en": "Gamma", "it": "Gamma"}),
        Artwork("d", "d.jpg", 10, 10),
        Artwork("e", "e.jpg", 10, 10, title={"en": "Epsilon"}),
    ],
)

#: visit -> (method, [(language, artwork or None, dwell seconds)]): each stop is logged as
#: artwork_recognised then artwork_left; a language change shows in the events that follow it
VISITS = {
    "v01": ("retrieval", [("en", "a", 10), ("en", "b", 20), ("en", "c", 30)]),
    "v02": ("retrieval", [("en", "a", 5), ("en", "b", 15)]),
    "v03": ("retrieval", [("en", "a", 40), ("en", "a", 10), ("en", "d", 20)]),
    "v04": ("retrieval", [("en", "b", 17)]),
    "v05": ("retrieval", [("en", "a", 8), ("it", "b", 25)]),  # switched to Italian after "a"
    "v06": ("retrieval", [("it", "a", 17), ("it", "c", 3), ("it", "b", 9), ("it", "c", 4)]),
    "v07": ("retrieval", []),  # framed nothing
    "v08": ("classification", [("en", "a", 2), ("en", "b", 2), ("en", "c", 2)]),
    "v09": ("classification", [("en", "a", 60)]),
    "v10": ("classification", [("it", "b", 30), ("it", "a", 12)]),
}


def _events():
    t = datetime(2025, 3, 3, 10, 0)
    for n, (session, (method, stops)) in enumerate(VISITS.items()):
        start = t + timedelta(minutes=3 * n)
        first = stops[0][0] if stops else ("it" if session in ("v06", "v10") else "en")
        fields = {"guide": "g", "method": method}
        yield make_event(start, "session_start", session, fields | {"language": first})
        now = start
        for lang, art, dwell in stops:
            now += timedelta(seconds=2)
            yield make_event(now, "artwork_recognised", session, fields | {"language": lang, "artwork": art})
            now += timedelta(seconds=dwell)
            yield make_event(
                now, "artwork_left", session, fields | {"language": lang, "artwork": art, "dwell_s": dwell}
            )


@pytest.fixture
def store(tmp_path):
    log = EventLog(tmp_path / "events", flush_every=60)
    for event in _events():
        log._queue.put_nowait(event)  # the real writer, with the times chosen above
    log.close()
    return tmp_path / "events"


def _figs(store, **options):
    return stats.figures(
        store, options=stats.Options(titles=guide_titles([GUIDE], options.pop("language", None)), **options)
    )


def _rows(df, key):
    return {r[key]: r for r in df.to_dict("records")}


def test_attraction_power(store):
    att = _rows(_figs(store)["attraction"], "artwork")
    assert {a: (r["visits"], r["of_visits"], r["attraction"]) for a, r in att.items()} == {
        "a": (8, 10, 0.8),
        "b": (7, 10, 0.7),
        "c": (3, 10, 0.3),
        "d": (1, 10, 0.1),
        "e": (0, 10, 0.0),  # listed by the guide, framed by nobody
    }
    assert [att[a]["title"] for a in "abcde"] == ["Alpha", "Beta", "Gamma", "d", "Epsilon"]


def test_holding_power_per_visit_against_the_reference(store):
    hold = _rows(_figs(store)["holding"], "artwork")
    a, b, c, d = hold["a"], hold["b"], hold["c"], hold["d"]
    # a: per visit 10, 5, 40+10, 8, 17, 2, 60, 12 -> sorted 2 5 8 10 12 17 50 60
    assert (a["visits"], a["median_s"], a["share_at_reference"], a["holding_power"]) == (8, 11.0, 0.375, 0.65)
    # quartiles interpolate linearly: 5 + 0.75 * (8 - 5) and 17 + 0.25 * (50 - 17), to 0.1 s
    assert (a["p25_s"], a["p75_s"]) == (7.3, 25.3)
    # b: 20 15 17 25 9 2 30 -> 2 9 15 17 20 25 30
    assert (b["visits"], b["median_s"], b["share_at_reference"], b["holding_power"]) == (7, 17.0, 0.5714, 1.0)
    assert (c["visits"], c["median_s"]) == (3, 7.0)  # 30, 3+4, 2
    assert (d["visits"], d["median_s"], d["reference_s"]) == (1, 20.0, 17.0)
    assert "e" not in hold  # nobody stood before it
    # the reference is the staff's: at 10 s, a's share is 5 of 8
    hold10 = _rows(_figs(store, reference_s=10.0)["holding"], "artwork")
    assert (hold10["a"]["share_at_reference"], hold10["a"]["holding_power"]) == (0.625, 1.1)
    with pytest.raises(ValueError):
        _figs(store, reference_s=0.0)


def test_diligent_visits_and_works_framed_per_visit(store):
    (row,) = _figs(store)["diligent"].to_dict("records")
    # five listed works: more than half is 3 or more (v01, v06, v08)
    assert (row["guide"], row["works"], row["visits"], row["diligent"], row["diligent_share"]) == (
        "g",
        5,
        10,
        3,
        0.3,
    )
    cov = _figs(store)["coverage"]
    assert dict(zip(cov["works_framed"], cov["visits"])) == {0: 1, 1: 2, 2: 4, 3: 3}


def test_paths_between_works(store):
    paths = _figs(store)["paths"]
    got = {
        (r["from_artwork"], r["to_artwork"]): (r["transitions"], r["visits"], r["share"])
        for r in paths.to_dict("records")
    }
    assert got == {
        ("a", "b"): (4, 4, round(4 / 6, 4)),  # v01 v02 v05 v08
        ("b", "c"): (3, 3, 0.75),  # v01 v06 v08
        ("a", "d"): (1, 1, round(1 / 6, 4)),  # v03: framing "a" twice in a row is one stop
        ("a", "c"): (1, 1, round(1 / 6, 4)),
        ("c", "b"): (1, 1, 1.0),
        ("b", "a"): (1, 1, 0.25),
    }
    first = paths.iloc[0]
    assert (first["from_title"], first["to_title"]) == ("Alpha", "Beta")


def test_languages_count_every_language_a_visit_used(store):
    langs = _rows(_figs(store)["languages"], "language")
    assert {k: (r["visits"], r["started_in"], r["switched_to"]) for k, r in langs.items()} == {
        "en": (8, 8, 0),
        "it": (3, 2, 1),  # v06 and v10 started in Italian, v05 switched to it
    }


def test_a_language_switch_alone_counts(tmp_path):
    """A visitor who switches to Italian and frames nothing after it is an Italian visit too."""
    log = EventLog(tmp_path, flush_every=60)
    log.log("session_start", "s1", guide="g", language="en")
    log.log("language_changed", "s1", guide="g", language="it")
    log.close()
    langs = _rows(stats.figures(tmp_path, names=["languages"])["languages"], "language")
    assert {k: (r["visits"], r["started_in"], r["switched_to"]) for k, r in langs.items()} == {
        "en": (1, 1, 0),
        "it": (1, 0, 1),
    }


def test_titles_in_the_chosen_language_and_made_unique(store):
    figs = _figs(store, language="it")
    assert _rows(figs["attraction"], "artwork")["a"]["title"] == "Alfa"
    assert _rows(figs["artworks"], "artwork")["a"]["title"] == "Alfa"
    assert _figs(store)["artworks"]["title"].tolist()[:2] == ["Alpha", "Beta"]
    twin = Guide(
        "g",
        ["en"],
        "en",
        artworks=[
            Artwork("a", "a.jpg", 1, 1, title={"en": "Same"}),
            Artwork("b", "b.jpg", 1, 1, title={"en": "Same"}),
        ],
    )
    labels = stats.figures(store, options=stats.Options(titles=guide_titles([twin])))["attraction"]
    assert set(labels["title"]) >= {"Same (a)", "Same (b)"}
    # no titles at all: the ids
    assert set(stats.figures(store)["attraction"]["title"]) == {"a", "b", "c", "d"}


def test_exports_hide_groups_under_five_visits(store):
    k = privacy.MIN_GROUP
    figs = _figs(store, min_group=k)
    att = _rows(figs["attraction"], "artwork")
    assert (att["a"]["visits"], att["a"]["attraction"]) == (8, 0.8)
    assert all(_empty(att[x]["visits"]) and _empty(att[x]["attraction"]) for x in "cd")  # 3 and 1 visits
    assert (att["e"]["visits"], att["e"]["attraction"]) == (0, 0.0)  # nobody is not a small group
    hold = _rows(figs["holding"], "artwork")
    assert hold["a"]["median_s"] == 11.0 and hold["b"]["median_s"] == 17.0
    # d's median (20 s) ranked it first: hidden rows go last, by title, so their place tells nothing
    assert figs["holding"]["artwork"].tolist() == ["b", "a", "c", "d"]
    assert all(
        _empty(hold[x][c]) for x in "cd" for c in ("visits", "median_s", "p90_s", "share_at_reference")
    )
    (dil,) = figs["diligent"].to_dict("records")
    assert dil["visits"] == 10 and _empty(dil["diligent"]) and _empty(dil["diligent_share"])
    assert all(_empty(v) for v in figs["coverage"]["visits"])  # 1, 2, 4, 3
    assert all(_empty(v) for v in figs["paths"]["visits"]) and all(_empty(v) for v in figs["paths"]["share"])
    langs = _rows(figs["languages"], "language")
    assert (langs["en"]["visits"], langs["en"]["switched_to"]) == (8, 0)
    assert all(_empty(langs["it"][c]) for c in ("visits", "started_in", "switched_to"))
    # secondary suppression: 7 retrieval and 3 classification visits add up to the 10 shown in the
    # summary, so hiding the 3 alone would not hide it
    methods = _rows(figs["methods"], "method")
    assert _empty(methods["classification"]["visits"]) and _empty(methods["retrieval"]["visits"])
    assert figs["summary"]["visits"].tolist() == [10]
    # the staff's own screen shows everything
    assert _rows(_figs(store)["methods"], "method")["classification"]["visits"] == 3


def test_every_figure_has_a_privacy_rule():
    assert set(privacy.RULES) == set(QUERIES)
    for name, rule in privacy.RULES.items():
        for count, _ in rule.groups:
            assert count in QUERIES[name], (name, count)


def test_the_stats_command_exports_only_groups_of_five(store, monkeypatch, capsys):
    from smartlens.cli import main

    monkeypatch.setenv("SMARTLENS_DATA", str(store.parent))
    assert main(["stats", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "fewer than 5 visits" in out["privacy"]
    att = {r["artwork"]: r for r in out["attraction"]}
    assert att["a"]["attraction"] == 0.8 and att["c"]["attraction"] is None
    assert {r["language"]: r["visits"] for r in out["languages"]} == {"en": 8, "it": None}
    assert main(["stats", "--format", "csv", "--reference-s", "10"]) == 0
    csv = capsys.readouterr().out
    assert csv.startswith("# privacy: groups of fewer than 5 visits are hidden") and "# holding\n" in csv
    assert main(["stats", "--min-group", "3"]) == 2
    assert "at least 5" in capsys.readouterr().err
    assert main(["stats", "--reference-s", "-1"]) == 2


def _empty(value) -> bool:
    return value is None or bool(pd.isna(value))
