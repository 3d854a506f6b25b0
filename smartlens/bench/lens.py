"""``python -m smartlens bench lens``: the live lens with 1 and with 3 browser visitors at once.

Starts a real lens server (retrieval by default; ``--methods`` adds a guide's newest classifier
and detector, or what is published with ``published``) and real headless Chromium visitors whose
fake camera plays a painting; measures the time from opening the page, and from pressing START,
to the title on screen, the recognitions per second each visitor gets, the recognition time per
frame in the lens (from the page's debug line, filled by the server's frame loop), and the same
recogniser's time per frame called directly in this process on the clip's frame (the CLI's
cost), interleaved with a yardstick, and the server's CPU while the visitors watch (from the
moment every visitor has its title: loading the page and the model is left out).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ..config import Settings
from ..imaging import read_image
from .timing import summary, table, yardstick_extractor
from .views import bench_guide, paintings_dir

#: The painting the fake camera plays (in every benchmark guide).
PAINTING, TITLE = "mona-lisa", "Mona Lisa"


def _stats(driver) -> dict:
    """The page's debug line (re-read if Streamlit redraws it meanwhile)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(100):
        try:
            el = driver.find_element(By.ID, "sl-stats")
            return {k: float(el.get_attribute(f"data-{k}")) for k in ("frames", "processed", "median", "p95")}
        except (NoSuchElementException, StaleElementReferenceException, TypeError, ValueError):
            time.sleep(0.3)
    raise RuntimeError("no stats line on the page")


def _visit(port: int, y4m: Path, title: str, seconds: float, out: dict) -> None:
    from selenium.webdriver.common.by import By

    from .browser import browser, start_camera, wait_for

    driver = browser(y4m, nice=True)
    try:
        t0 = time.monotonic()
        driver.get(f"http://127.0.0.1:{port}/?debug=1")
        start_camera(driver)
        t_start = time.monotonic()
        wait_for(driver, lambda d: title in d.find_element(By.TAG_NAME, "body").text, 90, "the title")
        out["first_s"] = round(time.monotonic() - t0, 2)
        out["start_to_title_s"] = round(time.monotonic() - t_start, 2)
        a, t1 = _stats(driver), time.monotonic()
        time.sleep(seconds)
        b, t2 = _stats(driver), time.monotonic()
        out.update(
            fps=(b["processed"] - a["processed"]) / (t2 - t1),
            frames_in_fps=(b["frames"] - a["frames"]) / (t2 - t1),
            median_ms=b["median"],
            p95_ms=b["p95"],
        )
    except Exception as exc:  # reported in the table, not raised: the other visitors' figures still count
        out["error"] = str(exc).splitlines()[0][:80]
    finally:
        driver.quit()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cli_cost(ref: Any, settings: Settings, method: str, frame: Any, repeat: int = 30) -> dict[str, float]:
    """The recogniser's time per frame called directly (as ``smartlens recognize`` calls it) on the
    clip's frame, after one warm-up call, with the yardstick timed on the same frame in between."""
    from ..methods import load_recognizer

    rec = load_recognizer(ref, settings, method)
    rec.recognize(frame)
    ruler, ms, yard = yardstick_extractor(), [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        rec.recognize(frame)
        ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        ruler.extract(frame)
        yard.append((time.perf_counter() - t0) * 1000)
    s, y = summary(ms), summary(yard)
    return {"cli_median_ms": s["median_ms"], "cli_p95_ms": s["p95_ms"], "yardstick_median_ms": y["median_ms"]}


def run(
    settings: Settings,
    visitors: tuple[int, ...] = (1, 3),
    seconds: float = 20.0,
    methods: tuple[str, ...] = ("retrieval",),
    guide: str | None = None,
) -> list[dict]:
    from ..guide import load_guide
    from ..methods import load_recognizer
    from ..vocabulary import Method
    from . import browser as ts

    ref = load_guide(guide, settings) if guide else bench_guide(paintings_dir(settings), settings)
    load_recognizer(ref, settings, Method.RETRIEVAL)  # the index, built before any server needs it
    tmp = Path(tempfile.mkdtemp(prefix="smartlens-bench-lens-"))
    rows = []
    try:
        picture = read_image(ref.path(ref.guide.artwork(PAINTING).image))
        y4m = ts.write_y4m(tmp / "mona.y4m", picture)
        frame = _clip_frame(y4m)
        for method in methods:
            cli = cli_cost(ref, settings, method, frame) if method != "published" else {}
            for n in visitors:
                port = ts.free_port()
                server = ts.start_lens(str(ref.root), port, method=None if method == "published" else method)
                try:
                    results: list[dict[str, Any]] = [{} for _ in range(n)]
                    threads = [
                        threading.Thread(target=_visit, args=(port, y4m, TITLE, seconds, r)) for r in results
                    ]
                    for th in threads:
                        th.start()
                        time.sleep(0.5)
                    # the server's CPU while the visitors watch, titles shown: loading the page and
                    # the model is a cost per server, not per visitor
                    while any(th.is_alive() for th in threads) and not all(
                        "first_s" in r or "error" in r for r in results
                    ):
                        time.sleep(0.1)
                    c0, w0 = cpu_seconds(server.pid), time.monotonic()
                    for th in threads:
                        th.join()
                    watched = time.monotonic() - w0
                    server_cpu = (cpu_seconds(server.pid) - c0) / watched if watched > 1 else None
                finally:
                    server.terminate()
                    server.wait(20)
                ok = [r for r in results if "fps" in r]
                median = round(statistics.median(r["median_ms"] for r in ok), 1) if ok else None
                rows.append(
                    {
                        "method": method,
                        "visitors": n,
                        "ok": f"{len(ok)}/{n}",
                        "page_to_title_s": round(statistics.median(r["first_s"] for r in ok), 2)
                        if ok
                        else "",
                        "start_to_title_s": round(statistics.median(r["start_to_title_s"] for r in ok), 2)
                        if ok
                        else "",
                        "recognitions_per_s": round(statistics.median(r["fps"] for r in ok), 1) if ok else "",
                        "frames_in_each": "/".join(f"{r['frames_in_fps']:.1f}" for r in ok),
                        "lens_median_ms": "" if median is None else median,
                        "lens_p95_ms": round(max(r["p95_ms"] for r in ok), 1) if ok else "",
                        **cli,
                        "lens_over_cli": round(median / cli["cli_median_ms"], 2)
                        if median is not None and cli
                        else "",
                        "server_cores_busy": round(server_cpu, 2) if server_cpu is not None else "",
                        "errors": "; ".join(r["error"] for r in results if "error" in r),
                    }
                )
                print(table(rows[-1:], list(rows[-1])).splitlines()[-1], flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def _clip_frame(y4m: Path) -> Any:
    """The first frame of a Y4M clip, as BGR (what the lens receives)."""
    import cv2
    import numpy as np

    data = y4m.read_bytes()
    start = data.index(b"FRAME\n") + len(b"FRAME\n")
    yuv = np.frombuffer(data[start : start + 640 * 480 * 3 // 2], np.uint8).reshape(480 * 3 // 2, 640)
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420)


def main(args: argparse.Namespace, settings: Settings) -> int:
    """``bench lens``: print the table."""
    rows = run(
        settings,
        tuple(int(v) for v in args.visitors.split(",")),
        args.seconds,
        tuple(args.methods.split(",")),
        args.guide,
    )
    print("\nlive lens, headless Chromium visitors on this machine (lens ms: the server's recognitions;")
    print("cli ms: the same recogniser called directly on the clip's frame, in this process):")
    print(table(rows, list(rows[0])))
    return 0
