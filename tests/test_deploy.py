"""Beyond one server, on loopback without docker: two lens processes behind a real nginx using
deploy/'s sticky-session and WebSocket rules, two headless Chromium visitors at once, each
served by its own replica, both recognising."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from smartlens.bench.browser import browser, free_port, start_camera, wait_for, write_y4m

from conftest import PAINTINGS, ROOT, needs_paintings
from conftest import SESSION_SETTINGS as SETTINGS

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None)
DEPLOY = ROOT / "deploy"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timing,  # WebRTC, recognition or a training budget on a shared machine
    needs_paintings,
    pytest.mark.skipif(
        NGINX is None, reason="nginx is not installed (Debian package nginx; .ci/run installs it)"
    ),
    pytest.mark.skipif(
        not (shutil.which("chromium") and shutil.which("chromedriver")),
        reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
    ),
]


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{what} did not open port {port}")


def _nginx_conf(tmp: Path, port: int, replicas: list[int]) -> Path:
    servers = "\n".join(f"    server 127.0.0.1:{p};" for p in replicas)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log {tmp}/access.log;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  include {DEPLOY}/lens-sticky.conf;
  upstream lens {{
    hash $smartlens_lb consistent;
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      include {DEPLOY}/lens-proxy.conf;
    }}
  }}
}}
"""
    )
    return conf


def _replica_of(port: int, key: str) -> str:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/_stcore/health", headers={"Cookie": f"smartlens_lb={key}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.headers["X-SmartLens-Replica"]


def test_two_replicas_behind_nginx_each_serve_a_visitor(paintings_guide, tmp_path):
    from selenium.webdriver.common.by import By

    from smartlens.imaging import read_image
    from smartlens.methods import load_recognizer

    load_recognizer(paintings_guide, SETTINGS, "retrieval")  # the index, built once for both replicas
    y4m = write_y4m(tmp_path / "mona.y4m", read_image(PAINTINGS / "mona-lisa.jpg"))
    ports = [free_port(), free_port()]
    lenses = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "smartlens",
                "lens",
                "--guide",
                "paintings",
                "--address",
                "127.0.0.1",
                "--port",
                str(p),
            ],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    proxy_port = free_port()
    nginx = subprocess.Popen(
        [str(NGINX), "-p", str(tmp_path), "-c", str(_nginx_conf(tmp_path, proxy_port, ports))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    drivers: list = []
    try:
        for p, proc in zip(ports, lenses):
            _wait_port(p, proc, "a lens replica")
        _wait_port(proxy_port, nginx, "nginx", 20)
        # sticky keys that land on each replica (consistent hashing decides which)
        keys: dict[str, str] = {}
        for k in range(64):
            keys.setdefault(_replica_of(proxy_port, f"visitor-{k}"), f"visitor-{k}")
            if len(keys) == 2:
                break
        assert sorted(keys) == sorted(f"127.0.0.1:{p}" for p in ports), keys
        assert len({_replica_of(proxy_port, key) for key in keys.values() for _ in range(3)}) == 2

        results: dict[str, float | str] = {}

        def visit(replica: str, key: str) -> None:
            driver = browser(y4m, nice=True)
            drivers.append(driver)
            try:
                t0 = time.monotonic()
                driver.get(f"http://127.0.0.1:{proxy_port}/_stcore/health")
                driver.add_cookie({"name": "smartlens_lb", "value": key, "path": "/"})
                driver.get(f"http://127.0.0.1:{proxy_port}/?debug=1")
                start_camera(driver)
                wait_for(
                    driver,
                    lambda d: "Mona Lisa" in d.find_element(By.TAG_NAME, "body").text,
                    150,
                    f"title-{replica}",
                )
                processed = wait_for(
                    driver,
                    lambda d: (
                        float(d.find_element(By.ID, "sl-stats").get_attribute("data-processed") or 0) > 3
                        and d.find_element(By.ID, "sl-stats").get_attribute("data-processed")
                    ),
                    60,
                    f"frames-{replica}",
                )
                results[replica] = time.monotonic() - t0
                results[replica + " processed"] = processed
            except Exception as exc:  # reported below with the other visitor's outcome
                results[replica] = f"failed: {exc}"

        threads = [threading.Thread(target=visit, args=item) for item in keys.items()]
        for th in threads:
            th.start()
        for th in threads:
            th.join(300)
        print(f"\ntwo replicas behind nginx: {results}")
        for replica in keys:
            assert isinstance(results.get(replica), float), results
        # both replicas carried a visitor's WebSocket (Streamlit's stream, through the proxy); nginx
        # logs a WebSocket when it closes, so the visitors leave first
        for d in drivers:
            d.quit()
        drivers.clear()
        deadline = time.monotonic() + 20
        while (tmp_path / "access.log").read_text().count("/_stcore/stream") < 2:
            assert time.monotonic() < deadline, (tmp_path / "access.log").read_text()[-2000:]
            time.sleep(0.5)
    finally:
        for d in drivers:
            d.quit()
        nginx.terminate()
        for proc in lenses:
            proc.terminate()
        for proc in [nginx, *lenses]:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
