"""Seeded mutations of valid input, thrown at a running bridge: chat requests over HTTP and protocol
commands over the channel WebSocket (prompts on `chat_incoming` have the poison tests).
Each answer must be a well-formed success or a well-formed refusal (an OpenAI-shaped error, a
reply error, a close code); the process must stay up and go on serving. The seeds are fixed, so a
failure names the input that caused it and reruns the same way."""

from __future__ import annotations

import asyncio
import copy
import json
import random
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import websockets

from channels import RawSocket

SEED = 20261201
HTTP_CASES = 500
WS_CASES = 300
RAW_CASES = 300

VALID_BODIES: list[dict] = [
    {"messages": [{"role": "user", "content": "Hello"}]},
    {"model": "m", "stream": True, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
     "temperature": 0.2, "max_tokens": 8, "top_p": 0.9, "stop": ["\n"], "seed": 7, "stream_options": {"include_usage": True}},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "Describe"}]}], "uid": "fuzz-uid", "username": "ann",
     "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}],
     "tool_choice": "auto", "response_format": {"type": "json_object"}},
    {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}, {"role": "user", "content": "Q2"}],
     "async": True, "sinks": ["websocket"], "on_disconnect": "continue"},
]

ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, 1e308, -0.0, 2**64, "", "x" * 3000, "\u0000", "\ud7ff\ue000", "👍", [], [None], {}, {"": {}},
    [[[[[[[[[[[]]]]]]]]]]], {"role": "user"}, "stream", ["user", 1],
]


def mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """One structural change somewhere in `value`: a replaced, removed or added field or item."""
    if isinstance(value, dict) and value and depth < 6 and rng.random() < 0.7:
        key = rng.choice(list(value))
        out = dict(value)
        choice = rng.random()
        if choice < 0.5:
            out[key] = mutate(value[key], rng, depth + 1)
        elif choice < 0.7:
            del out[key]
        else:
            out[rng.choice(["extra", "messages", "stream", "uid", key + "_", "\u00e9"])] = rng.choice(ODD_VALUES)
        return out
    if isinstance(value, list) and value and depth < 6 and rng.random() < 0.7:
        out = list(value)
        index = rng.randrange(len(out))
        choice = rng.random()
        if choice < 0.5:
            out[index] = mutate(out[index], rng, depth + 1)
        elif choice < 0.7:
            del out[index]
        else:
            out.insert(index, rng.choice(ODD_VALUES))
        return out
    return copy.deepcopy(rng.choice(ODD_VALUES))


def mangle(data: bytes, rng: random.Random) -> bytes:
    """One byte-level change: a flipped byte, a cut, an insertion, or bytes that are not UTF-8."""
    if not data:
        return b"\xff"
    position = rng.randrange(len(data))
    choice = rng.random()
    if choice < 0.3:
        return data[:position] + bytes([data[position] ^ (1 << rng.randrange(8))]) + data[position + 1:]
    if choice < 0.55:
        return data[:position]
    if choice < 0.8:
        return data[:position] + rng.choice([b"\xc3\x28", b"\xed\xa0\x80", b"\x00", b"}", b"\"", b"\\u12", b"[", b"1e99999"]) + data[position:]
    return data + data[position:]


