"""The visitor-event store: many writers, readers and compactions at once; crashes; bad disks."""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smartlens.analytics import store
from smartlens.analytics.events import EventLog, read_events

RATE = 800  # events per second per writer
FLUSH_S = 0.5


def _writer(folder: str, name: str, seconds: float, logged, segment_s: float, segment_bytes: int) -> None:
    """Log RATE events/s named ``<name>-<n>``; ``logged`` counts them (read after a kill)."""
    events = EventLog(
        Path(folder), flush_every=FLUSH_S, segment_seconds=segment_s, segment_bytes=segment_bytes
    )
    t0, n = time.monotonic(), 0
    while time.monotonic() - t0 < seconds:
        due = int((time.monotonic() - t0) * RATE)
        while n < due:
            events.log("artwork_recognised", f"{name}-{n:07d}", guide="g", artwork="a", score=0.5)
            n += 1
            logged.value = n
        time.sleep(0.005)
    events.close()


def _reader(folder: str, ready, stop, out) -> None:
    """Read the whole store again and again: never a duplicate, never fewer events than before."""
    import duckdb

    from smartlens.analytics import stats

    reads, problems, last = 0, [], 0
    stats.figures(Path(folder), names=["summary"])  # imports done before the clock starts
    ready.set()
    while not stop.is_set():
        try:
            fig = store.with_snapshot(
                Path(folder),
                lambda con, s: con.execute(
                    f"SELECT count(*), count(DISTINCT session) FROM ({store.union_sql(s.parquet, s.jsonl)})"
                ).fetchone(),
            )
            stats.figures(Path(folder), names=["summary", "funnel"])
        except duckdb.Error as exc:
            problems.append(f"read failed: {exc}")
            continue
        total, distinct = fig
        if total != distinct:
            problems.append(f"{total - distinct} duplicated events")
        if total < last:
            problems.append(f"events went missing: {last} -> {total}")
        last = total
        reads += 1
    out.put((reads, problems))
    print(f"reader: {reads} consistent reads of the whole store")


def _sequences(folder: Path) -> dict[str, list[int]]:
    seq: dict[str, list[int]] = {}
    for e in read_events(folder):
        name, n = e["session"].rsplit("-", 1)
        seq.setdefault(name, []).append(int(n))
    return {k: sorted(v) for k, v in seq.items()}


def test_two_writers_a_reader_compactions_and_a_kill(tmp_path):
    """Every event written is read exactly once, while segments rotate, convert and merge, and
    a SIGKILLed writer loses at most its unflushed buffer."""
    ctx = mp.get_context("spawn")
    folder = tmp_path / "events"
    a_n, b_n = ctx.Value("q", 0), ctx.Value("q", 0)
    results, ready, stop = ctx.Queue(), ctx.Event(), ctx.Event()
    a = ctx.Process(target=_writer, args=(str(folder), "a", 5.0, a_n, 0.7, 40_000))
    b = ctx.Process(target=_writer, args=(str(folder), "b", 60.0, b_n, 600.0, 1 << 30))
    reader = ctx.Process(target=_reader, args=(str(folder), ready, stop, results))
    for p in (a, b, reader):
        p.start()
    t0 = time.monotonic()
    while not (a_n.value and b_n.value and ready.is_set()) and time.monotonic() - t0 < 60:  # start-up
        time.sleep(0.05)
    compactions = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3.5:  # compactions race with the writers' own conversions
        time.sleep(0.4)
        compactions.append(store.compact(folder))
    os.kill(b.pid, signal.SIGKILL)
    killed_at = b_n.value
    b.join(10)
    a.join(30)
    stop.set()
    reads, problems = results.get(timeout=60)
    reader.join(10)
    assert a.exitcode == 0 and b.exitcode == -signal.SIGKILL
    assert problems == [] and reads >= 3
    assert sum(c.merged for c in compactions) >= 4, compactions

    def check() -> None:
        seq = _sequences(folder)
        assert seq["a"] == list(range(a_n.value))  # all of the cleanly closed writer, once each
        kept = seq["b"]
        assert kept == list(range(len(kept)))  # a prefix, once each: nothing after a gap
        lost = killed_at - len(kept)
        assert 0 <= lost <= RATE * 1.0, f"{lost} events lost at the kill"

    check()
    # a rotated and converted its segments all along; b's last segment was still open when it was
    # killed: compactions left it alone while b lived and take it now that b is dead
    assert len(list(folder.glob("*.jsonl"))) == 1
    result = store.compact(folder)  # now the dead writer's segment is merged too
    assert result.merged >= 1 and not list(folder.glob("*.jsonl"))
    check()
    assert store.compact(folder).output is None  # nothing left to do
    check()
    assert not list((folder / "writers").glob("*.lock"))  # no writer left behind


