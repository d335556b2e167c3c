"""The bridge against a scripted model server: retries, timeouts, drops, cancellation, pass-through.

The scripted upstream chooses its behaviour from the `model` name (see scripted_upstream.py) and
records every request, so each test asserts on what the model server really saw.
"""

from __future__ import annotations

import json
import socket
import time

import httpx
import openai
import pytest

from conftest import Bridge, chat_body, free_port, scripted_config, wait_until
from scripted_upstream import TOOL_CALLS, ScriptedUpstream, tokens_text
from sse import assert_clean_finish, assert_error_json, assert_error_terminal, iter_sse, stream_chat
from timing import scaled

CHAT = "/v1/chat/completions"
FULL = tokens_text(5)
STREAM_MODES = pytest.mark.parametrize("stream", [True, False], ids=["stream", "plain"])


def complete(bridge: Bridge, body: dict) -> httpx.Response:
    with bridge.client(timeout=30.0) as client:
        return client.post(CHAT, json={**body, "stream": False})


def content_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion", body
    return body["choices"][0]["message"]["content"]


# MARK: - Retries


@STREAM_MODES
def test_500_then_success_is_retried(start_bridge, upstream: ScriptedUpstream, uid: str, stream: bool) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=2))
    body = chat_body(model="script-500-then-ok", uid=uid)
    if stream:
        result = stream_chat(bridge.client(), body)
        assert_clean_finish(result)
        assert result.content == FULL
    else:
        assert content_of(complete(bridge, body)) == FULL
    seen = upstream.for_model("script-500-then-ok")
    assert [r.step for r in seen] == ["500", "ok"], upstream.describe()


def test_429_retry_after_is_honoured(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=2, retry_backoff="50ms"))
    result = stream_chat(bridge.client(), chat_body(model="script-429-then-ok", uid=uid))
    assert_clean_finish(result)
    assert result.content == FULL
    first, second = upstream.for_model("script-429-then-ok")
    gap = second.arrived - first.arrived
    assert gap >= 0.9, f"the retry came {gap:.3f}s after a 429 with Retry-After: 1"


@STREAM_MODES
def test_500_until_retries_run_out(start_bridge, upstream: ScriptedUpstream, uid: str, stream: bool) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=2))
    body = chat_body(model="script-500", uid=uid)
    if stream:
        error = assert_error_terminal(stream_chat(bridge.client(), body), "upstream_error")
        assert "500" in error["message"], error
    else:
        error = assert_error_json(complete(bridge, body), 502)
        assert error["code"] == "upstream_error" and "500" in error["message"], error
    assert len(upstream.for_model("script-500")) == 3, "one try plus two retries: " + upstream.describe()
    bridge.ping()


def test_no_retry_when_retries_is_zero(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=0))
    assert_error_terminal(stream_chat(bridge.client(), chat_body(model="script-503", uid=uid)), "upstream_error")
    assert len(upstream.for_model("script-503")) == 1, upstream.describe()


# MARK: - Upstream 4xx


def test_upstream_400_passes_through_non_streaming(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=2))
    error = assert_error_json(complete(bridge, chat_body(model="script-400", uid=uid)), 400)
    assert "scripted upstream failure 400" in error["message"], error
    assert len(upstream.for_model("script-400")) == 1, "a 400 is not retried: " + upstream.describe()
    bridge.ping()


def test_upstream_400_while_streaming(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=2))
    error = assert_error_terminal(stream_chat(bridge.client(), chat_body(model="script-400", uid=uid)), "upstream_error")
    assert "400" in error["message"] and "scripted upstream failure 400" in error["message"], error
    assert len(upstream.for_model("script-400")) == 1, upstream.describe()


# MARK: - Timeouts


