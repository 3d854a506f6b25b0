"""What the browser tests check in a page, shared by the lens' and the studio's: axe-core's WCAG
2.2 A/AA rules, a phone at 200 % zoom, keyboard focus, and the visitor events the lens logged.

axe-core comes from the npm registry (``npm pack axe-core@VERSION``), once, into the git-ignored
``.cache/`` folder: it is not committed (half a megabyte of someone else's minified code, MPL-2.0;
the registry has it, pinned to one version here).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT, TEST_ENV

AXE_VERSION = "4.14.1"
AXE_JS = ROOT / ".cache" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
#: WCAG 2.0, 2.1 and 2.2, levels A and AA (axe's tags).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: A phone (CSS pixels): the lens' visitors.
PHONE = (430, 932)


def app_env(settings, **extra: str) -> dict[str, str]:
    """The environment of an app started for a test: the test's own data, models and Keras
    folders and weights (``settings``), plus ``extra`` variables."""
    env = {
        **os.environ,
        **TEST_ENV,
        "SMARTLENS_DATA": str(settings.data),
        "SMARTLENS_MODELS": str(settings.models),
        "KERAS_HOME": str(settings.keras_home),
        **extra,
    }
    if settings.weights is not None:
        env["SMARTLENS_WEIGHTS"] = str(settings.weights)
    return env


def axe_source() -> str:
    """axe-core's script, fetched from the npm registry on first use. Skips the test when it
    cannot be fetched here; fails in CI (CI=true), where the check must run."""
    if not AXE_JS.is_file():
        npm = shutil.which("npm")
        try:
            if npm is None:
                raise RuntimeError("npm is not installed")
            with tempfile.TemporaryDirectory() as tmp:
                subprocess.run(
                    [npm, "pack", f"axe-core@{AXE_VERSION}", "--silent", "--pack-destination", tmp],
                    check=True,
                    capture_output=True,
                    timeout=180,
                )
                tarball = next(Path(tmp).glob("axe-core-*.tgz"))
                with tarfile.open(tarball) as tar:
                    member = tar.extractfile("package/axe.min.js")
                    assert member is not None
                    data = member.read()
            AXE_JS.parent.mkdir(parents=True, exist_ok=True)
            partial = AXE_JS.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(AXE_JS)
        except (RuntimeError, OSError, subprocess.SubprocessError, StopIteration, tarfile.TarError) as exc:
            if os.environ.get("CI"):
                raise AssertionError(f"axe-core {AXE_VERSION} could not be fetched: {exc}") from exc
            pytest.skip(f"axe-core {AXE_VERSION} could not be fetched from the npm registry: {exc}")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(driver, source: str) -> list[dict]:
    """axe-core's WCAG 2.2 A/AA violations in the page as it is now (each with its nodes)."""
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(source)
    driver.set_script_timeout(60)
    found = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
          .then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify({error: String(e)})));""",
        WCAG_TAGS,
    )
    result = json.loads(found)
    if isinstance(result, dict):
        raise AssertionError(f"axe-core failed: {result['error']}")
    return result


def describe(violations: list[dict]) -> str:
    """One line per violation and element: what to fix, where."""
    lines = []
    for v in violations:
        for node in v["nodes"][:5]:
            why = "; ".join(c.get("message", "") for c in node.get("any", []) + node.get("all", []))
            lines.append(
                f"{v['id']} ({v['impact']}): {v['help']} at {node['target']}: {node['html'][:160]} ({why})"
            )
    return "\n".join(lines)


def assert_no_violations(driver, source: str, where: str, shots: Path | None = None) -> None:
    found = axe_violations(driver, source)
    if found and shots is not None:
        driver.save_screenshot(str(shots / f"axe-{where.replace(' ', '-')}.png"))
    assert not found, f"axe-core, {where}:\n{describe(found)}"


def zoom(driver, factor: float, size: tuple[int, int] = PHONE) -> None:
    """The browser's zoom on a window of ``size``: the page lays out at size / factor CSS
    pixels and draws them ``factor`` times bigger (what a visitor's 200 % does)."""
    width, height = size
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": round(width / factor),
            "height": round(height / factor),
            "deviceScaleFactor": factor,
            "mobile": True,
        },
    )
    assert driver.execute_script("return window.innerWidth") == round(width / factor)


def no_zoom(driver) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def overflowing_text(driver) -> list[str]:
    """Visible text elements cut off or pushed outside the viewport sideways (reflow failures)."""
    return driver.execute_script(
        """const out = [];
        const width = document.documentElement.clientWidth;
        for (const el of document.querySelectorAll('p, h1, h2, h3, h4, li, label, button, summary')) {
          const r = el.getBoundingClientRect();
          if (!r.width || !r.height || !el.textContent.trim()) continue;
          const style = getComputedStyle(el);
          if (style.visibility === 'hidden') continue;
          if (r.right > width + 1 || r.left < -1) out.push(el.tagName + ': ' + el.textContent.trim().slice(0, 60));
          else if (el.scrollWidth > el.clientWidth + 1 && style.overflowX === 'hidden')
            out.push('clipped ' + el.tagName + ': ' + el.textContent.trim().slice(0, 60));
        }
        return out;"""
    )