def test_torn_line_is_skipped_and_superseded_files_are_read_once(tmp_path):
    events = EventLog(tmp_path, flush_every=0.05)
    for i in range(5):
        events.log("session_start", f"s{i}", guide="g", language="en")
    events.flush()
    segment = next(tmp_path.glob("*.jsonl"))
    with open(segment, "ab") as fh:  # what a kill in the middle of a write leaves
        fh.write(b'{"ts":"2024-01-01 10:00:00","session":"torn","ty')
    assert [e["session"] for e in read_events(tmp_path)] == [f"s{i}" for i in range(5)]
    # a conversion killed between its rename and its clean-up: both files on disk
    os.kill(os.getpid(), 0)
    events._stop.set()
    events._thread.join()
    with events._io:
        os.close(events._fd)
        events._fd = None
    copy = segment.read_bytes()
    store.convert_segment(tmp_path, segment)
    segment.write_bytes(copy)
    snap = store.snapshot(tmp_path)
    assert snap.superseded == [segment] and len(read_events(tmp_path)) == 5
    store.compact(tmp_path)
    assert not segment.exists() and len(read_events(tmp_path)) == 5


def test_a_crashed_writers_segment_is_merged_a_live_ones_is_not(tmp_path):
    live = EventLog(tmp_path, flush_every=60)
    live.log("session_start", "live1")
    live.flush()
    crashed = tmp_path / "wdead01-000001.jsonl"  # no lock held: its writer is gone
    crashed.write_text(
        '{"ts":"2024-05-01 10:00:00","session":"d1","type":"session_start"}\n'
        '{"ts":"2024-05-01 10:00:01","session":"d2","type":"detail_opened","artwork":"a","detail":"face"}\n'
        '{"ts":"2024-05-01 10:00:0'
    )
    result = store.compact(tmp_path)
    assert result.merged == 1 and result.events == 2 and not crashed.exists()
    assert len(list(tmp_path.glob("w*.jsonl"))) == 1  # the live writer's segment, untouched
    assert sorted(e["session"] for e in read_events(tmp_path)) == ["d1", "d2", "live1"]
    live.close()
    assert sorted(e["session"] for e in read_events(tmp_path)) == ["d1", "d2", "live1"]


def test_unwritable_folder_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    events = EventLog(blocker / "events", flush_every=0.05)  # its folder cannot exist
    events.log("session_start", "s", guide="g")
    events.flush()
    status = events.status()
    assert status.failed == 1 and status.written == 0 and not status.ok and "NotADirectory" in status.error
    events.close()
    health = store.health(blocker / "events")
    assert not health.writable and "cannot be written" in health.problem

    gone = tmp_path / "gone"
    live = EventLog(gone, flush_every=0.05)
    live.log("session_start", "s1")
    live.flush()
    with live._io:  # the folder disappears under a running writer (tests run as root: no chmod)
        live._close_segment(convert=True)
    live._converter_idle()
    shutil.rmtree(gone)
    gone.write_text("not a folder")
    live.log("session_start", "s2")
    live.flush()
    assert live.status().failed == 1 and "File exists" in live.status().error
    gone.unlink()
    live.log("session_start", "s3")
    live.flush()
    assert live.status().ok and live.status().written == 2  # it recovers by itself
    assert (gone / "writers" / f"{live.writer}.lock").exists()  # and is known to be alive again
    live.close()
    assert [e["session"] for e in read_events(gone)] == ["s3"]