@pytest.mark.parametrize("step", ["silent", "blackhole"])
def test_first_token_timeout(start_bridge, upstream: ScriptedUpstream, uid: str, step: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=0, timeouts={"first_token": "1s"}))
    result = stream_chat(bridge.client(), chat_body(model=f"script-{step}", uid=uid))
    error = assert_error_terminal(result, "upstream_timeout")
    # The connection is up at once, so the unused connect budget (2 s here) must not extend the wait.
    assert 0.9 <= result.elapsed < 1.0 + scaled(1.0), f"timed out after {result.elapsed:.2f}s with first_token: 1s ({error})"
    # The bridge gave up on the transfer: the model server sees the connection go.
    upstream.wait_for(
        lambda: (seen := upstream.snapshot()) and all(r.aborted for r in seen), 2.0, "the timed-out transfer to close"
    )
    assert len(upstream.snapshot()) == 1, upstream.describe()


def test_first_token_timeout_non_streaming_is_504(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=0, timeouts={"first_token": "1s"}))
    started = time.monotonic()
    error = assert_error_json(complete(bridge, chat_body(model="script-silent", uid=uid)), 504)
    assert error["code"] == "upstream_timeout", error
    elapsed = time.monotonic() - started
    assert elapsed < 1.0 + scaled(1.0), f"504 after {elapsed:.2f}s with first_token: 1s"


def test_idle_timeout_after_some_tokens(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=2, timeouts={"first_token": "10s", "idle": "1s"}))
    result = stream_chat(bridge.client(), chat_body(model="script-stall2", uid=uid))
    assert_error_terminal(result, "upstream_timeout")
    assert result.content == tokens_text(2), result.describe()
    assert result.elapsed < scaled(5.0)
    assert len(upstream.snapshot()) == 1, "no retry once tokens were delivered: " + upstream.describe()


def test_total_timeout(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=2, timeouts={"total": "1500ms"}))
    result = stream_chat(bridge.client(), chat_body(model="script-slow", uid=uid))
    assert_error_terminal(result, "upstream_timeout")
    assert result.content.startswith(tokens_text(3)), result.describe()
    assert 1.4 <= result.elapsed < 1.5 + scaled(1.5), f"ended after {result.elapsed:.2f}s with total: 1500ms"
    upstream.wait_for(lambda: upstream.snapshot()[0].aborted, 2.0, "the transfer to be closed")
    assert len(upstream.snapshot()) == 1


# MARK: - Failures mid-stream


@pytest.mark.parametrize("step", ["drop3", "reset3"])
def test_drop_mid_stream(start_bridge, upstream: ScriptedUpstream, uid: str, step: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=2))
    result = stream_chat(bridge.client(), chat_body(model=f"script-{step}", uid=uid))
    assert_error_terminal(result, "upstream_disconnected")
    assert result.content == tokens_text(3), "the tokens sent before the drop arrive, once: " + result.describe()
    assert len(upstream.snapshot()) == 1, "no retry once tokens were delivered: " + upstream.describe()
    bridge.ping()


def test_drop_mid_stream_with_the_sdk(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=2))
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in bridge.openai().chat.completions.create(
            model="script-drop3", messages=chat_body()["messages"], stream=True, extra_body={"uid": uid}
        ):
            received.extend(c.delta.content or "" for c in chunk.choices)
    assert "".join(received) == tokens_text(3)
    assert caught.value.code == "upstream_disconnected", caught.value.body


def test_drop_non_streaming_is_502(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=0))
    error = assert_error_json(complete(bridge, chat_body(model="script-drop3", uid=uid)), 502)
    assert error["code"] == "upstream_disconnected", error


def test_error_event_mid_stream(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, retries=2))
    result = stream_chat(bridge.client(), chat_body(model="script-errchunk2", uid=uid))
    error = assert_error_terminal(result, "upstream_error")
    assert "scripted mid-stream failure" in error["message"], error
    assert result.content == tokens_text(2)


# MARK: - Stream shapes from real model servers


@STREAM_MODES
def test_ragged_sse_from_upstream(start_bridge, upstream: ScriptedUpstream, uid: str, stream: bool) -> None:
    """CRLF line ends, comment lines and one byte per TCP segment decode to the same answer."""
    bridge = start_bridge(scripted_config(upstream))
    body = chat_body(model="script-ragged", uid=uid)
    if stream:
        result = stream_chat(bridge.client(), body)
        assert_clean_finish(result)
        assert result.content == FULL
    else:
        assert content_of(complete(bridge, body)) == FULL


