"""Short-lived JWTs in the browser: the chat page with `tokenURL` / `subscriptionTokenURL` set in
its config.js, against a bridge whose channel server wants tokens (`channels.auth.mode: token`)
and closes a connection 3 s after its token expires. The tokens come from a test server standing
in for the application's backend, as centrifuge-js's `getToken` examples fetch them."""

from __future__ import annotations

import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest

from browser import Page, assert_exactly_once, assert_shows, finished_result, headless_page, paced
from conftest import REPO

SECRET = "browser-token-secret-" * 4
CLOSE_DELAY = "3s"  # a renewal has this long past each expiry, on a loaded CI machine too
USER = "ann"


@pytest.fixture
def page():
    yield from headless_page()


class TokenEndpoint:
    """Mints HS256 tokens for USER: GET /connection, GET /subscription?channel=... Each lives
    `ttl` seconds. `refuse` answers 403 to everything; `expired_first` makes the first
    connection token one that expired a minute ago. Every request is recorded."""

    def __init__(self, ttl: int, *, expired_first: bool = False, refuse: bool = False) -> None:
        self.ttl = ttl
        self.expired_first = expired_first
        self.refuse = refuse
        self.origin = "*"
        self.requests: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                endpoint._answer(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="token-endpoint", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def count(self, kind: str) -> int:
        with self.lock:
            return sum(1 for seen, _ in self.requests if seen == kind)

    def channels(self) -> set[str | None]:
        with self.lock:
            return {channel for kind, channel in self.requests if kind == "subscription"}

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlparse(handler.path)
        kind = url.path.strip("/")
        channel = parse_qs(url.query).get("channel", [None])[0]
        with self.lock:
            self.requests.append((kind, channel))
            first = len(self.requests) == 1
        now = int(time.time())
        claims: dict[str, Any] = {"sub": USER, "exp": now + self.ttl}
        if kind == "connection" and first and self.expired_first:
            claims["exp"] = now - 60
        if kind == "subscription":
            claims["channel"] = channel
        status, body = (403, {"error": "no token for you"}) if self.refuse else (200, {"token": jwt.encode(claims, SECRET, algorithm="HS256")})
        data = json.dumps(body).encode()
        handler.send_response(status)
        # fetch(..., {credentials: "include"}) needs the page's own origin named, not "*".
        handler.send_header("access-control-allow-origin", self.origin)
        handler.send_header("access-control-allow-credentials", "true")
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def __enter__(self) -> "TokenEndpoint":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def web_root_with(tmp_path: Path, endpoint: TokenEndpoint, **settings: str) -> Path:
    """A copy of web/ as a deployer edits it: config.js sets `settings`, and index.html's
    Content-Security-Policy lets the page fetch from the endpoint's origin."""
    root = tmp_path / "web"
    shutil.copytree(REPO / "web", root)
    index = root / "index.html"
    page = index.read_text()
    assert "connect-src 'self' ws: wss:;" in page
    index.write_text(page.replace("connect-src 'self' ws: wss:;", f"connect-src 'self' ws: wss: {endpoint.url};"))
    config = root / "config.js"
    text = config.read_text()
    for key, value in settings.items():
        assert f'  {key}: "",' in text, f"config.js has no {key}"
        text = text.replace(f'  {key}: "",', f"  {key}: {json.dumps(value)},")
    config.write_text(text)
    return root


def guarded_bridge(start_bridge, web_root: Path, *, anonymous_streams: bool, tokens: int, rate: float):
    bridge = start_bridge({
        **paced(tokens, rate),
        "server": {"web_root": str(web_root)},
        "channels": {"expired_close_delay": CLOSE_DELAY,
                     "auth": {"mode": "token", "hmac_secret": SECRET, "allow_anonymous_streams": anonymous_streams}},
    })
    return bridge


def client_stats(page: Page) -> dict:
    return page.js("const c = window.tokenbridge.client; return {...c.stats, state: c.state}")


def test_the_page_renews_its_connection_token_and_never_reconnects(start_bridge, page: Page, tmp_path: Path) -> None:
    # Tokens live 2 s and the server closes 3 s past expiry: a 10 s answer outlives several.
    with TokenEndpoint(ttl=2, expired_first=True) as endpoint:
        bridge = guarded_bridge(start_bridge, web_root_with(tmp_path, endpoint, tokenURL=f"{endpoint.url}/connection"),
                                anonymous_streams=True, tokens=250, rate=25)
        endpoint.origin = bridge.base_url
        page.open(bridge).wait_connected()
        # The first token had expired: error 109, then a new token, then connected (without
        # getToken on 109 the client would stop for good).
        assert endpoint.count("connection") >= 2
        started = time.monotonic()
        uid = page.ask("Tell me a long story")
        turn = page.wait_turn(uid, lambda t: t["status"] == "done", "the answer to finish", timeout=40)
        lasted = time.monotonic() - started
        assert_shows(turn, finished_result(bridge, uid))
        assert_exactly_once(turn)
        stats = client_stats(page)
        assert lasted > 2 * 2 + 3, f"the answer took {lasted:.1f} s: too short to outlive a renewed token"
        assert stats["state"] == "connected" and stats["connects"] == 1 and stats["lastClose"] is None, stats
        assert stats["refreshes"] >= 2, stats
        assert endpoint.count("connection") >= 2 + stats["refreshes"]
        assert turn["sub"]["subscribes"] == 1, turn["sub"]
        page.assert_console_clean()


def test_the_page_renews_its_subscription_tokens(start_bridge, page: Page, tmp_path: Path) -> None:
    with TokenEndpoint(ttl=2) as endpoint:
        root = web_root_with(tmp_path, endpoint, tokenURL=f"{endpoint.url}/connection", subscriptionTokenURL=f"{endpoint.url}/subscription")
        bridge = guarded_bridge(start_bridge, root, anonymous_streams=False, tokens=200, rate=25)
        endpoint.origin = bridge.base_url
        page.open(bridge).wait_connected()
        uid = page.ask("Tell me a long story")
        turn = page.wait_turn(uid, lambda t: t["status"] == "done", "the answer to finish", timeout=40)
        assert_shows(turn, finished_result(bridge, uid))
        assert_exactly_once(turn)
        # One subscribe for the whole answer, kept alive by sub_refresh; the tokens asked for
        # named the stream's channel.
        assert turn["sub"]["subscribes"] == 1 and turn["sub"]["refreshes"] >= 2, turn["sub"]
        assert turn["sub"]["recovered"] == 0, turn["sub"]
        assert endpoint.channels() == {f"stream_{uid}"}
        assert endpoint.count("subscription") >= 1 + turn["sub"]["refreshes"]
        stats = client_stats(page)
        assert stats["connects"] == 1 and stats["refreshes"] >= 2, stats
        page.assert_console_clean()


def test_a_refused_token_stops_the_websocket_and_the_answer_comes_over_http(start_bridge, page: Page, tmp_path: Path) -> None:
    with TokenEndpoint(ttl=60, refuse=True) as endpoint:
        bridge = guarded_bridge(start_bridge, web_root_with(tmp_path, endpoint, tokenURL=f"{endpoint.url}/connection"),
                                anonymous_streams=True, tokens=40, rate=40)
        endpoint.origin = bridge.base_url
        page.open(bridge)
        page.wait(lambda: client_stats(page)["state"] == "disconnected", "the client to give up")
        uid = page.ask("Answer anyway")
        turn = page.wait_turn(uid, lambda t: t["status"] == "done", "the answer over HTTP")
        assert_shows(turn, finished_result(bridge, uid))
        assert_exactly_once(turn)
        assert turn["sub"] is None
        # 403 is final: one request, no socket ever opened, none retried while the answer ran.
        stats = client_stats(page)
        assert endpoint.count("connection") == 1 and stats["connects"] == 0 and stats["lastClose"] is None, stats
        assert page.js("return document.getElementById('st-ws').textContent") == "WebSocket: disconnected"
        errors = [entry["message"] for entry in page.console() if entry["level"] == "SEVERE"]
        assert all("403" in message for message in errors), errors
