"""The soak benchmark in small: visitors come and go through the lens' real frame callback for a
minute, the lens reloads its guide meanwhile, and once everyone has left the process holds what it
held before they came."""

from __future__ import annotations

from smartlens.allocator import keep_freed_memory
from smartlens.bench.soak import SoakParams, run


def test_visitors_come_and_go_and_leave_nothing_behind(demo_guide, base_settings, tmp_path):
    keep_freed_memory()  # as the lens process does at start (the arena cap keeps memory in use flat)
    params = SoakParams(
        minutes=1.0,
        visitors=3,
        fps=8.0,
        session_s=(3.0, 8.0),
        keep_s=3.0,
        switch_min=0.35,
        sample_s=20.0,
        warmup_s=4.0,
        slots_idle_s=2.0,
    )
    r = run(demo_guide, base_settings, params, tmp_path / "events")
    assert r["sessions"] >= 15, r["sessions"]
    assert r["frames"] > 0 and r["frames_back"] == r["frames"] and r["failures"] == 0
    # nothing per visitor once they have gone: no processor, no waiting turn, no thread, no file
    assert r["end"]["processors_alive"] == 0 and r["end"]["waiting_for_slot"] == 0
    assert r["threads_growth"] == 0 and r["open_files_growth"] == 0, (r["baseline"], r["end"])
    # the recognisers of the runtimes the lens replaced were freed
    assert r["runtimes_replaced"] >= 1 and r["replaced_recognisers_alive"] == 0
    assert r["live_growth_mb"] <= 50, (r["baseline"], r["end"])
    # every session that began a visit logged its end (on a busy machine, a visitor of a few
    # seconds may leave before the first recognition lands: such a session has no visit)
    assert r["event_sessions"] == r["sessions_with_warmup"]
    assert (
        r["sessions_with_every_visit_left"] == r["sessions_that_saw_an_artwork"] >= r["event_sessions"] // 2
    )