@STREAM_MODES
@pytest.mark.parametrize("step", ["reasoning", "think"])
def test_upstream_reasoning_stays_out_of_content(
    start_bridge, upstream: ScriptedUpstream, uid: str, step: str, stream: bool
) -> None:
    bridge = start_bridge(scripted_config(upstream))
    body = chat_body(model=f"script-{step}", uid=uid)
    if stream:
        result = stream_chat(bridge.client(), body)
        assert_clean_finish(result)
        content = result.content
    else:
        content = content_of(complete(bridge, body))
    assert content.strip() == FULL.strip(), f"reasoning leaked or answer lost: {content!r}"


def assemble_tool_calls(chunks: list[dict]) -> list[dict]:
    calls: dict[int, dict] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or []:
            for piece in (choice.get("delta") or {}).get("tool_calls") or []:
                call = calls.setdefault(piece["index"], {"id": None, "type": None,
                                                         "function": {"name": "", "arguments": ""}})
                call["id"] = piece.get("id") or call["id"]
                call["type"] = piece.get("type") or call["type"]
                function = piece.get("function") or {}
                call["function"]["name"] += function.get("name") or ""
                call["function"]["arguments"] += function.get("arguments") or ""
    return [calls[i] for i in sorted(calls)]


def test_tool_calls_streaming(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream))
    result = stream_chat(bridge.client(), chat_body(model="script-tools", uid=uid))
    assert result.payloads[-1] == "[DONE]" and not result.errors, result.describe()
    assert result.finish_reasons == ["tool_calls"], result.describe()
    assert assemble_tool_calls(result.chunks) == TOOL_CALLS, result.describe()


def test_tool_calls_non_streaming(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream))
    completion = bridge.openai().chat.completions.create(
        model="script-tools", messages=chat_body()["messages"], extra_body={"uid": uid}
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls", choice
    calls = [{"id": c.id, "type": c.type, "function": {"name": c.function.name, "arguments": c.function.arguments}}
             for c in choice.message.tool_calls or []]
    assert calls == TOOL_CALLS


# MARK: - Unreachable model server


@pytest.mark.parametrize("retries", [0, 1])
def test_unreachable_upstream(start_bridge, uid: str, retries: int) -> None:
    """Connection refused is instant, so this also catches races between starting a transfer and
    its completion: every one of several calls must end, and quickly."""
    closed = f"http://127.0.0.1:{free_port()}/v1"
    bridge = start_bridge({"llm": {"provider": "openai", "url": closed, "model": "m", "retries": retries,
                                   "retry_backoff": "50ms", "timeouts": {"connect": "1s"}}})
    with bridge.client(timeout=5.0) as client:
        for i in range(20):
            started = time.monotonic()
            try:
                if i % 2:
                    error = assert_error_json(client.post(CHAT, json=chat_body(uid=f"{uid}-{i}")), 503)
                    assert error["code"] == "upstream_unavailable", error
                else:
                    assert_error_terminal(stream_chat(client, chat_body(uid=f"{uid}-{i}")), "upstream_unavailable")
            except httpx.ReadTimeout:
                pytest.fail(f"call {i} ({'plain' if i % 2 else 'stream'}) to an unreachable model server never ended")
            assert time.monotonic() - started < scaled(3.0)
        health = client.get("/health")
    assert health.status_code == 503, health.text
    assert isinstance(health.json(), dict)
    bridge.ping()


def test_health_ok_with_reachable_upstream(start_bridge, upstream: ScriptedUpstream) -> None:
    bridge = start_bridge(scripted_config(upstream))
    with bridge.client() as client:
        health = client.get("/health")
    assert health.status_code == 200, health.text
    assert isinstance(health.json(), dict)


# MARK: - Client disconnect


def _open_stream(port: int, body: dict) -> socket.socket:
    data = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n".encode() + data
    )
    return sock


