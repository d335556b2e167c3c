"""The pages in web/ in a real browser: Debian's headless Chromium driven by selenium through
chromium-driver, against a running bridge.

The chat (index.html) subscribes to `stream_<uid>` over the embedded channel server with
recovery from offset 0, then submits the prompt asynchronously; these tests check what a user
would see (the answer's text on the page equals `/v1/streams/{uid}/result`) and what the page's
protocol client did (`window.tokenbridge`: each answer's applied seqs, the subscription's
duplicate/gap/recovery counters). Screenshots go to artifacts/web-*.png.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import websockets
from selenium.webdriver.common.by import By

from browser import Page, assert_exactly_once, assert_shows, finished_result, headless_page, paced, result_of, stats
from conftest import REPO, chat_body, scripted_config, unique_uid, wait_until
from scripted_centrifugo import ScriptedCentrifugo
from timing import scaled

WEB = REPO / "web"
PAGE_BUDGET = 100 * 1024


@pytest.fixture
def page():
    yield from headless_page()


class EchoUpstream:
    """An OpenAI-compatible model server that streams the last user message back, four
    characters per chunk: whatever the test types is exactly what the model "says"."""

    def __init__(self) -> None:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                upstream._json(self, {"object": "list", "data": [{"id": "echo", "object": "model", "owned_by": "test"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                upstream._stream(self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="echo-upstream", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, payload: Any) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _stream(handler: BaseHTTPRequestHandler, request: dict) -> None:
        text = next((m.get("content", "") for m in reversed(request.get("messages", [])) if m.get("role") == "user"), "")
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.end_headers()

        def chunk(delta: dict, finish: str | None = None, usage: dict | None = None) -> None:
            payload = {"id": "chatcmpl-echo", "object": "chat.completion.chunk", "created": 0, "model": "echo",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if usage is None else []}
            if usage is not None:
                payload["usage"] = usage
            handler.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            handler.wfile.flush()

        chunk({"role": "assistant", "content": ""})
        pieces = [text[i:i + 4] for i in range(0, len(text), 4)]
        for piece in pieces:
            chunk({"content": piece})
        chunk({}, finish="stop")
        chunk({}, usage={"prompt_tokens": len(pieces), "completion_tokens": len(pieces), "total_tokens": 2 * len(pieces)})
        handler.wfile.write(b"data: [DONE]\n\n")

    def __enter__(self) -> "EchoUpstream":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


# MARK: - The chat


def test_a_prompt_streams_its_answer_and_it_matches_the_result(start_bridge, page: Page) -> None:
    bridge = start_bridge(paced(120, 60, reasoning=True))
    page.open(bridge).wait_connected()
    uid = page.ask("Tell me how streaming works")
    streaming = page.wait_turn(uid, lambda t: t["status"] == "streaming" and t["dom"]["typing"], "tokens to arrive")
    assert streaming["dom"]["question"] == "Tell me how streaming works"
    turn = page.wait_turn(uid, lambda t: t["status"] == "done", "the answer to finish")
    result = finished_result(bridge, uid)
    assert result["status"] == "done" and result["text"], result
    # What the page shows is the stream's answer, exactly.
    assert_shows(turn, result)
    assert turn["reasoning"] == result["reasoning"] != "" and turn["dom"]["reasoning"] == result["reasoning"]
    assert not turn["dom"]["thinkingHidden"] and not turn["dom"]["thinkingOpen"], "the thinking block starts collapsed"
    assert_exactly_once(turn)
    # Subscribed before the submit: the first subscribe found an empty channel (nothing to
    # recover), and every event came live.
    assert turn["sub"]["subscribes"] == 1 and turn["sub"]["recovered"] == 0, turn["sub"]
    assert turn["sub"]["delivered"] == turn["lastSeq"]
    # Usage and finish reason under the answer, a timestamp on the question, the pills.
    usage = result["usage"]
    assert f"finish: {result['finish_reason']}" in turn["dom"]["meta"]
    assert f"{usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion tokens" in turn["dom"]["meta"]
    assert re.search(r"\d{1,2}:\d{2}:\d{2}", turn["dom"]["askedAt"]), turn["dom"]["askedAt"]
    assert not turn["dom"]["typing"]
    pills = page.js("return ['st-server', 'st-ws', 'st-stream'].map((id) => document.getElementById(id).textContent)")
    assert pills == ["server: up", "WebSocket: connected", f"stream: done ({turn['lastSeq']} events)"], pills

    page.driver.find_element(By.CSS_SELECTOR, f'article[data-uid="{uid}"] .thinking summary').click()
    assert page.turn(uid)["dom"]["thinkingOpen"]
    page.js("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.screenshot("web-chat.png")
    # Readable on a phone: nothing wider than the screen.
    page.driver.set_window_size(390, 844)
    page.wait(lambda: page.js("return window.innerWidth <= 400"), "the phone-sized window")
    overflow = page.js("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], f"the page scrolls sideways on a phone: {overflow}"
    page.screenshot("web-chat-phone.png")
    page.assert_console_clean()


def test_direct_sse_mode_streams_the_answer_from_the_post(start_bridge, page: Page) -> None:
    bridge = start_bridge(paced(40, 80, reasoning=True))
    page.open(bridge).wait_connected()
    uid = page.ask("Compare the transports", mode="sse")
    turn = page.wait_turn(uid, lambda t: t["status"] == "done", "the answer to finish")
    result = finished_result(bridge, uid)
    assert_shows(turn, result)
    assert turn["reasoning"] == result["reasoning"] != ""
    assert turn["sub"] is None, "direct SSE mode subscribed to the channel"
    assert f"finish: {result['finish_reason']}" in turn["dom"]["meta"] and "direct SSE" in turn["dom"]["meta"]
    assert f"{result['usage']['completion_tokens']} completion tokens" in turn["dom"]["meta"]
    assert page.js("return localStorage.getItem('tokenbridge.chat.mode')") == "sse"
    page.assert_console_clean()


@pytest.mark.parametrize("mode", ["ws", "sse"])
def test_a_reload_mid_answer_shows_the_answer_once_and_it_continues(start_bridge, page: Page, mode: str) -> None:
    # The page kept only the uid: over the channel it recovers from offset 0; in direct SSE mode
    # (the POST said `on_disconnect: continue`) it reads GET /v1/streams/{uid} from the start.
    bridge = start_bridge(paced(200, 40))
    page.open(bridge).wait_connected()
    uid = page.ask("A long answer, please", mode=mode)
    page.wait_turn(uid, lambda t: len(t["text"]) >= 60, "the first tokens")
    page.js("window.__beforeReload = true")
    page.driver.refresh()
    page.wait(lambda: page.js("return !window.__beforeReload && window.tokenbridge?.turns.length === 1"), "the reloaded page")
    resumed = page.wait_turn(uid, lambda t: t["lastSeq"] > 0, "the answer to reappear")
    assert resumed["resumed"] and resumed["dom"]["question"] == "A long answer, please"
    assert result_of(bridge, uid).status_code == 202, "the stream ended before the page came back: nothing was resumed live"
    turn = page.wait_turn(uid, lambda t: t["status"] == "done", "the answer to finish")
    result = finished_result(bridge, uid)
    assert_shows(turn, result)
    assert_exactly_once(turn)
    if mode == "ws":
        sub = turn["sub"]
        assert 0 < sub["recovered"] < sub["delivered"], f"expected a catch-up and then live events: {sub}"
    else:
        assert turn["sub"] is None
    assert page.js("return document.querySelectorAll('#messages article').length") == 1
    assert stats(bridge)["streams"]["started_total"] == 1, "the reload started the prompt again"
    page.assert_console_clean()


def test_a_server_side_cut_reconnects_and_recovers_with_no_gap_or_duplicate(start_bridge, page: Page) -> None:
    # The server API's default disconnect code, 3503 ("force disconnect"), is terminal for the
    # SDKs (and for this page): it would test giving up. 3011 ("force reconnect") is the code a
    # server uses to send clients elsewhere; the page must come back and recover what it missed
    # while it was away (the reconnect waits 250-500 ms, about 10-20 tokens at 40/s).
    bridge = start_bridge({**paced(200, 40), "channels": {"api_insecure": True}})
    page.open(bridge).wait_connected()
    uid = page.ask("Keep talking")
    page.wait_turn(uid, lambda t: t["lastSeq"] >= 15, "the first tokens")
    with bridge.client() as http:
        cut = http.post("/api/disconnect", json={"user": "", "disconnect": {"code": 3011, "reason": "force reconnect"}})
    assert cut.status_code == 200 and cut.json() == {"result": {}}, cut.text
    page.wait(lambda: page.client_stats()["reconnects"] >= 1, "the page to reconnect")
    assert page.client_stats()["lastClose"]["code"] == 3011
    turn = page.wait_turn(uid, lambda t: t["status"] == "done", "the answer to finish")
    result = finished_result(bridge, uid)
    assert_shows(turn, result)
    assert_exactly_once(turn)
    assert turn["sub"]["subscribes"] == 2 and turn["sub"]["recoveredOnResubscribe"] > 0, turn["sub"]
    page.assert_console_clean()


def test_a_terminal_close_code_stops_the_page_reconnecting(start_bridge, page: Page) -> None:
    bridge = start_bridge({**paced(60, 40), "channels": {"api_insecure": True}})
    page.open(bridge).wait_connected()
    uid = page.ask("Say something")
    page.wait_turn(uid, lambda t: t["lastSeq"] >= 5, "the first tokens")
    with bridge.client() as http:
        assert http.post("/api/disconnect", json={"user": ""}).status_code == 200  # 3503
    page.wait(lambda: page.client_stats()["state"] == "disconnected", "the page to give up")
    # The answer goes on over HTTP (GET /v1/streams/{uid} after the last seq it had).
    turn = page.wait_turn(uid, lambda t: t["status"] == "done", "the answer to finish without the WebSocket")
    assert_shows(turn, finished_result(bridge, uid))
    assert_exactly_once(turn)
    assert turn["sub"] is None
    # So does the next prompt, read from the journal as it starts.
    second = page.ask("And another thing")
    turn = page.wait_turn(second, lambda t: t["status"] == "done", "the next answer over HTTP")
    assert_shows(turn, finished_result(bridge, second))
    assert_exactly_once(turn)
    assert page.client_stats()["connects"] == 1 and page.client_stats()["lastClose"]["code"] == 3503
    assert page.js("return document.getElementById('st-ws').textContent") == "WebSocket: disconnected"
    page.assert_console_clean()


def test_a_network_drop_in_the_browser_continues_with_no_gap_or_duplicate(start_bridge, page: Page) -> None:
    # Chromium's offline emulation does not close an open WebSocket (checked: it stays open and
    # keeps delivering), but it tells the page `offline`: the client then drops its socket, waits
    # for `online` (no connection attempts, so no console errors meanwhile) and recovers.
    bridge = start_bridge(paced(300, 40))
    page.open(bridge).wait_connected()
    uid = page.ask("Long enough to lose the network")
    page.wait_turn(uid, lambda t: t["lastSeq"] >= 15, "the first tokens")
    conditions = {"latency": 0, "download_throughput": -1, "upload_throughput": -1}
    page.driver.set_network_conditions(offline=True, **conditions)
    page.wait(lambda: page.client_stats()["state"] == "connecting", "the page to notice it is offline")
    seen = page.turn(uid)["lastSeq"]
    # Offline while the model writes some 40 more tokens (about a second at 40/s).
    published = stats(bridge)["tokens"]["publications_total"]
    wait_until(lambda: stats(bridge)["tokens"]["publications_total"] >= published + 40, 20, "40 more tokens")
    assert page.turn(uid)["lastSeq"] == seen, "events arrived while the page was offline"
    page.driver.set_network_conditions(offline=False, **conditions)
    turn = page.wait_turn(uid, lambda t: t["status"] == "done", "the answer to finish")
    result = finished_result(bridge, uid)
    assert_shows(turn, result)
    assert_exactly_once(turn)
    assert turn["sub"]["recoveredOnResubscribe"] >= 40, turn["sub"]
    page.assert_console_clean()


@pytest.mark.parametrize("mode", ["ws", "sse"])
def test_stop_cancels_the_model_call_and_the_answer_says_stopped(upstream, start_bridge, page: Page, mode: str) -> None:
    # WebSocket mode stops with the channel's `rpc cancel`, direct SSE mode with DELETE.
    bridge = start_bridge(scripted_config(upstream, model="script-slow"))
    page.open(bridge).wait_connected()
    uid = page.ask("Talk slowly", mode=mode)
    page.wait_turn(uid, lambda t: t["text"].startswith("t0 t1 "), "the first tokens")
    page.driver.find_element(By.CSS_SELECTOR, f'article[data-uid="{uid}"] .stop-one').click()
    turn = page.wait_turn(uid, lambda t: t["status"] == "stopped" and t["cancelledVia"], "the answer to show it stopped")
    upstream.wait_for(lambda: any(r.aborted for r in upstream.snapshot()), 10, "the bridge to abort the model call")
    result = finished_result(bridge, uid)
    assert result["status"] == "cancelled"
    assert turn["cancelledVia"] == {"ws": "rpc", "sse": "DELETE"}[mode]
    assert turn["dom"]["status"] == "stopped" and turn["dom"]["badge"] == "stopped"
    assert "stopped by you" in turn["dom"]["meta"] and not turn["dom"]["typing"]
    assert_shows(turn, result)
    assert page.js("return document.getElementById('stop').hidden"), "the Stop button stayed"
    if mode == "ws":
        page.screenshot("web-chat-stopped.png")
    page.assert_console_clean()


def test_markup_in_model_output_is_shown_as_text(start_bridge, page: Page) -> None:
    markup = '<img src=x onerror="window.__pwned = 1"> and <b onmouseover="window.__pwned = 3">bold</b>'
    code = "<script>window.__pwned = 2</script>\n<iframe src=\"javascript:window.__pwned = 4\"></iframe>"
    prompt = f"Look: {markup}\n```html\n{code}\n```\nThe end."
    with EchoUpstream() as echo:
        bridge = start_bridge({"llm": {"provider": "openai", "url": echo.url, "model": "echo"}})
        page.open(bridge).wait_connected()
        uid = page.ask(prompt)
        turn = page.wait_turn(uid, lambda t: t["status"] == "done", "the echoed answer")
    result = finished_result(bridge, uid)
    assert turn["text"] == result["text"] == prompt
    assert page.driver.find_elements(By.CSS_SELECTOR, "#messages img, #messages script, #messages b, #messages iframe") == []
    assert page.js("return window.__pwned") is None
    node = page.driver.find_element(By.CSS_SELECTOR, f'article[data-uid="{uid}"]')
    assert markup in node.find_element(By.CSS_SELECTOR, ".answer .text .prose").text
    assert node.find_element(By.CSS_SELECTOR, ".answer pre.code code").get_attribute("textContent") == code
    assert node.find_element(By.CSS_SELECTOR, ".answer pre.code .lang").text == "html"
    assert markup in node.find_element(By.CSS_SELECTOR, ".question .text").text
    page.screenshot("web-chat-markup.png")
    page.assert_console_clean()
    # And the pages' code never turns strings into markup.
    for script in WEB.glob("*.js"):
        source = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{script.name} uses {sink}"


def test_the_ws_query_parameter_picks_the_websocket(start_bridge, page: Page) -> None:
    # The page served by one bridge, its WebSocket on another (as with an external Centrifugo).
    pages_bridge = start_bridge(paced(5, 0))
    channel_bridge = start_bridge(paced(5, 0))
    url = f"ws://127.0.0.1:{channel_bridge.port}/connection/websocket"
    page.open(pages_bridge, f"/?ws={url}").wait_connected()
    assert page.js("return window.tokenbridge.client.url") == url
    assert stats(channel_bridge)["clients"]["connections"] == 1
    assert stats(pages_bridge)["clients"]["connections"] == 0
    page.assert_console_clean()


# MARK: - The dashboard


def test_the_dashboard_shows_tokens_per_second_while_a_stream_runs(start_bridge, page: Page) -> None:
    bridge = start_bridge(paced(600, 60))
    page.driver.set_window_size(1100, 1300)
    page.open(bridge, "/dashboard.html")
    page.wait(lambda: page.js("return document.getElementById('st-stats').textContent") == "stats: live", "the first stats")
    uid = unique_uid("dash")
    with bridge.client() as http:
        assert http.post("/v1/chat/completions", json=chat_body(uid=uid, **{"async": True})).status_code == 202
    # The tile averages the last 5 s: it climbs to the stream's 60 tokens/s within a few polls.
    rate = page.wait(lambda: (lambda r: r if r >= 30 else None)(float(page.js("return document.getElementById('rate').dataset.rate"))),
                     "tokens/s near the stream's rate")
    assert rate < 120, f"tokens/s {rate} for a 60 tokens/s stream"
    assert float(page.js("return document.getElementById('rate').textContent")) > 0
    page.wait(lambda: page.js("return window.tokenbridgeDashboard.points.length >= 4"), "a few points on the chart")
    shown = page.js("""return Object.fromEntries(['active', 'started', 'clients', 'publications', 'ttft']
        .map((id) => [id, document.getElementById(id).textContent]))""")
    assert shown["active"] == "1" and shown["started"] == "1" and shown["ttft"].endswith(" ms"), shown
    assert shown["publications"] not in ("0", "–"), shown
    sinks = page.js("return [...document.querySelectorAll('#sinks [data-sink]')].map((n) => n.dataset.sink)")
    assert sinks == ["websocket"], sinks
    drawn = page.js("""const c = document.getElementById('chart'); const d = c.getContext('2d')
        .getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n""")
    assert drawn > 1000, "the chart is empty"
    body = stats(bridge)
    assert body["streams"]["active"] == 1 and body["ttft_ms"]["count"] == 1
    assert 0 < body["ttft_ms"]["p50"] <= body["ttft_ms"]["p99"] < 5000
    assert set(body) == {"streams", "tokens", "clients", "journal", "sinks", "ttft_ms"}
    assert body["sinks"]["websocket"]["publications_total"] == body["tokens"]["publications_total"] > 0
    page.screenshot("web-dashboard.png")
    page.assert_console_clean()
    with bridge.client() as http:
        http.delete(f"/v1/streams/{uid}")


def test_stats_list_each_configured_sink(start_bridge) -> None:
    # Without a browser: the JSON the dashboard reads, for a bridge with the embedded channel
    # server and an external Centrifugo (scripted), after one finished stream.
    centrifugo = ScriptedCentrifugo(["ok"]).start()
    try:
        bridge = start_bridge({**paced(10, 0), "sinks": {
            "default": ["websocket", "centrifugo"], "centrifugo": {"api_url": centrifugo.url, "api_key": "key"}}})
        uid = unique_uid("stats")
        with bridge.client() as http:
            assert http.post("/v1/chat/completions", json=chat_body(uid=uid)).status_code == 200
            assert http.post("/api/stats").status_code == 405
        events = result_events(bridge, uid)
        body = wait_until(lambda: (lambda b: b if b["sinks"]["centrifugo"]["publications_total"] == events else None)(stats(bridge)),
                          10, "Centrifugo to accept every event")
    finally:
        centrifugo.stop()
    assert body["streams"]["started_total"] == 1 and body["streams"]["ended_total"] == {"done": 1, "error": 0, "cancelled": 0}
    assert body["streams"]["active"] == 0 and body["journal"]["streams"] == 1
    assert list(body["sinks"]) == ["websocket", "centrifugo"]
    assert set(body["sinks"]["websocket"]) == {
        "connections", "connections_total", "subscriptions", "channels", "publications_total", "history_bytes",
        "history_evictions_total", "slow_disconnects_total", "queued_bytes", "queued_bytes_max",
    }
    assert body["sinks"]["centrifugo"] == {
        "publications_total": events, "requests_total": body["sinks"]["centrifugo"]["requests_total"], "retries_total": 0,
        "failed_streams_total": 0, "dropped_total": 0, "pending": 0,
    }
    assert body["sinks"]["centrifugo"]["requests_total"] >= 1
    assert body["tokens"]["publications_total"] == events
    assert body["ttft_ms"]["count"] == 1 and body["ttft_ms"]["p50"] > 0


def result_events(bridge, uid: str) -> int:
    """How many events the stream had (each one publication on the channel server)."""
    with bridge.client() as http:
        with http.stream("GET", f"/v1/streams/{uid}") as response:
            return sum(1 for line in response.iter_lines() if line.startswith("id:"))


# MARK: - Weight


def test_both_pages_load_under_100_kb_from_the_bridge_alone(start_bridge, page: Page) -> None:
    bridge = start_bridge(paced(5, 0))
    total = 0
    for path in ("/", "/dashboard.html"):
        page.open(bridge, path)
        page.wait(lambda: page.js("return document.readyState === 'complete'"), f"{path} to load")
        loaded = page.js("""return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
            .map((e) => ({name: e.name, size: e.decodedBodySize}))""")
        assert all(entry["name"].startswith(bridge.base_url) for entry in loaded), f"a request left the bridge: {loaded}"
        assert all(entry["size"] > 0 for entry in loaded), loaded
        total += sum(entry["size"] for entry in loaded)
    assert total < PAGE_BUDGET, f"the two pages weigh {total} bytes together"
    page.assert_console_clean()


# MARK: - The protocol client against a scripted server


class FramingServer:
    """A Centrifugo-protocol WebSocket server that answers a subscribe and pushes the next
    publication in the same frame (as a server batching replies and pushes does), then one more
    in a frame of its own."""

    def __init__(self) -> None:
        self.port = 0
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="framing-server", daemon=True)

    async def _serve(self, socket) -> None:
        async for text in socket:
            for line in text.split("\n"):
                command = json.loads(line)
                if "connect" in command:
                    await socket.send(json.dumps({"id": command["id"], "connect": {"client": "c1", "version": "test"}}))
                elif "subscribe" in command:
                    channel = command["subscribe"]["channel"]
                    reply = {"id": command["id"], "subscribe": {
                        "recoverable": True, "positioned": True, "epoch": "E", "offset": 0, "recovered": True,
                        "was_recovering": True, "publications": [{"data": {"n": 1}, "offset": 1}]}}
                    live = {"push": {"channel": channel, "pub": {"data": {"n": 2}, "offset": 2}}}
                    await socket.send(json.dumps(reply) + "\n" + json.dumps(live))
                    await socket.send(json.dumps({"push": {"channel": channel, "pub": {"data": {"n": 3}, "offset": 3}}}))

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.stopping = self.loop.create_future()

        async def main() -> None:
            async with websockets.serve(self._serve, "127.0.0.1", 0) as server:
                self.port = server.sockets[0].getsockname()[1]
                self.ready.set()
                await self.stopping

        self.loop.run_until_complete(main())
        self.loop.close()

    def __enter__(self) -> "FramingServer":
        self.thread.start()
        assert self.ready.wait(10), "the scripted server did not start"
        return self

    def __exit__(self, *exc: Any) -> None:
        self.loop.call_soon_threadsafe(self.stopping.set_result, None)
        self.thread.join(scaled(10))


def test_a_publication_in_the_same_frame_as_the_subscribe_reply_is_delivered(start_bridge, page: Page) -> None:
    """The reply is applied before the frame's next line: the live publication after it is
    neither dropped (as while still subscribing) nor later taken for a gap."""
    bridge = start_bridge(paced(5, 0))
    page.open(bridge)
    page.wait(lambda: page.js("return document.readyState === 'complete'"), "the page to load")
    with FramingServer() as server:
        page.js(f"""
            window.__framing = {{seen: [], sub: null}};
            import('/channel-client.js').then(({{ChannelClient}}) => {{
              const client = new ChannelClient('ws://127.0.0.1:{server.port}/');
              const sub = client.newSubscription('news', {{since: {{offset: 0, epoch: ''}}}});
              sub.on('publication', ({{data, offset}}) => window.__framing.seen.push([offset, data.n]));
              window.__framing.sub = sub;
              sub.subscribe();
              client.connect();
            }});""")
        seen = page.wait(lambda: (lambda s: s if len(s) >= 3 else None)(page.js("return window.__framing.seen")),
                         "three publications")
        stats_ = page.js("return window.__framing.sub.stats")
    assert seen == [[1, 1], [2, 2], [3, 3]], seen
    assert stats_["gaps"] == 0 and stats_["duplicates"] == 0 and stats_["subscribes"] == 1, stats_