def cases(valid: list[dict], count: int, rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(count):
        body = rng.choice(valid)
        if rng.random() < 0.6:
            for _ in range(rng.randint(1, 3)):
                body = mutate(body, rng)
            out.append(json.dumps(body).encode())
        else:
            out.append(mangle(json.dumps(body).encode(), rng))
    return out


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    from conftest import Registry, launch_bridge

    registry = Registry(tmp_path_factory.mktemp("fuzz"))
    bridge = launch_bridge(registry, registry.log_dir, {
        "llm": {"provider": "simulated", "simulated": {"tokens": 3, "rate": 0}},
        "channels": {"api_insecure": True, "client_publish_namespaces": ["chat"]},
    })
    yield bridge
    alive = bridge.proc.alive()
    registry.stop_all()
    assert alive, "the bridge died during the fuzzing"


def test_mutated_chat_requests_get_an_answer_or_a_clear_error(fuzzed) -> None:
    rng = random.Random(SEED)
    statuses: dict[int, int] = {}
    with fuzzed.client() as http:
        for index, body in enumerate(cases(VALID_BODIES, HTTP_CASES, rng)):
            what = f"case {index}: {body[:300]!r}"
            response = http.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code in (200, 202, 400, 409, 413, 422), (response.status_code, response.text[:300], what)
            if response.status_code >= 400:
                error = response.json()["error"]
                assert isinstance(error["message"], str) and error["message"], what
                assert isinstance(error["type"], str) and error["type"], what
            elif response.headers["content-type"].startswith("text/event-stream"):
                assert response.text.rstrip().endswith("data: [DONE]"), what
            else:
                assert isinstance(response.json(), dict), what
    fuzzed.ping()
    # The mutations reached both sides: some bodies still valid, most refused.
    print("http outcomes", statuses)
    assert statuses.get(200, 0) + statuses.get(202, 0) > 20 and statuses.get(400, 0) > 100, statuses


VALID_COMMANDS: list[dict] = [
    {"id": 2, "subscribe": {"channel": "news", "recover": True, "offset": 0, "epoch": ""}},
    {"id": 3, "publish": {"channel": "chat:room", "data": {"text": "hi"}}},
    {"id": 4, "history": {"channel": "news", "limit": 5, "since": {"offset": 0, "epoch": ""}, "reverse": False}},
    {"id": 5, "presence": {"channel": "news"}},
    {"id": 6, "presence_stats": {"channel": "news"}},
    {"id": 7, "rpc": {"method": "cancel", "data": {"uid": "nothing-here"}}},
    {"id": 8, "unsubscribe": {"channel": "news"}},
    {"id": 9, "refresh": {"token": "x.y.z"}},
    {"id": 10, "sub_refresh": {"channel": "news", "token": "x.y.z"}},
    {"id": 11, "send": {"data": {"x": 1}}},
    {},
]


async def answer_to(socket: RawSocket, command: bytes) -> tuple[str, Any]:
    """('reply', lines) when the server answered or kept still, ('closed', code) when it closed."""
    await socket.socket.send(command.decode("utf-8", errors="replace"))
    # The probe's answer proves the command was dealt with and the connection still serves.
    await socket.send({"id": 99, "presence_stats": {"channel": "probe"}})
    try:
        reply = await socket.reply(99, timeout=5.0)
    except websockets.ConnectionClosed as closed:
        received = closed.rcvd
        return "closed", received.code if received else 1006
    return "reply", reply


def test_mutated_protocol_commands_get_a_reply_error_or_a_close_code(fuzzed) -> None:
    rng = random.Random(SEED + 1)

    async def go() -> dict[str, int]:
        outcomes: dict[str, int] = {}
        socket = await connected(fuzzed)
        for index, command in enumerate(cases(VALID_COMMANDS, WS_CASES, rng)):
            what = f"case {index}: {command[:300]!r}"
            kind, detail = await answer_to(socket, command)
            if kind == "closed":
                # A protocol close (3xxx, 4xxx) or a WebSocket one for bad frames or text.
                assert 3000 <= detail < 5000 or detail in (1002, 1003, 1007, 1009), (detail, what)
                outcomes[f"close {detail}"] = outcomes.get(f"close {detail}", 0) + 1
                socket = await connected(fuzzed)
            else:
                assert "presence_stats" in detail or "error" in detail, (detail, what)
                outcomes["served"] = outcomes.get("served", 0) + 1
            for line in socket.pending:
                if line.get("error"):
                    assert isinstance(line["error"].get("code"), int), (line, what)
            socket.pending = [line for line in socket.pending if "push" in line]
        await socket.close()
        return outcomes

    outcomes = asyncio.run(go())
    print("ws outcomes", outcomes)
    fuzzed.ping()
    assert outcomes.get("served", 0) > 50 and sum(v for k, v in outcomes.items() if k.startswith("close")) > 10, outcomes


async def connected(bridge) -> RawSocket:
    socket = await RawSocket.open(bridge)
    reply = await socket.connect()
    assert "connect" in reply, reply
    return socket


def raw_requests() -> list[bytes]:
    body = json.dumps({"messages": [{"role": "user", "content": "Hi"}], "stream": True}).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in (body[:10], body[10:])) + b"0\r\n\r\n"
    return [
        b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked,
        b"GET /v1/streams/fuzz-uid?after=3&epoch=abc HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 2\r\nAccept: text/event-stream\r\n\r\n",
        b"OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: x\r\nOrigin: http://a.test\r\nAccess-Control-Request-Method: POST\r\n"
        b"Access-Control-Request-Headers: authorization, content-type\r\n\r\n",
        b"GET /connection/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        b"GET /index.html HTTP/1.1\r\nHost: x\r\nRange: bytes=0-10\r\nIf-None-Match: \"x\"\r\n\r\n",
    ]