@STREAM_MODES
def test_client_disconnect_aborts_upstream(start_bridge, upstream: ScriptedUpstream, uid: str, stream: bool) -> None:
    bridge = start_bridge(scripted_config(upstream))
    sock = _open_stream(bridge.port, chat_body(model="script-slow", uid=uid, stream=stream))
    try:
        if stream:
            received = b""
            while b"t1 " not in received:  # two tokens reached the client
                chunk = sock.recv(65536)
                assert chunk, f"the bridge closed the stream early: {received[-500:]!r}"
                received += chunk
        else:
            upstream.wait_for(lambda: any(r.tokens_sent >= 2 for r in upstream.snapshot()), 10, "tokens to flow")
    finally:
        closed_at = time.monotonic()
        sock.close()
    record = upstream.wait_for(
        lambda: next((r for r in upstream.snapshot() if r.aborted), None), 5.0, "the upstream transfer to be aborted"
    )
    lag = record.ended_at - closed_at
    assert lag <= 1.25, f"the upstream saw the abort {lag:.3f}s after the client left (limit 1 s)"
    assert not record.finished
    wait_until(lambda: bridge.health().get("checks", {}).get("pipeline", {}).get("active_streams", 0) == 0,
               2.0, "the stream to leave the pipeline")
    bridge.ping()


def test_client_disconnect_with_httpx(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream))
    with bridge.client() as client:
        with client.stream("POST", CHAT, json=chat_body(model="script-slow", uid=uid, stream=True)) as response:
            for kind, value in iter_sse(response):
                if kind == "data" and "t1 " in value:
                    break
        closed_at = time.monotonic()
    record = upstream.wait_for(
        lambda: next((r for r in upstream.snapshot() if r.aborted), None), 5.0, "the upstream transfer to be aborted"
    )
    assert record.ended_at - closed_at <= 1.25, f"abort seen after {record.ended_at - closed_at:.3f}s"


# MARK: - SSE keep-alive


