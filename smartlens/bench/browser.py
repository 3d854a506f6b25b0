"""Driving the lens in a real browser: a fake camera clip, a lens server, headless Chromium.

Shared by the end-to-end test and ``python -m smartlens bench lens``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np

from ..config import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_y4m(path: Path, image: np.ndarray, frames: int = 30) -> Path:
    """A Y4M clip (what Chromium's fake camera plays) of ``image`` hung on a wall, seen slightly askew."""
    h, w = image.shape[:2]
    s = 400 / h
    dst = np.array(
        [[320 - w * s / 2, 40], [320 + w * s / 2, 48], [316 + w * s / 2, 440], [324 - w * s / 2, 446]],
        np.float32,
    )
    H = cv2.getPerspectiveTransform(np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32), dst)
    wall = np.full((480, 640, 3), (168, 178, 188), np.uint8)
    frame = cv2.warpPerspective(image, H, (640, 480), dst=wall, borderMode=cv2.BORDER_TRANSPARENT)
    with open(path, "wb") as fh:
        fh.write(b"YUV4MPEG2 W640 H480 F15:1 Ip A1:1 C420jpeg\n")
        for k in range(frames):
            shifted = np.roll(frame, k % 3, axis=1)  # a hand is never perfectly still
            fh.write(b"FRAME\n" + cv2.cvtColor(shifted, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def start_lens(
    guide: str, port: int, extra_env: dict | None = None, method: str | None = None
) -> subprocess.Popen:
    """A lens server for ``guide`` (with ``method``, else what is published for it)."""
    from ..serve import streamlit_command

    env = {**os.environ, **(extra_env or {})}
    args = ["--guide", guide] + (["--method", method] if method else [])
    proc = subprocess.Popen(
        streamlit_command("lens.py", port, "127.0.0.1", args),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the lens server did not start")


def start_app(
    cmd: list[str], port: int, env: dict[str, str], log: Path, timeout: float = 150
) -> subprocess.Popen:
    """Start a server process (its own process group, output in ``log``) and wait until ``port``
    answers; its log tail is in the error when it ends or does not answer in time."""
    proc = subprocess.Popen(
        cmd,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{' '.join(cmd[:4])} ended: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.5)
    stop_app(proc)
    raise AssertionError(f"{' '.join(cmd[:4])} did not start: {log.read_text()[-2000:]}")


def stop_app(proc: subprocess.Popen) -> None:
    """Stop a server started by :func:`start_app`, and whatever it started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def browser(y4m: Path, lang: str = "en-US", nice: bool = False):
    """Headless Chromium with a fake camera playing ``y4m``. With ``nice`` it runs at the lowest
    CPU priority: browsers standing in for phones should not take the server's cores, as
    phones in a museum bring their own."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    o = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
        "--window-size=430,1600",
        f"--lang={lang}",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
    ):
        o.add_argument(arg)
    o.binary_location = shutil.which("chromium") or "chromium"
    driver_path = shutil.which("chromedriver") or "chromedriver"
    if nice:
        wrapper = y4m.parent / "chromedriver-nice.sh"
        wrapper.write_text(f'#!/bin/sh\nexec nice -n 19 {driver_path} "$@"\n')
        wrapper.chmod(0o755)
        driver_path = str(wrapper)
    return webdriver.Chrome(service=Service(driver_path), options=o)


def wait_for(driver, condition, timeout: float, what: str):
    """``condition``'s first true answer within ``timeout``; a screenshot in artifacts/ when none."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # Streamlit redraws elements while the condition reads them: ask again
    redrawn = (StaleElementReferenceException, NoSuchElementException)
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2, ignored_exceptions=redrawn).until(condition)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / f"e2e-failed-{what.replace(' ', '-')}.png"))
        raise AssertionError(f"timed out waiting for {what}") from None


def start_camera(driver) -> None:
    """Switch into streamlit-webrtc's iframe and press its START button, as a visitor does."""
    from selenium.webdriver.common.by import By

    frame = wait_for(
        driver, lambda d: d.find_elements(By.CSS_SELECTOR, "iframe[title*='webrtc']"), 60, "the camera"
    )
    driver.switch_to.frame(frame[0])
    button = wait_for(
        driver,
        lambda d: [
            b
            for b in d.find_elements(By.TAG_NAME, "button")
            if b.text.strip().upper().startswith(("START", "AVVIA"))
        ],
        20,
        "START",
    )
    button[0].click()
    driver.switch_to.default_content()
