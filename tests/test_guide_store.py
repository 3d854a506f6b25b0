"""The guide store under concurrency and crashes: one writer at a time, no lost update, a guide
that always loads, backups and restore."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

from smartlens.errors import GuideBusyError, GuideError, StaleEditError
from smartlens.guide import Artwork, Detail, Guide, load_guide, save_guide
from smartlens.guide.edit import (
    add_artwork,
    remove_artwork,
    remove_concept,
    set_concept,
    set_details,
    set_guide_title,
    set_languages,
    set_texts,
)
from smartlens.guide.lock import guide_lock, lock_path
from smartlens.guide.store import list_backups, read_guide, restore_guide
from smartlens.storage import exchange_paths

from conftest import ROOT


def _picture(seed: int, w: int = 96, h: int = 80) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.integers(0, 255, (h // 8, w // 8, 3), dtype=np.uint8), (w, h))
    cv2.putText(img, str(seed), (5, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    return img


def make_guide(folder: Path, n: int = 4, name: str = "g", title: str = "Gallery") -> Path:
    """A small guide of ``n`` artworks (96x80 pictures, one detail each) in ``folder``."""
    src = folder.parent / f"{folder.name}-src"
    src.mkdir(parents=True, exist_ok=True)
    guide = Guide(name=name, languages=["en", "it"], default_language="en", title={"en": title})
    files = {}
    for i in range(n):
        rel = f"images/art-{i}.jpg"
        cv2.imwrite(str(src / f"art-{i}.jpg"), _picture(i))
        files[rel] = src / f"art-{i}.jpg"
        art = Artwork(f"art-{i}", rel, 96, 80, title={"en": f"Artwork {i}"})
        art.details.append(Detail("corner", (0, 0, 40, 30), name={"en": "Corner"}))
        guide.artworks.append(art)
    save_guide(guide, folder, files=files)
    return folder


@pytest.fixture
def root(tmp_path) -> Path:
    return make_guide(tmp_path / "g")


@contextmanager
def _held(root: Path) -> Iterator[None]:
    """The guide's lock held by another thread while the block runs."""
    held, release = threading.Event(), threading.Event()

    def holder():
        with guide_lock(root):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    try:
        yield
    finally:
        release.set()
        t.join()


def test_lock_times_out_with_a_clear_message(root):
    with _held(root):
        t0 = time.monotonic()
        with pytest.raises(GuideBusyError, match="someone else is saving guide 'g'"), guide_lock(root, 0.3):
            pass
        assert 0.25 < time.monotonic() - t0 < 3
    with guide_lock(root, timeout=1):  # free again
        pass


def test_edits_to_different_artworks_merge_and_a_stale_edit_is_refused(root):
    page_a = read_guide(root)  # two curators open the studio on the same guide
    page_b = read_guide(root)
    set_texts(page_a, "art-0", "en", "Dawn", "", "", "")
    # b's page is older, but art-1 did not change since: applied to the fresh guide, a's edit kept
    set_texts(page_b, "art-1", "it", "Tramonto", "", "", "")
    now = load_guide(root, _settings(root)).guide
    assert now.artwork("art-0").title["en"] == "Dawn"
    assert now.artwork("art-1").title == {"en": "Artwork 1", "it": "Tramonto"}
    # b edits art-0 from the page drawn before a changed it: refused, a's text stays
    with pytest.raises(StaleEditError, match="artwork 'art-0' was changed by someone else"):
        set_texts(page_b, "art-0", "en", "Overwritten", "", "", "")
    with pytest.raises(StaleEditError):
        set_details(page_b, "art-0", [("face", (1, 1, 10, 10), "Face", "")], "en")
    assert read_guide(root).guide.artwork("art-0").title["en"] == "Dawn"
    # an add from a stale page keeps everything saved meanwhile; removing twice is fine
    ref = add_artwork(page_b, cv2.imencode(".png", _picture(9))[1].tobytes(), "new.png", "New one", "en")
    assert {"art-0", "art-1", "new-one"} <= {a.id for a in ref.guide.artworks}
    assert ref.guide.artwork("art-0").title["en"] == "Dawn"
    with pytest.raises(StaleEditError):  # a page that never showed it cannot remove it
        remove_artwork(page_a, "new-one")
    remove_artwork(ref, "new-one")
    remove_artwork(ref, "new-one")  # removed already (another tab): nothing to do
    final = load_guide(root, _settings(root))
    assert "new-one" not in {a.id for a in final.guide.artworks}
    assert not (root / "images" / "new-one.jpg").exists()  # its picture went with it


