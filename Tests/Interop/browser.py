"""The pages in web/ in a real browser, for the tests: Debian's headless Chromium driven by
selenium through chromium-driver, and what a test reads of the chat page's state."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import JavascriptException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import REPO, wait_until
from timing import scaled

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)

NO_BROWSER = "Chromium and chromium-driver are not installed (scripts/install-deps.sh installs them: apt chromium chromium-driver)"

ARTIFACTS = REPO / "artifacts"


# MARK: - The browser


class Page:
    """One headless Chromium on the bridge's pages, with the page's state read through JS."""

    def __init__(self, driver: webdriver.Chrome) -> None:
        self.driver = driver
        self.base_url = ""

    def open(self, bridge, path: str = "/") -> "Page":
        self.base_url = bridge.base_url
        self.driver.get(bridge.base_url + path)
        return self

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = 20) -> Any:
        """Waits (WebDriverWait) until `condition()` is truthy; JS errors while the page loads retry."""
        timeout = scaled(timeout)
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05, ignored_exceptions=(JavascriptException,)).until(
                lambda _: condition()
            )
        except TimeoutException:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}; console: {self.console()}") from None

    def wait_connected(self) -> None:
        self.wait(lambda: self.js("return window.tokenbridge?.client.state === 'connected'"), "the page's WebSocket to connect")

    def ask(self, prompt: str, mode: str = "ws") -> str:
        """Types `prompt` (set as the textarea's value: newlines would press Enter), presses Send,
        and returns the uid of the new answer."""
        self.driver.find_element(By.CSS_SELECTOR, f'input[name="mode"][value="{mode}"]').click()
        before = self.js("return window.tokenbridge.turns.length")
        self.js("document.getElementById('prompt').value = arguments[0]", prompt)
        self.driver.find_element(By.ID, "send").click()
        return self.wait(lambda: self.js("const t = window.tokenbridge.turns; return t.length > arguments[0] && t.at(-1).uid", before),
                         "the new answer to appear")

    def turn(self, uid: str) -> dict:
        """The page's record of one answer, with its DOM and its subscription's counters."""
        return self.js(
            """
            const turn = window.tokenbridge.turns.find((t) => t.uid === arguments[0]);
            if (!turn) return null;
            const node = document.querySelector(`article[data-uid="${arguments[0]}"]`);
            const q = (s) => node.querySelector(s);
            return {
              status: turn.status, text: turn.text, reasoning: turn.reasoning, lastSeq: turn.lastSeq,
              pieces: turn.pieces, appDuplicates: turn.appDuplicates, appGaps: turn.appGaps, resumed: turn.resumed,
              finishReason: turn.finishReason ?? null, usage: turn.usage ?? null, cancelledVia: turn.cancelledVia ?? null,
              sub: turn.sub ? {...turn.sub.stats, state: turn.sub.state} : null,
              dom: {
                status: q('.answer').dataset.status, text: q('.answer .text').textContent,
                shown: (() => { const copy = q('.answer .text').cloneNode(true);
                  copy.querySelectorAll('.lang').forEach((n) => n.remove()); return copy.textContent; })(),
                question: q('.question .text').textContent, askedAt: q('.question time').textContent,
                reasoning: q('.thinking .reasoning').textContent, thinkingHidden: q('.thinking').hidden,
                thinkingOpen: q('.thinking').open, meta: q('.answer .meta').textContent,
                badge: q('.badge').hidden ? null : q('.badge').textContent,
                typing: !q('.typing').hidden,
              },
            };
            """,
            uid,
        )

    def wait_turn(self, uid: str, condition: Callable[[dict], Any], what: str, timeout: float = 30) -> dict:
        return self.wait(lambda: (lambda t: t if t and condition(t) else None)(self.turn(uid)), what, timeout)

    def client_stats(self) -> dict:
        return self.js("const c = window.tokenbridge.client; return {...c.stats, state: c.state}")

    def console(self) -> list[dict]:
        """Console entries since the last call (the log is drained by reading it)."""
        return self.driver.get_log("browser")

    def assert_console_clean(self) -> None:
        errors = [entry for entry in self.console() if entry["level"] in ("SEVERE", "ERROR")]
        assert errors == [], f"console errors: {errors}"

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        assert self.driver.save_screenshot(str(path)), f"could not save {path}"
        return path


def headless_page() -> Iterator[Page]:
    """A fresh headless Chromium for one test (the body of each module's `page` fixture)."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(NO_BROWSER)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1100,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(scaled(10))
    try:
        yield Page(driver)
    finally:
        driver.quit()


# MARK: - Bridges and model servers


def paced(tokens: int, rate: float, **simulated: Any) -> dict:
    return {"llm": {"provider": "simulated", "simulated": {"tokens": tokens, "rate": rate, **simulated}}}


def result_of(bridge, uid: str) -> httpx.Response:
    with bridge.client() as http:
        return http.get(f"/v1/streams/{uid}/result")


def finished_result(bridge, uid: str) -> dict:
    response = wait_until(lambda: (lambda r: r if r.status_code == 200 else None)(result_of(bridge, uid)), 30,
                          f"the stream {uid} to end")
    return response.json()


def stats(bridge) -> dict:
    with bridge.client() as http:
        response = http.get("/api/stats")
    assert response.status_code == 200, response.text
    return response.json()


def shown_as(text: str) -> str:
    """What of `text` the page shows, whitespace aside: ``` fence lines become code blocks."""
    kept = [line for line in text.split("\n") if not line.startswith("```")]
    return re.sub(r"\s+", "", "".join(kept))


def assert_shows(turn: dict, result: dict) -> None:
    """The page holds the stream's answer exactly, and shows all of it."""
    assert turn["text"] == result["text"] != "", (turn["text"], result["text"])
    assert re.sub(r"\s+", "", turn["dom"]["shown"]) == shown_as(result["text"])


def assert_exactly_once(turn: dict) -> None:
    """Every seq of the run applied once, in order, none skipped; nothing let through twice."""
    assert turn["pieces"] == list(range(1, turn["lastSeq"] + 1)), turn["pieces"]
    assert turn["appDuplicates"] == 0 and turn["appGaps"] == 0, turn
    if turn["sub"] is not None:
        assert turn["sub"]["duplicates"] == 0 and turn["sub"]["gaps"] == 0, turn["sub"]