def test_full_disk_is_reported(tmp_path, monkeypatch):
    """ENOSPC cannot be made for real here without a small file system; os.write raises it."""
    import errno

    from smartlens.analytics import events as events_module

    log = EventLog(tmp_path, flush_every=60)

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(events_module.os, "write", full)
    log.log("session_start", "s1")
    log.flush()
    monkeypatch.undo()
    assert log.status().failed == 1 and "No space left" in log.status().error
    log.log("session_start", "s2")
    log.flush()
    assert log.status().ok
    log.close()
    assert [e["session"] for e in read_events(tmp_path)] == ["s2"]


def test_never_blocks_and_refuses_what_is_not_anonymous(tmp_path):
    events = EventLog(tmp_path, flush_every=0.05, capacity=3)
    events._stop.set()  # writer stopped: the queue fills up
    events._thread.join()
    t0 = time.perf_counter()
    for _ in range(10):
        events.log("session_start", "s")
    assert time.perf_counter() - t0 < 0.05 and events.dropped == 7
    events.log("session_start", "s", ip="10.0.0.1")
    events.log("session_start", "s", artwork="I loved it, call me at 555")
    events.log("detail_left", "s", dwell_s=float("nan"))
    events.log("bogus", "s")
    assert events.refused == 4
    events.flush()
    assert len(read_events(tmp_path)) == 3


def test_retention_prunes_old_events(tmp_path):
    import duckdb

    now = datetime.now(UTC).replace(tzinfo=None)
    con = duckdb.connect()
    old = tmp_path / "w0123-000001.parquet"
    first = (now - timedelta(days=40, hours=-1)).isoformat(sep=" ")  # an hour clear of the cut-off
    con.execute(
        f"""COPY (SELECT TIMESTAMP '{first}' + i * INTERVAL 1 DAY AS ts,
                 'x' || i AS session, 'session_start' AS type, 'g' AS guide, NULL::VARCHAR AS language,
                 NULL::VARCHAR AS method, NULL::VARCHAR AS artwork, NULL::VARCHAR AS detail,
                 NULL::DOUBLE AS score, NULL::DOUBLE AS dwell_s FROM range(40) t(i)) TO '{old}' (FORMAT parquet)"""
    )
    assert len(read_events(tmp_path)) == 40
    result = store.compact(tmp_path, retention_days=30)
    kept = read_events(tmp_path)
    assert result.pruned == 10 and len(kept) == 30
    assert min(e["ts"] for e in kept) >= now - timedelta(days=30)
    assert store.compact(tmp_path, retention_days=30).output is None  # nothing more to prune


def test_big_files_are_left_alone_unless_they_hold_expired_events(tmp_path):
    events = EventLog(tmp_path, flush_every=60)
    for batch in range(3):  # three converted segments
        for i in range(50 if batch == 0 else 2):
            events.log("session_start", f"b{batch}-{i}")
        events.flush()
        with events._io:
            events._close_segment(convert=True)
        events._converter_idle()
    events.close()
    files = sorted(tmp_path.glob("*.parquet"), key=lambda p: p.stat().st_size)
    big = files[-1]
    result = store.compact(tmp_path, max_file_bytes=big.stat().st_size)
    assert result.merged == 2 and big.exists() and len(read_events(tmp_path)) == 54
    far_future = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=400)
    result = store.compact(tmp_path, retention_days=30, max_file_bytes=big.stat().st_size, now=far_future)
    assert not big.exists() and result.pruned == 54 and read_events(tmp_path) == []


def test_health_shows_each_writers_counts(tmp_path):
    events = EventLog(tmp_path, flush_every=60, capacity=1)
    events.log("session_start", "s1")
    events.flush()
    events._stop.set()
    events._thread.join()
    events.log("session_start", "s2")
    events.log("session_start", "s3")  # the queue holds one: dropped
    events._save_status(force=True)
    health = store.health(tmp_path)
    (writer,) = health.writers
    assert writer["live"] and writer["written"] == 1 and writer["dropped"] == 1 and health.dropped == 1
    assert health.writable and health.problem is None and health.files == 1
    events.close()
    assert store.health(tmp_path).writers == []  # a writer that closed cleanly leaves nothing behind