def test_sse_keepalive_comments_while_model_is_silent(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge({**scripted_config(upstream, retries=0, timeouts={"first_token": "20s"}),
                           "server": {"sse_keepalive": "1s"}})
    started = time.monotonic()
    data: list[str] = []
    comments: list[float] = []
    with bridge.client(timeout=5.0) as client:
        with client.stream("POST", CHAT, json=chat_body(model="script-silent", uid=uid, stream=True)) as response:
            assert response.status_code == 200
            assert response.headers.get("cache-control") == "no-cache"
            assert response.headers.get("x-accel-buffering") == "no"
            for kind, value in iter_sse(response):
                if kind == "comment":
                    comments.append(time.monotonic() - started)
                    if len(comments) == 2:
                        break
                else:
                    data.append(value)
                assert time.monotonic() - started < 5.0, f"comments at {comments}; data {data}"
            else:
                pytest.fail(f"the stream ended: comments at {comments}; data {data}")
    # Periodic, not a one-off: two comments, about sse_keepalive apart.
    assert comments[1] - comments[0] >= 0.5, f"keep-alive comments at {comments} with sse_keepalive: 1s"
    assert comments[1] < 4.0, f"keep-alive comments at {comments} with sse_keepalive: 1s"
    assert "[DONE]" not in data and not any('"content":"t' in p for p in data), data


# MARK: - What the model server receives


SAMPLING = {
    "temperature": 0.3,
    "max_tokens": 7,
    "top_p": 0.9,
    "stop": ["\n\n", "END"],
    "seed": 42,
    "response_format": {"type": "json_object"},
    "tools": [{"type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "presence_penalty": 0.5,
    "frequency_penalty": -0.25,
    "logit_bias": {"50256": -100},
    "user": "end-user-7",
    "metadata": {"k": "v", "nested": {"a": [1, 2.5, None, True]}},
}


@STREAM_MODES
def test_sampling_fields_pass_through(start_bridge, upstream: ScriptedUpstream, uid: str, stream: bool) -> None:
    bridge = start_bridge(scripted_config(upstream))
    messages = [{"role": "system", "content": "Be brief. ünïcødé ✓"}, {"role": "user", "content": "Hi \"there\"\n"}]
    body = {"model": "script-echo", "messages": messages, "uid": uid, "username": "alice", **SAMPLING}
    if stream:
        body["stream_options"] = {"include_usage": True}
        assert_clean_finish(stream_chat(bridge.client(), body))
    else:
        content_of(complete(bridge, body))
    (seen,) = upstream.snapshot()
    sent = seen.json
    assert seen.method == "POST" and seen.path == "/v1/chat/completions", seen.summary()
    for key, value in SAMPLING.items():
        assert sent.get(key) == value, f"{key}: sent {value!r}, upstream got {sent.get(key)!r}"
    assert sent["messages"] == messages
    assert sent["model"] == "script-echo"
    assert sent.get("stream") is True, "the bridge always streams from the model server"
    if stream:
        assert sent.get("stream_options") == {"include_usage": True}
    assert "uid" not in sent and "username" not in sent, f"bridge fields leaked upstream: {sorted(sent)}"


def test_model_forwarded_unchanged(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream))
    content_of(complete(bridge, chat_body(model="org/Some-Model:Q4_K_M", uid=uid)))
    assert upstream.snapshot()[0].model == "org/Some-Model:Q4_K_M"


def test_configured_model_when_request_names_none(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, model="script-configured"))
    body = chat_body(uid=uid)
    del body["model"]
    assert content_of(complete(bridge, body)) == FULL
    result = stream_chat(bridge.client(), {**body, "uid": uid + "-s"})
    assert_clean_finish(result)
    assert [r.model for r in upstream.snapshot()] == ["script-configured", "script-configured"]


def test_force_model_overrides_the_request(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, model="script-forced", force_model=True))
    assert content_of(complete(bridge, chat_body(model="script-500", uid=uid))) == FULL
    assert [r.model for r in upstream.snapshot()] == ["script-forced"], upstream.describe()


def test_upstream_api_key_is_sent(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream, api_key="sk-upstream-secret"))
    content_of(complete(bridge, chat_body(model="script-ok", uid=uid)))
    assert upstream.snapshot()[0].headers.get("authorization") == "Bearer sk-upstream-secret"


def test_non_streaming_through_upstream_has_usage(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(scripted_config(upstream))
    response = complete(bridge, chat_body(model="script-ok8", uid=uid))
    assert content_of(response) == tokens_text(8)
    assert response.headers.get("x-stream-id") == uid
    usage = response.json().get("usage")
    assert usage and usage["completion_tokens"] > 0, response.json()
    assert response.json()["choices"][0]["finish_reason"] == "stop"


def test_openai_env_overrides(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    """chatgpt-queue's variable names keep working."""
    bridge = start_bridge(
        {"llm": {"provider": "openai"}},
        env={"OPENAI_URL": upstream.url, "OPENAI_MODEL": "script-from-env", "OPENAI_API_KEY": "sk-env"},
    )
    body = chat_body(uid=uid)
    del body["model"]
    assert content_of(complete(bridge, body)) == FULL
    (seen,) = upstream.snapshot()
    assert seen.model == "script-from-env"
    assert seen.headers.get("authorization") == "Bearer sk-env"


def test_tokenbridge_env_overrides(start_bridge, upstream: ScriptedUpstream, uid: str) -> None:
    bridge = start_bridge(
        {"llm": {"provider": "simulated"}},
        env={"TOKENBRIDGE_LLM_PROVIDER": "openai", "TOKENBRIDGE_LLM_URL": upstream.url,
             "TOKENBRIDGE_LLM_MODEL": "script-tb-env"},
    )
    body = chat_body(uid=uid)
    del body["model"]
    assert content_of(complete(bridge, body)) == FULL
    assert [r.model for r in upstream.snapshot()] == ["script-tb-env"]
