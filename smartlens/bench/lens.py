"""``python -m smartlens bench lens``: the live lens with 1 and with 3 browser visitors at once.

Starts a real lens server and real headless Chromium visitors whose fake camera plays a
painting; measures the time from opening the page to the first recognition on screen, the
frames per second each visitor gets recognised, and the latency per frame (from the page's
debug line, filled by the server's frame loop).
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
from .timing import table
from .views import bench_guide, paintings_dir


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
        wait_for(driver, lambda d: title in d.find_element(By.TAG_NAME, "body").text, 90, "the title")
        out["first_s"] = round(time.monotonic() - t0, 2)
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


def run(settings: Settings, visitors: tuple[int, ...] = (1, 3), seconds: float = 20.0) -> list[dict]:
    from ..methods import load_recognizer
    from ..vocabulary import Method
    from . import browser as ts

    ref = bench_guide(paintings_dir(settings), settings)
    load_recognizer(ref, settings, Method.RETRIEVAL)
    tmp = Path(tempfile.mkdtemp(prefix="smartlens-bench-lens-"))
    rows = []
    try:
        y4m = ts.write_y4m(tmp / "mona.y4m", read_image(ref.path(ref.guide.artwork("mona-lisa").image)))
        for n in visitors:
            port = ts.free_port()
            server = ts.start_lens(str(ref.root), port)
            try:
                results: list[dict[str, Any]] = [{} for _ in range(n)]
                threads = [
                    threading.Thread(target=_visit, args=(port, y4m, "Mona Lisa", seconds, r))
                    for r in results
                ]
                for th in threads:
                    th.start()
                    time.sleep(0.5)
                c0, w0 = cpu_seconds(server.pid), time.monotonic()
                for th in threads:
                    th.join()
                server_cpu = (cpu_seconds(server.pid) - c0) / (time.monotonic() - w0)
            finally:
                server.terminate()
                server.wait(20)
            ok = [r for r in results if "fps" in r]
            rows.append(
                {
                    "visitors": n,
                    "ok": f"{len(ok)}/{n}",
                    "first_recognition_s": round(statistics.median(r["first_s"] for r in ok), 2)
                    if ok
                    else "",
                    "fps_per_visitor": round(statistics.median(r["fps"] for r in ok), 1) if ok else "",
                    "fps_total": round(sum(r["fps"] for r in ok), 1) if ok else "",
                    "fps_each": "/".join(f"{r['fps']:.1f}" for r in ok),
                    "frames_in_each": "/".join(f"{r['frames_in_fps']:.1f}" for r in ok),
                    "median_ms": round(statistics.median(r["median_ms"] for r in ok), 1) if ok else "",
                    "p95_ms": round(max(r["p95_ms"] for r in ok), 1) if ok else "",
                    "server_cores_busy": round(server_cpu, 2),
                    "errors": "; ".join(r["error"] for r in results if "error" in r),
                }
            )
            print(table(rows[-1:], list(rows[-1])).splitlines()[-1], flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def main(args: argparse.Namespace, settings: Settings) -> int:
    """``bench lens``: print the table."""
    rows = run(settings, tuple(int(v) for v in args.visitors.split(",")), args.seconds)
    print("\nlive lens, retrieval (verified), headless Chromium visitors on this machine:")
    print(table(rows, list(rows[0])))
    return 0