def test_stale_guide_wide_edits_from_two_sessions(root):
    page_a = read_guide(root)  # curator A's page, drawn first
    # curator B adds French, a French title and a concept
    page_b = set_languages(read_guide(root), ["en", "it", "fr"], "en")
    page_b = set_texts(page_b, "art-0", "fr", "Oeuvre 0", "", "", "Le texte")
    page_b = set_guide_title(page_b, "fr", "Galerie")
    page_b = set_concept(page_b, "face", {"en": "Face", "fr": "Visage"})

    def french_kept() -> None:
        g = read_guide(root).guide
        assert g.languages[-1] == "fr" and g.title["fr"] == "Galerie"
        assert (
            g.artwork("art-0").title["fr"] == "Oeuvre 0"
            and g.artwork("art-0").description["fr"] == "Le texte"
        )
        assert g.concept("face").name == {"en": "Face", "fr": "Visage"}

    # A's stale languages form, only the default changed: merged field by field, French kept
    set_languages(page_a, ["en", "it"], "it")
    french_kept()
    assert read_guide(root).guide.default_language == "it"
    # A's stale form dropping Italian: the list changed since A's page: refused, nothing lost
    with pytest.raises(StaleEditError, match="the guide's languages were changed by someone else"):
        set_languages(page_a, ["en"], "en")
    french_kept()
    # B, up to date, drops Italian; but an Italian text saved since B's page is never deleted unseen
    page_b = read_guide(root)
    set_texts(read_guide(root), "art-1", "it", "Opera 1", "", "", "")
    with pytest.raises(StaleEditError, match="languages and default language were changed"):
        set_languages(page_b, ["en", "fr"], "en")
    assert read_guide(root).guide.artwork("art-1").title["it"] == "Opera 1"
    # the guide's title: per language, refused only where it changed since the page was drawn
    with pytest.raises(StaleEditError, match=r"the guide's title \(fr\) was changed by someone else"):
        set_guide_title(page_a, "fr", "Old gallery")
    set_guide_title(page_a, "it", "Galleria")  # merged: A's page showed 'it' as it is
    assert read_guide(root).guide.title == {"en": "Gallery", "fr": "Galerie", "it": "Galleria"}
    # concepts: A never saw 'face' (B added it): renaming or removing it from A's page is refused
    with pytest.raises(StaleEditError, match="concept 'face' was changed by someone else"):
        set_concept(page_a, "face", {"en": "Head"})
    with pytest.raises(StaleEditError, match="concept 'face'"):
        remove_concept(page_a, "face")
    french_kept()
    set_concept(page_a, "hand", {"en": "Hand"})  # a concept nobody touched: merged
    fresh = remove_concept(read_guide(root), "hand")
    remove_concept(fresh, "hand")  # removed already: nothing to do
    assert [c.id for c in read_guide(root).guide.concepts] == ["face"]


def test_a_symlinked_guide_shares_the_lock_of_its_folder(tmp_path, root):
    link = tmp_path / "link"
    link.symlink_to(root, target_is_directory=True)
    assert lock_path(link) == lock_path(root) == root.parent / ".locks" / "g.lock"
    with _held(root), pytest.raises(GuideBusyError), guide_lock(link, 0.3):
        pass
    # a whole-guide replacement through the link swaps the real folder; the link stays a link
    new = read_guide(root).guide
    save_guide(new, link, files={a.image: root / a.image for a in new.artworks}, replace=True, backup=True)
    assert link.is_symlink() and root.is_dir() and not root.is_symlink()
    assert len(list_backups(root)) == 1 and not list(tmp_path.glob(".link.*"))