BAD_IDS = {
    "192.168.1.20": "IP address",
    "10.0.0.7": "IP address",
    "2001:db8::1": "IP address",
    "fe80::1": "IP address",
    "::ffff:10.0.0.7": "IP address",
    "room-10.0.0.7": "IP address",
    "aa:bb:cc:dd:ee:ff": "MAC",
    "john.smith:gmail.com": "e-mail",
    "a@b.c": "identifier",
    "Müller": "identifier",
    "山田太郎": "identifier",
    "abc\n": "identifier",
    "a b": "identifier",
    "": "identifier",
    "x" * 81: "identifier",
}


def test_identifiers_are_ascii_and_never_an_address():
    from smartlens.analytics.schema import make_event

    now = datetime(2025, 1, 1)
    for field in ("guide", "language", "method", "artwork", "detail"):
        for bad, why in BAD_IDS.items():
            try:
                make_event(now, "artwork_recognised", "s1", {field: bad})
            except ValueError as exc:
                assert field in str(exc) and why in str(exc), (field, bad, exc)
            else:
                raise AssertionError(f"{field}={bad!r} was accepted")
    for bad in BAD_IDS:
        try:
            make_event(now, "session_start", bad, {})
        except ValueError as exc:
            assert "session" in str(exc)
        else:
            raise AssertionError(f"session {bad!r} was accepted")
    # what the lens really sends stays fine: slugs, language codes, method names, hex session ids
    ok = make_event(
        now,
        "artwork_recognised",
        "0123456789abcdef",
        {
            "guide": "paintings",
            "language": "pt-BR",
            "method": "retrieval",
            "artwork": "the-1.2-version",
            "detail": "face_2",
            "score": 0.73,
        },
    )
    assert ok.artwork == "the-1.2-version" and ok.score == 0.73
    assert make_event(now, "artwork_recognised", "s", {"artwork": "x" * 80}).artwork == "x" * 80


def test_numbers_finite_and_in_range():
    from smartlens.analytics.schema import make_event

    now = datetime(2025, 1, 1)
    for bad in (-1e9, 1e308, -0.01, 86_400.5, float("nan"), float("inf"), True, "12"):
        try:
            make_event(now, "artwork_left", "s", {"dwell_s": bad, "artwork": "a"})
        except ValueError as exc:
            assert "dwell_s" in str(exc)
        else:
            raise AssertionError(f"dwell_s={bad!r} was accepted")
    for method in ("retrieval", "classification", "detection", None):
        for bad in (1e6, -0.5, 1.0001, float("nan")):
            try:
                make_event(now, "artwork_recognised", "s", {"score": bad, "method": method})
            except ValueError as exc:
                assert "score" in str(exc)
            else:
                raise AssertionError(f"score={bad!r} ({method}) was accepted")
    assert make_event(now, "artwork_left", "s", {"dwell_s": 86_400}).dwell_s == 86_400
    assert make_event(now, "artwork_left", "s", {"dwell_s": 0}).dwell_s == 0
    assert make_event(now, "artwork_recognised", "s", {"score": 1, "method": "detection"}).score == 1


def test_every_methods_scores_fit_their_range(demo_guide):
    """What retrieval puts in ``score`` (as the lens logs it) is inside the schema's range, even for
    the artwork's own picture, where verified retrieval counts thousands of inliers; the learned
    methods' scores are softmax probabilities (tested where they are trained)."""
    from smartlens.analytics.schema import SCORE_RANGES, make_event
    from smartlens.imaging import read_image
    from smartlens.methods import METHODS, load_recognizer

    from conftest import SESSION_SETTINGS

    assert set(SCORE_RANGES) == set(METHODS)  # every method has its range
    rec = load_recognizer(demo_guide, SESSION_SETTINGS, "retrieval")
    for art in demo_guide.guide.artworks:
        result = rec.recognize(read_image(demo_guide.path(art.image)))
        assert result.artwork == art.id
        event = make_event(
            datetime(2025, 1, 1),
            "artwork_recognised",
            "s",
            {"method": rec.method, "artwork": art.id, "score": round(float(result.score), 3)},
        )
        assert 0.5 <= event.score <= 1