def mangle_request(request: bytes, rng: random.Random) -> bytes:
    """A byte-level change, or one aimed at HTTP framing: lengths, chunk sizes, headers, paths."""
    choice = rng.random()
    if choice < 0.4:
        return mangle(request, rng)
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if choice < 0.55:
        lines.append(rng.choice([b"Content-Length: -1", b"Content-Length: 99999999999999999999", b"Content-Length: 5",
                                 b"Content-Length: abc", b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip, chunked",
                                 b"X-Big: " + b"a" * 20000, b"Host: y", b": empty-name", b"No-Colon", b"Content-Type: \xff\xfe"]))
    elif choice < 0.7:
        body = rng.choice([b"zz\r\n", b"-5\r\nabc\r\n0\r\n\r\n", b"ffffffffffffffff\r\n", b"3;ext=1\r\nabc\r\n0\r\n\r\n", b"\r\n" * 5]) + body
    elif choice < 0.85:
        method, _, rest = lines[0].partition(b" ")
        path, _, version = rest.partition(b" ")
        path = rng.choice([b"/%00", b"/v1/../../etc/passwd", b"/" + b"a" * 9000, b"/v1/streams/%ff%fe", b"*", b"/v1/chat/completions?x=%",
                           b"//", b"/v1/streams/" + b"u" * 200, path + b"#frag"])
        version = rng.choice([version, b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1 extra", b""])
        lines[0] = b" ".join(part for part in (rng.choice([method, b"PATCH", b"BREW", b"G\x00T"]), path, version) if part)
    else:
        rng.shuffle(lines)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(port: int, request: bytes) -> bytes:
    """Sends `request`, says no more will come, reads until closed. The half-close ends every
    case at once: a cut request is not waited for, and one still being answered is cancelled
    (the bridge takes it as the client leaving), so what is checked is that every answer given
    is well-formed and that nothing brings the server down."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError:
            pass
        return b"".join(chunks)


def test_mangled_raw_requests_get_an_http_answer_or_a_close(fuzzed) -> None:
    rng = random.Random(SEED + 2)
    requests = [mangle_request(rng.choice(raw_requests()), rng) for _ in range(RAW_CASES)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda request: exchange(fuzzed.port, request), requests))
    statuses: dict[str, int] = {}
    for index, (request, answer) in enumerate(zip(requests, answers)):
        what = f"case {index}: {request[:300]!r} -> {answer[:200]!r}"
        if not answer:
            statuses["closed"] = statuses.get("closed", 0) + 1
            continue
        match = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
        assert match, what
        status = int(match.group(1))
        assert status < 500 or status == 503, what
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    print("raw outcomes", statuses)
    fuzzed.ping()
    # Both sides reached: requests still served, and refusals of the bridge's and of lws' own.
    assert sum(v for k, v in statuses.items() if k.startswith("2")) > 50, statuses
    assert sum(v for k, v in statuses.items() if k.startswith("4")) > 30, statuses


API_CALLS: list[tuple[str, dict]] = [
    ("publish", {"channel": "news", "data": {"text": "hi"}, "tags": {"k": "v"}, "idempotency_key": "x"}),
    ("broadcast", {"channels": ["news", "other"], "data": {"n": 1}}),
    ("history", {"channel": "news", "limit": 10, "since": {"offset": 1, "epoch": ""}, "reverse": True}),
    ("history_remove", {"channel": "news"}),
    ("presence", {"channel": "news"}),
    ("presence_stats", {"channel": "news"}),
    ("channels", {"pattern": "n*"}),
    ("info", {}),
    ("subscribe", {"user": "ann", "channel": "news"}),
    ("unsubscribe", {"user": "ann", "channel": "news"}),
    ("disconnect", {"user": "nobody", "disconnect": {"code": 4000, "reason": "x"}}),
    ("refresh", {"user": "ann", "expired": False}),
    ("batch", {"commands": [{"publish": {"channel": "news", "data": {}}}, {"info": {}}]}),
]


def test_mutated_server_api_calls_get_a_result_or_an_error(fuzzed) -> None:
    """Centrifugo's server API (`/api/<method>`): a result, an error object with an integer code,
    or 400 for a body that is not a JSON object; never a crash, never a 5xx."""
    rng = random.Random(SEED + 3)
    outcomes: dict[str, int] = {}
    with fuzzed.client() as http:
        for index in range(300):
            method, params = rng.choice(API_CALLS)
            body = cases([params], 1, rng)[0]
            what = f"case {index}: /api/{method} {body[:300]!r}"
            response = http.post(f"/api/{method}", content=body, headers={"content-type": "application/json"})
            assert response.status_code in (200, 400), (response.status_code, response.text[:300], what)
            if response.status_code == 400:
                outcomes["400"] = outcomes.get("400", 0) + 1
                continue
            answer = response.json()
            assert isinstance(answer, dict), what
            if "error" in answer:
                assert isinstance(answer["error"]["code"], int) and isinstance(answer["error"]["message"], str), what
                outcomes["error"] = outcomes.get("error", 0) + 1
            else:
                assert "result" in answer or "replies" in answer, (answer, what)
                outcomes["result"] = outcomes.get("result", 0) + 1
    print("api outcomes", outcomes)
    fuzzed.ping()
    assert all(outcomes.get(kind, 0) > 20 for kind in ("400", "error", "result")), outcomes