def test_a_symlinked_path_racing_the_real_one_loses_no_acknowledged_edit(tmp_path, root):
    link = tmp_path / "link"
    link.symlink_to(root, target_is_directory=True)
    logs = [tmp_path / "via-link.log", tmp_path / "via-root.log", tmp_path / "add-via-link.log"]
    procs = [
        _start("edit", link, logs[0], 4.0, "art-0"),
        _start("edit", root, logs[1], 4.0, "art-1"),
        _start("add", link, logs[2], 4.0),
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    counts = _check_acknowledged(root, logs, killed=False)
    assert counts["edits"] > 10 and counts["adds"] > 2, counts


def test_leftovers_of_killed_saves_are_cleaned_on_load(root):
    (root / ".guide.json.abc123.part").write_bytes(b"x" * 1000)
    (root / "images" / ".art-0.jpg.x1.part").write_bytes(b"x" * 1000)
    (root / "images" / "orphan.jpg").write_bytes(b"an upload whose save was killed")
    stage = root.parent / ".g.k2j3h4.stage"
    (stage / "images").mkdir(parents=True)
    (root.parent / ".g.123.old").mkdir()
    before = read_guide(root).guide
    assert load_guide(root, _settings(root)).guide == before
    assert not list(root.rglob("*.part")) and not (root / "images" / "orphan.jpg").exists()
    assert not stage.exists() and not (root.parent / ".g.123.old").exists()
    assert sorted(p.name for p in (root / "images").iterdir()) == [f"art-{i}.jpg" for i in range(4)]


def test_a_broken_edit_saves_nothing(root):
    before = (root / "guide.json").read_bytes()
    ref = read_guide(root)
    with pytest.raises(GuideError, match="goes outside the image"):
        set_details(ref, "art-0", [("big", (50, 50, 100, 100), "Big", "")], "en")
    assert (root / "guide.json").read_bytes() == before


def test_replacing_keeps_a_backup_and_restore_brings_it_back(tmp_path, root):
    original = read_guide(root).guide
    other = make_guide(tmp_path / "other", n=2, name="g", title="Replacement")
    new = read_guide(other).guide
    save_guide(new, root, files={a.image: other / a.image for a in new.artworks}, replace=True, backup=True)
    assert read_guide(root).guide.title == {"en": "Replacement"}
    assert len(list_backups(root)) == 1
    restored = restore_guide(root)
    assert restored.guide == original and read_guide(root).guide == original
    assert len(list_backups(root)) == 2  # the replaced one is a backup in turn: restore can be undone
    assert restore_guide(root).guide.title == {"en": "Replacement"}
    with pytest.raises(FileNotFoundError, match="no backup 'nope'"):
        restore_guide(root, "nope")


def test_exchange_is_atomic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not exchange_paths(a, b):
        pytest.skip("no renameat2(RENAME_EXCHANGE) on this system")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


# --- several processes at once ------------------------------------------------------------------
WORKER = r"""
import os, sys, time
import cv2, numpy as np
from pathlib import Path
from smartlens.errors import GuideBusyError
from smartlens.guide.edit import add_artwork, remove_artwork, set_texts
from smartlens.guide.store import read_guide

kind, root, log_path, seconds = sys.argv[1], Path(sys.argv[2]), sys.argv[3], float(sys.argv[4])
log = open(log_path, "a")

def ack(line):  # written only once the edit has returned: an acknowledged change
    log.write(line + "\n"); log.flush(); os.fsync(log.fileno())

ref = read_guide(root)
end = time.monotonic() + seconds
i = 0
noise = np.random.default_rng(0).integers(0, 255, (8, 8, 3), np.uint8)
png = cv2.imencode(".png", cv2.resize(noise, (64, 48)))[1].tobytes()
while time.monotonic() < end:
    i += 1
    try:
        if kind == "edit":
            art = sys.argv[5]
            ref = set_texts(ref, art, "en", f"{art} v{i}", "", "", f"text {i}")
            ack(f"edit {art} {i}")
        else:
            ref = add_artwork(ref, png, "x.png", f"added {os.getpid()} {i}", "en")
            new = next(a.id for a in ref.guide.artworks if a.title.get("en") == f"added {os.getpid()} {i}")
            ack(f"add {new} {i}")
            if i % 2:
                ref = remove_artwork(ref, new)
                ack(f"remove {new} {i}")
    except GuideBusyError:
        ack("busy")
"""


def _start(kind: str, root: Path, log: Path, seconds: float, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, kind, str(root), str(log), str(seconds), *extra],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_acknowledged(root: Path, logs: list[Path], killed: bool) -> dict[str, int]:
    """The guide loads and holds every change acknowledged in ``logs``; returns counts."""
    ref = load_guide(root, _settings(root))  # also checks every file it refers to
    guide = ref.guide
    ids = {a.id for a in guide.artworks}
    counts = {"edits": 0, "adds": 0, "removes": 0, "busy": 0}
    for log in logs:
        lines = log.read_text().split("\n")[:-1] if log.exists() else []
        last: dict[str, int] = {}
        added: dict[str, int] = {}
        removed: set[str] = set()
        for line in lines:
            parts = line.split()
            if parts[0] == "edit":
                last[parts[1]] = int(parts[2])
                counts["edits"] += 1
            elif parts[0] == "add":
                added[parts[1]] = int(parts[2])
                counts["adds"] += 1
            elif parts[0] == "remove":
                removed.add(parts[1])
                counts["removes"] += 1
            else:
                counts["busy"] += 1
        for art, i in last.items():
            title = guide.artwork(art).title["en"]
            # killed: the edit after the last acknowledged one may have been saved, unacknowledged
            allowed = {f"{art} v{i}", f"{art} v{i + 1}"} if killed else {f"{art} v{i}"}
            assert title in allowed, (title, allowed)
        last_add = max(added.values(), default=0)
        for art, i in added.items():
            if art in removed:
                assert art not in ids, f"{art} was removed (acknowledged) but is back"
            elif i % 2 == 0:
                assert art in ids, f"{art} was added (acknowledged) but is gone"
            else:
                assert killed and i == last_add, f"{art}: its removal was not acknowledged"
    return counts


def _settings(root: Path):
    import dataclasses

    from conftest import SESSION_SETTINGS

    return dataclasses.replace(SESSION_SETTINGS, data_dir=root.parent / "data")


def _run_together(
    root: Path, tmp: Path, seconds: float, tag: str
) -> tuple[list[subprocess.Popen], list[Path]]:
    logs = [tmp / f"{tag}-edit0.log", tmp / f"{tag}-edit1.log", tmp / f"{tag}-add.log"]
    procs = [
        _start("edit", root, logs[0], seconds, "art-0"),
        _start("edit", root, logs[1], seconds, "art-1"),
        _start("add", root, logs[2], seconds),
    ]
    return procs, logs


def _read_while(procs: list[subprocess.Popen], root: Path) -> int:
    """Load the guide over and over while ``procs`` run (as the lens and studio do): every load
    must succeed, whatever instant it falls on. Returns how many loads were made."""
    loads = 0
    while any(p.poll() is None for p in procs):
        load_guide(root, _settings(root))
        loads += 1
        time.sleep(0.01)
    return loads


def test_three_processes_lose_no_acknowledged_change(tmp_path, root):
    procs, logs = _run_together(root, tmp_path, 3.0, "short")
    assert _read_while(procs, root) > 10
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    counts = _check_acknowledged(root, logs, killed=False)
    assert counts["edits"] > 5 and counts["adds"] > 2, counts
    assert not list(root.rglob("*.part")) and not list(root.parent.glob(".g.*.stage"))


@pytest.mark.slow
def test_ten_seconds_then_kill_9_at_random_moments(tmp_path, root):
    procs, logs = _run_together(root, tmp_path, 10.0, "long")
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    counts = _check_acknowledged(root, logs, killed=False)
    assert counts["edits"] > 20 and counts["adds"] > 5, counts
    rng = random.Random(13)
    for round_ in range(6):
        procs, logs = _run_together(root, tmp_path, 30.0, f"kill{round_}")
        time.sleep(rng.uniform(0.8, 2.5))
        victims = procs if round_ % 2 else [rng.choice(procs)]
        for p in victims:
            os.kill(p.pid, signal.SIGKILL)
        time.sleep(rng.uniform(0.0, 0.3))
        for p in procs:
            if p not in victims:
                os.kill(p.pid, signal.SIGKILL)
        for p in procs:
            p.communicate(timeout=60)
        _check_acknowledged(root, logs, killed=True)
        assert json.loads((root / "guide.json").read_text())["name"] == "g"
    # the next load tidied what the kills left behind
    load_guide(root, _settings(root))
    assert not list(root.rglob("*.part")) and not list(root.parent.glob(".g.*.stage"))


REPLACER = r"""
import sys
from pathlib import Path
from smartlens.guide import save_guide
from smartlens.guide.store import read_guide

root, a, b = (Path(x) for x in sys.argv[1:4])
versions = [read_guide(a).guide, read_guide(b).guide]
i = 0
while True:  # killed by the test
    src = (a, b)[i % 2]
    g = versions[i % 2]
    save_guide(g, root, files={x.image: src / x.image for x in g.artworks}, replace=True, backup=True)
    i += 1
"""


def test_whole_guide_replacements_never_leave_it_missing(tmp_path, root):
    a = make_guide(tmp_path / "va", n=3, name="g", title="Version A")
    b = make_guide(tmp_path / "vb", n=2, name="g", title="Version B")
    proc = subprocess.Popen([sys.executable, "-c", REPLACER, str(root), str(a), str(b)], cwd=ROOT)
    try:
        titles = set()
        end = time.monotonic() + 4
        while time.monotonic() < end:
            titles.add(load_guide(root, _settings(root)).guide.title["en"])  # never missing, never half
        assert proc.poll() is None  # still replacing
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # at whatever instant
        proc.wait(10)
    assert titles >= {"Version A", "Version B"}
    load_guide(root, _settings(root))
    assert 1 <= len(list_backups(root)) <= 5  # older backups are pruned
    assert not list(root.parent.glob(".g.*.stage"))