def test_an_ip_address_cannot_reach_the_store(tmp_path):
    events = EventLog(tmp_path, flush_every=60)
    for bad in BAD_IDS:
        events.log("artwork_recognised", "s1", guide="g", artwork=bad)
        events.log("session_start", bad, guide="g")
    events.log("artwork_left", "s1", artwork="a", dwell_s=-1e9)
    events.log("artwork_left", "s1", artwork="a", dwell_s=1e308)
    events.log("artwork_recognised", "s1", artwork="a", score=1e6, method="retrieval")
    events.log("artwork_recognised", "s1", artwork="a", score=0.8, method="retrieval")
    events.close()
    assert events.refused == 2 * len(BAD_IDS) + 3
    (stored,) = read_events(tmp_path)
    assert stored["artwork"] == "a" and stored["score"] == 0.8
    text = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    for needle in (b"192.168", b"10.0.0.7", b"2001:db8", b"gmail", "Müller".encode()):
        assert needle not in text


_COMPACTOR = """
import sys, time
from pathlib import Path
from smartlens.analytics import store
store._connect().close()  # imports and the database opened before the clock starts
print("ready", flush=True)
sys.stdin.readline()
t0 = time.perf_counter()
store.compact(Path(sys.argv[1]))
print(f"done {time.perf_counter() - t0:.3f}", flush=True)
"""


def _synthetic_store(folder: Path, events: int, parquet_files: int, dead_segments: int) -> int:
    """About ``events`` events with sessions ``k-<n>``: small Parquet files as converted segments
    leave them, and JSON-lines segments of writers that died (no lock held); returns how many."""
    import duckdb

    folder.mkdir(parents=True)
    con = duckdb.connect()
    per = events // (parquet_files + dead_segments)
    for f in range(parquet_files + dead_segments):
        ext = "parquet" if f < parquet_files else "jsonl"
        rows = (
            f"SELECT TIMESTAMP '2025-03-01 10:00:00' + to_seconds(i) AS ts, 'k-' || i AS session, "
            f"'artwork_recognised' AS type, 'g' AS guide, 'en' AS language, 'retrieval' AS method, "
            f"'art-' || (i % 40) AS artwork, NULL::VARCHAR AS detail, 0.5 AS score, NULL::DOUBLE AS dwell_s "
            f"FROM range({f * per}, {(f + 1) * per}) t(i)"
        )
        name = folder / store.segment_name(f"w{f:08x}", 1, ext)
        con.execute(f"COPY ({rows}) TO '{name}' (FORMAT {'parquet' if ext == 'parquet' else 'json'})")
    return per * (parquet_files + dead_segments)


def _start_compactor(folder: Path):
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", _COMPACTOR, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_compactions_killed_at_random_moments_leave_nothing_behind(tmp_path):
    """kill -9 a compaction anywhere in its work: no event is lost or doubled, ``events status``
    lists what it left, and the next compaction deletes it."""
    import random

    template = tmp_path / "template"
    events = _synthetic_store(template, 240_000, parquet_files=24, dead_segments=4)
    probe = tmp_path / "probe"
    shutil.copytree(template, probe)
    proc = _start_compactor(probe)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    duration = float(proc.stdout.readline().split()[1])
    proc.wait(30)
    assert store.count(probe) == events and len(list(probe.glob("*.parquet"))) == 1
    rng = random.Random(7)
    rounds, partial, states = 10, 0, []
    for r in range(rounds):
        folder = tmp_path / f"round{r}"
        shutil.copytree(template, folder)
        proc = _start_compactor(folder)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(duration * (r + rng.random()) / rounds)  # spread over the whole compaction
        proc.kill()
        proc.wait(10)
        left = sorted(p.name for p in folder.rglob(".*.part"))
        partial += bool(left)
        health = store.health(folder)
        states.append(f"{len(left)} part, {len(health.leftovers) - len(left)} superseded")
        assert {p.name for p in health.leftovers} >= set(left)  # status lists every leftover
        sessions = [e["session"] for e in read_events(folder)]
        assert len(sessions) == events == len(set(sessions)), f"round {r}: {len(sessions)} read"
        result = store.compact(folder)  # the next compaction
        assert not result.busy and result.leftovers >= len(left)
        names = sorted(p.name for p in folder.iterdir() if p.name not in (store.WRITERS, store.COMPACT_LOCK))
        assert len(names) == 1 and names[0].startswith("c-"), f"round {r}: {names}"
        assert not list(folder.rglob("*.part")) and store.health(folder).leftovers == []
        assert store.count(folder) == events
    print(f"\ncompaction {duration:.2f} s; leftovers after each kill: {'; '.join(states)}")
    assert partial >= 2  # the kills did land inside the write, where the leftovers come from