def focus_order(driver, presses: int = 80, stop_at: str | None = None) -> list[str]:
    """The accessible names of what the Tab key reaches, in order, from the top of the page
    (up to ``stop_at`` when given: the focus is left there)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver.switch_to.default_content()
    # start where a visitor starts: before the first element of the page
    driver.execute_script(
        """const top = document.createElement('span');
        top.tabIndex = -1;
        document.body.prepend(top);
        top.focus();
        top.remove();"""
    )
    names = []
    for _ in range(presses):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        names.append(
            driver.execute_script(
                """const e = document.activeElement;
                if (!e || e === document.body) return '';
                const labelled = e.getAttribute('aria-labelledby');
                const byId = labelled && document.getElementById(labelled);
                return (e.getAttribute('aria-label') || (byId && byId.textContent) || e.textContent
                        || e.title || e.tagName).trim();"""
            )
        )
        if stop_at is not None and names[-1] == stop_at:
            break
    return names


def tab_to(driver, name: str, presses: int = 80) -> bool:
    """Press Tab from the top of the page until the element named ``name`` has the focus."""
    return focus_order(driver, presses, stop_at=name)[-1] == name


def wait_events(folder: Path, accept, timeout: float = 10.0) -> list[dict]:
    """The stored events ``accept`` keeps, once there is one (the lens flushes every second)."""
    from smartlens.analytics.events import read_events

    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in read_events(folder) if accept(e)] if folder.exists() else []
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


class Curator:
    """The few gestures a curator makes, each waiting for the page to answer."""

    def __init__(self, driver, shots: Path) -> None:
        self.d, self.shots = driver, shots

    def wait(self, condition, timeout: float, what: str):
        from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        # Streamlit redraws elements while a condition reads them: ask again
        redrawn = (StaleElementReferenceException, NoSuchElementException)
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.3, ignored_exceptions=redrawn).until(
                condition
            )
        except Exception:
            path = self.shots / f"failed-{what.replace(' ', '-')}.png"
            self.d.save_screenshot(str(path))
            raise AssertionError(f"timed out waiting for {what} (screenshot {path})") from None

    def text(self) -> str:
        from selenium.webdriver.common.by import By

        try:
            return self.d.find_element(By.TAG_NAME, "body").text
        except Exception:  # the page is being redrawn
            return ""

    def sees(self, words: str, timeout: float = 60) -> None:
        self.wait(lambda d: words in self.text(), timeout, repr(words)[:40])

    def field(self, label: str, timeout: float = 30):
        from selenium.webdriver.common.by import By

        css = f'input[aria-label="{label}"], textarea[aria-label="{label}"]'
        return self.wait(
            lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()], timeout, label
        )[0]

    def type(self, label: str, text: str, commit: bool = False) -> None:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.keys import Keys

        for attempt in range(3):  # Streamlit may redraw the field between finding and typing
            try:
                el = self.field(label)
                el.click()
                el.send_keys(Keys.CONTROL, "a")
                el.send_keys(Keys.DELETE)
                el.send_keys(text)
                break
            except StaleElementReferenceException:
                if attempt == 2:
                    raise
                time.sleep(0.5)
        if commit:  # outside a form a widget's value goes to the server when it loses focus
            el.send_keys(Keys.TAB)
            time.sleep(1.0)

    def press(self, label: str, timeout: float = 30) -> None:
        from selenium.webdriver.common.by import By

        def enabled(d):
            return [
                b
                for b in d.find_elements(By.TAG_NAME, "button")
                if b.text.strip() == label and b.is_enabled()
            ]

        self.wait(enabled, timeout, f"button {label}")[0].click()

    def check(self, label: str, timeout: float = 30) -> None:
        """Tick the checkbox labelled ``label``, with a click on its words as a person does."""
        from selenium.webdriver.common.by import By

        css = f'input[type="checkbox"][aria-label="{label}"]'

        def ticked(d) -> bool:
            return bool(d.execute_script(f"return document.querySelector('{css}')?.checked === true"))

        box = self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, css), timeout, f"the {label} checkbox")[0]
        if not ticked(self.d):
            # its words (the label's middle can be its help button in a narrow column)
            box.find_element(By.XPATH, "ancestor::label").find_element(
                By.CSS_SELECTOR, "[data-testid='stWidgetLabel'] p"
            ).click()
        self.wait(ticked, timeout, f"{label} ticked")

    def page(self, title: str) -> None:
        from selenium.webdriver.common.by import By

        links = self.wait(
            lambda d: [
                a
                for a in d.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebarNavLink']")
                if a.text.strip().endswith(title)
            ],
            30,
            f"the {title} page",
        )
        links[0].click()
        self.wait(
            lambda d: title in [h.text for h in d.find_elements(By.CSS_SELECTOR, "h1, h2")],
            60,
            f"{title} header",
        )

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.d.save_screenshot(str(path))
        print(f"screenshot: {path}")
        return path

    def selectbox(self, label: str, timeout: float = 30):
        """The select box labelled ``label`` (in the page or the sidebar)."""
        from selenium.webdriver.common.by import By

        def found(d):
            return [
                box
                for box in d.find_elements(By.CSS_SELECTOR, "[data-testid='stSelectbox']")
                if box.find_elements(By.TAG_NAME, "label")
                and box.find_element(By.TAG_NAME, "label").text.strip() == label
            ]

        return self.wait(found, timeout, f"the {label} menu")[0]

    def selected(self, label: str) -> str:
        """What the select box labelled ``label`` shows."""
        from selenium.webdriver.common.by import By

        box = self.selectbox(label)
        return (
            box.find_element(By.CSS_SELECTOR, "[role='combobox']").get_attribute("value")
            or box.text.split("\n")[-1].strip()
        )

    def choose(self, label: str, option: str) -> None:
        from selenium.webdriver.common.by import By

        self.selectbox(label).find_element(By.CSS_SELECTOR, "[role='combobox']").click()
        self.wait(
            lambda d: [
                o for o in d.find_elements(By.CSS_SELECTOR, "[role='option']") if o.text.strip() == option
            ],
            10,
            f"{option} in {label}",
        )[0].click()
        self.wait(lambda d: self.selected(label) == option, 30, f"{label} set to {option}")
