"""The official `openai` Python SDK against the bridge: with the simulated model in-process, and with
the bridge calling `tokenbridge mock-llm` over HTTP (the real libcurl upstream path)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import openai
import pytest

from conftest import Bridge, unique_uid

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Explain token streaming in one paragraph."},
]


@dataclass
class Streamed:
    content: str = ""
    finish_reasons: list[str] = field(default_factory=list)
    usage: object = None
    ids: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)
    chunks: int = 0
    reasoning: str = ""


def stream_sdk(client: openai.OpenAI, **kwargs) -> Streamed:
    out = Streamed()
    parts: list[str] = []
    for chunk in client.chat.completions.create(stream=True, **kwargs):
        out.chunks += 1
        out.ids.add(chunk.id)
        out.objects.add(chunk.object)
        if chunk.usage:
            out.usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                parts.append(choice.delta.content)
            extra = choice.delta.model_extra or {}
            out.reasoning += extra.get("reasoning_content") or extra.get("reasoning") or ""
            if choice.finish_reason:
                out.finish_reasons.append(choice.finish_reason)
    out.content = "".join(parts)
    return out


def assert_usage(usage) -> None:
    assert usage is not None, "usage missing"
    assert usage.completion_tokens > 0, usage
    assert usage.prompt_tokens >= 0, usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens, usage


# MARK: - Simulated model


def test_streaming_with_usage(bridge: Bridge, uid: str) -> None:
    client = bridge.openai()
    result = stream_sdk(
        client, model="sim", messages=MESSAGES, stream_options={"include_usage": True}, extra_body={"uid": uid}
    )
    assert result.content.strip(), "no content streamed"
    assert result.finish_reasons == ["stop"]
    assert result.objects == {"chat.completion.chunk"}
    assert len(result.ids) == 1, f"every chunk of one stream carries the same id: {result.ids}"
    assert_usage(result.usage)
    assert result.chunks > 3, "the answer should arrive as several chunks, not one"
    bridge.ping()


def test_streaming_without_include_usage_has_no_usage_chunk(bridge: Bridge, uid: str) -> None:
    result = stream_sdk(bridge.openai(), model="sim", messages=MESSAGES, extra_body={"uid": uid})
    assert result.content.strip()
    assert result.usage is None, f"usage was not asked for: {result.usage}"


def test_non_streaming_matches_streaming(bridge: Bridge) -> None:
    client = bridge.openai()
    streamed = stream_sdk(client, model="sim", messages=MESSAGES, extra_body={"uid": unique_uid()})
    completion = client.chat.completions.create(
        model="sim", messages=MESSAGES, stream=False, extra_body={"uid": unique_uid()}
    )
    assert completion.object == "chat.completion"
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    assert choice.message.content == streamed.content, "the simulated model is deterministic per prompt"
    assert_usage(completion.usage)


def test_models_list(bridge: Bridge) -> None:
    models = bridge.openai().models.list()
    ids = [m.id for m in models.data]
    assert ids and all(isinstance(i, str) and i for i in ids), ids


def test_raw_response_carries_stream_id(bridge: Bridge, uid: str) -> None:
    client = bridge.openai()
    raw = client.chat.completions.with_raw_response.create(
        model="sim", messages=MESSAGES, stream=False, extra_body={"uid": uid}
    )
    assert raw.headers.get("x-stream-id") == uid
    assert raw.parse().choices[0].message.content

    raw = client.chat.completions.with_raw_response.create(
        model="sim", messages=MESSAGES, stream=True, extra_body={"uid": uid + "-s"}
    )
    assert raw.headers.get("x-stream-id") == uid + "-s"
    assert raw.headers.get("content-type", "").startswith("text/event-stream")
    assert raw.headers.get("cache-control") == "no-cache"
    assert raw.headers.get("x-accel-buffering") == "no"
    text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    assert text


def test_generated_stream_id_is_uuid4(bridge: Bridge) -> None:
    client = bridge.openai()
    for stream in (False, True):
        raw = client.chat.completions.with_raw_response.create(model="sim", messages=MESSAGES, stream=stream)
        assert UUID4.match(raw.headers.get("x-stream-id", "")), raw.headers
        if stream:
            for _ in raw.parse():
                pass


def test_concurrent_streams_are_complete_and_identical(bridge: Bridge) -> None:
    client = bridge.openai()
    reference = client.chat.completions.create(model="sim", messages=MESSAGES, extra_body={"uid": unique_uid()})
    expected = reference.choices[0].message.content

    def one(_: int) -> Streamed:
        return stream_sdk(client, model="sim", messages=MESSAGES, extra_body={"uid": unique_uid("conc")})

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(32)))
    for result in results:
        assert result.finish_reasons == ["stop"]
        assert result.content == expected, "a concurrent stream lost, duplicated or reordered tokens"
    bridge.ping()


def test_reasoning_never_leaks_into_content(start_bridge) -> None:
    bridge = start_bridge({"llm": {"simulated": {"reasoning": True}}})
    client = bridge.openai()
    streamed = stream_sdk(client, model="sim", messages=MESSAGES, extra_body={"uid": unique_uid()})
    assert streamed.content.strip()
    assert "<think>" not in streamed.content and "</think>" not in streamed.content, streamed.content[:300]
    completion = client.chat.completions.create(model="sim", messages=MESSAGES, extra_body={"uid": unique_uid()})
    content = completion.choices[0].message.content
    assert "<think>" not in content and "</think>" not in content, content[:300]
    assert content == streamed.content


# MARK: - Through tokenbridge mock-llm (libcurl upstream)


@pytest.fixture
def mock_setup(start_bridge, start_mock_llm):
    mock = start_mock_llm(rate=0, tokens=40)
    bridge = start_bridge({"llm": {"provider": "openai", "url": mock.url, "model": "mock-model", "retries": 0}})
    return bridge, mock


def test_mock_llm_stream_and_non_stream(mock_setup, uid: str) -> None:
    bridge, _ = mock_setup
    client = bridge.openai()
    streamed = stream_sdk(
        client, model="mock-model", messages=MESSAGES, stream_options={"include_usage": True}, extra_body={"uid": uid}
    )
    assert streamed.content.strip()
    assert streamed.finish_reasons == ["stop"]
    assert_usage(streamed.usage)
    raw = client.chat.completions.with_raw_response.create(
        model="mock-model", messages=MESSAGES, extra_body={"uid": uid + "-n"}
    )
    assert raw.headers.get("x-stream-id") == uid + "-n"
    completion = raw.parse()
    assert completion.choices[0].message.content == streamed.content
    assert completion.choices[0].finish_reason == "stop"
    assert_usage(completion.usage)
    assert completion.usage.completion_tokens == streamed.usage.completion_tokens


def test_mock_llm_through_bridge_equals_direct(mock_setup) -> None:
    """No token lost or duplicated on the way: the bridge's answer is the model server's answer."""
    bridge, mock = mock_setup
    direct = openai.OpenAI(base_url=mock.url, api_key="x", max_retries=0, timeout=30)
    direct_stream = stream_sdk(direct, model="mock-model", messages=MESSAGES)
    via_bridge = stream_sdk(bridge.openai(), model="mock-model", messages=MESSAGES, extra_body={"uid": unique_uid()})
    assert direct_stream.content.strip()
    assert via_bridge.content == direct_stream.content
    assert via_bridge.finish_reasons == direct_stream.finish_reasons == ["stop"]


def test_mock_llm_max_tokens_caps_answer(mock_setup) -> None:
    bridge, _ = mock_setup
    client = bridge.openai()
    full = client.chat.completions.create(model="mock-model", messages=MESSAGES, extra_body={"uid": unique_uid()})
    capped = client.chat.completions.create(
        model="mock-model", messages=MESSAGES, max_tokens=5, extra_body={"uid": unique_uid()}
    )
    assert full.usage.completion_tokens > 5
    assert 0 < capped.usage.completion_tokens <= 5, capped.usage
    assert len(capped.choices[0].message.content) < len(full.choices[0].message.content)
    assert capped.choices[0].finish_reason == "length", capped.choices[0]


def test_mock_llm_models_list_through_bridge(mock_setup) -> None:
    bridge, mock = mock_setup
    direct = openai.OpenAI(base_url=mock.url, api_key="x", max_retries=0, timeout=30).models.list()
    via_bridge = bridge.openai().models.list()
    direct_ids = {m.id for m in direct.data}
    assert direct_ids, "mock-llm lists no model"
    assert direct_ids <= {m.id for m in via_bridge.data}


def test_mock_llm_concurrent_streams(mock_setup) -> None:
    bridge, _ = mock_setup
    client = bridge.openai()
    expected = client.chat.completions.create(
        model="mock-model", messages=MESSAGES, extra_body={"uid": unique_uid()}
    ).choices[0].message.content

    def one(_: int) -> Streamed:
        return stream_sdk(client, model="mock-model", messages=MESSAGES, extra_body={"uid": unique_uid("mc")})

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(48)))
    assert all(r.content == expected and r.finish_reasons == ["stop"] for r in results), [
        (len(r.content), r.finish_reasons) for r in results if r.content != expected
    ][:5]
    bridge.ping()


def test_streams_reuse_one_keep_alive_connection(bridge: Bridge) -> None:
    """SSE answers use chunked framing, so one TCP connection carries stream after stream (as
    OpenAI's and Ollama's do); a response that closed the connection would fail the second send."""
    import socket

    body = b'{"messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":5}'
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=10) as sock:
        for _ in range(3):
            sock.sendall(request)
            received = b""
            while not received.endswith(b"0\r\n\r\n"):
                chunk = sock.recv(65536)
                assert chunk, "the bridge closed the connection after a stream"
                received += chunk
            head = received.split(b"\r\n\r\n", 1)[0].lower()
            assert head.startswith(b"http/1.1 200")
            assert b"transfer-encoding: chunked" in head
            assert b"connection: close" not in head
            assert b"data: [DONE]" in received


def test_http10_client_gets_a_close_delimited_stream(bridge: Bridge) -> None:
    """HTTP/1.0 has no chunked framing: the stream is the body up to the connection's close."""
    import socket

    body = b'{"messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":5}'
    request = (
        b"POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\n"
        + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    assert head.lower().startswith(b"http/1.0 200")
    assert b"transfer-encoding" not in head.lower()
    assert payload.startswith(b"data: {") and payload.endswith(b"data: [DONE]\n\n")