def test_leftovers_of_dead_makers_are_listed_and_deleted_not_a_live_writers(tmp_path, monkeypatch, capsys):
    from smartlens.cli import main

    folder = tmp_path / "events"
    monkeypatch.setenv("SMARTLENS_DATA", str(tmp_path))
    live = EventLog(folder, flush_every=60)
    live.log("session_start", "s1")
    live.flush()
    mine = folder / f".{live.writer}-000001.parquet.0a1b2c.part"  # a conversion under way
    dead = folder / ".wdead01-000003.parquet.3d4e5f.part"  # a conversion killed with its lens
    merge = folder / ".c-1700000000000000000-abcdef.parquet.012345.part"  # a killed merge
    counts = folder / "writers" / ".wdead01.json.part"
    other = folder / ".notes.part"  # not a name the store makes: not touched
    for p in (mine, dead, merge, counts, other):
        p.write_bytes(b"PAR1 half")
    assert sorted(p.name for p in store.health(folder).leftovers) == sorted(
        p.name for p in (dead, merge, counts)
    )
    assert main(["events", "status"]) == 0
    out = capsys.readouterr().out
    assert "leftovers: 3 file(s)" in out and dead.name in out and "writers/.wdead01.json.part" in out
    assert main(["events", "compact"]) == 0
    assert "(3 left by killed compactions)" in capsys.readouterr().out
    assert mine.exists() and other.exists()
    assert not dead.exists() and not merge.exists() and not counts.exists()
    assert store.health(folder).leftovers == []
    assert main(["events", "status"]) == 0
    assert "leftovers:" not in capsys.readouterr().out
    live.close()
    assert [e["session"] for e in read_events(folder)] == ["s1"]


def test_compaction_of_a_read_only_folder_says_so(tmp_path, monkeypatch, capsys):
    """A read-only mount (root ignores file modes) or, for other users, a folder without write
    permission: ``events compact`` names the problem instead of blaming another compaction."""
    import subprocess

    from smartlens.cli import main

    folder = tmp_path / "events"
    events = _synthetic_store(folder, 999, parquet_files=2, dead_segments=1)
    mounted = False
    if os.geteuid() == 0:
        mounted = (
            subprocess.run(
                ["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True
            ).returncode
            == 0
        )
        if mounted and os.access(folder, os.W_OK):  # older mount(8) ignores ro on a first bind
            subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        if not mounted:
            import pytest

            pytest.skip("running as root without the right to mount: cannot make a read-only folder")
    else:
        folder.chmod(0o555)
    try:
        before = sorted(os.listdir(folder))
        result = store.compact(folder)
        assert result.read_only and not result.busy and result.output is None
        monkeypatch.setenv("SMARTLENS_DATA", str(tmp_path))
        assert main(["events", "compact"]) == 2
        err = capsys.readouterr().err
        assert "read-only" in err and "another compaction" not in err
        assert main(["events", "status"]) == 1
        assert "NOT writable" in capsys.readouterr().out
        assert sorted(os.listdir(folder)) == before and store.count(folder) == events
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)
        else:
            folder.chmod(0o755)
