"""Seeded mutations of valid input, thrown at a running bridge: chat requests over HTTP and protocol
commands over the channel WebSocket (prompts on `chat_incoming` have the poison tests).
Each answer must be a well-formed success or a well-formed refusal (an OpenAI-shaped error, a
reply error, a close code); the process must stay up and go on serving. The seeds are fixed, so a
failure names the input that caused it and reruns the same way."""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest
import websockets

from channels import RawSocket
from mutations import cases, mangle

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
        # 501: a method lws' parser has no name for; no other 5xx is the request's fault.
        assert status < 500 or status in (501, 503), what
        head = answer.partition(b"\r\n\r\n")[0].lower()
        if status >= 400 and status != 403 and b"upgrade: websocket" not in request.lower():
            # Every refusal in the error shape; 403 is lws' own (a malformed % escape in the path),
            # and a refused WebSocket upgrade is plain text, as Centrifugo's is.
            assert b"content-type: application/json" in head, what
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


# MARK: - WebSocket frames


def ws_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, masked: bool = True,
             declared: int | None = None) -> bytes:
    """One client frame (RFC 6455 5.2), optionally lying about its length or left unmasked."""
    length = len(payload) if declared is None else declared
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if masked else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 1 << 16:
        head += bytes([mask_bit | 126]) + length.to_bytes(2, "big")
    else:
        head += bytes([mask_bit | 127]) + length.to_bytes(8, "big")
    if not masked:
        return head + payload
    key = bytes([0x12, 0x34, 0x56, 0x78])
    return head + key + bytes(byte ^ key[index % 4] for index, byte in enumerate(payload))


def broken_frames(rng: random.Random) -> list[tuple[str, bytes]]:
    command = json.dumps({"id": 2, "presence_stats": {"channel": "news"}}).encode()
    choices: list[tuple[str, Callable[[], bytes]]] = [
        ("reserved opcode", lambda: ws_frame(rng.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), command)),
        ("rsv bits", lambda: ws_frame(1, command, rsv=rng.randint(1, 7))),
        ("unmasked", lambda: ws_frame(1, command, masked=False)),
        ("length over the limit", lambda: ws_frame(1, b"{}", declared=rng.choice([1 << 20, 1 << 40, (1 << 63) - 1]))),
        # After a first fragment the sum of what came and what is announced must not overflow.
        ("continuation over the limit", lambda: ws_frame(1, b'{"', fin=False)
         + ws_frame(0, b"id", declared=rng.choice([1 << 20, (1 << 63) - 1, (1 << 63) - 2]))),
        ("long control frame", lambda: ws_frame(9, b"p" * rng.randint(126, 300))),
        ("fragmented control frame", lambda: ws_frame(9, b"ping", fin=False)),
        ("continuation first", lambda: ws_frame(0, command)),
        ("text not UTF-8", lambda: ws_frame(1, b'{"id":2,"presence_stats":{"channel":"\xc3\x28"}}')),
        ("close with a bad code", lambda: ws_frame(8, rng.choice([999, 1004, 1005, 1006, 2999, 5000]).to_bytes(2, "big"))),
        ("close with one byte", lambda: ws_frame(8, b"\x03")),
        ("binary JSON", lambda: ws_frame(2, command)),
        ("text then new text mid-message", lambda: ws_frame(1, command[:5], fin=False) + ws_frame(1, command[5:])),
        ("mangled bytes", lambda: mangle(ws_frame(1, command), rng)),
        ("cut frame", lambda: ws_frame(1, command)[: rng.randint(1, 8)]),
    ]
    return [(name, make()) for name, make in (rng.choice(choices) for _ in range(150))]


def websocket(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=3)
    sock.sendall(b"GET /connection/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    sock.sendall(ws_frame(1, json.dumps({"id": 1, "connect": {"name": "frames"}}).encode()))
    return sock


def whole_frames(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The complete server frames at the start of `data` (opcode, payload), and what follows."""
    frames = []
    while len(data) >= 2:
        length, offset = data[1] & 0x7F, 2
        if length == 126:
            length, offset = int.from_bytes(data[2:4], "big"), 4
        elif length == 127:
            length, offset = int.from_bytes(data[2:10], "big"), 10
        if len(data) < offset + length:
            break
        frames.append((data[0] & 0x0F, data[offset:offset + length]))
        data = data[offset + length:]
    return frames, data


def read_server_frames(sock: socket.socket, until: bytes | None = None) -> tuple[list[tuple[int, bytes]], bool]:
    """Whole server frames until it closes the connection, sends a close frame or a text frame
    holding `until`, or stays quiet for 0.5 s (on loopback its answers take a millisecond);
    (frames, closed)."""
    sock.settimeout(0.5)
    frames: list[tuple[int, bytes]] = []
    pending = b""
    try:
        while chunk := sock.recv(65536):
            complete, pending = whole_frames(pending + chunk)
            frames += complete
            if any(opcode == 8 or (until is not None and opcode == 1 and until in payload) for opcode, payload in complete):
                return frames, False
        return frames, True
    except socket.timeout:
        return frames, False
    except OSError:
        return frames, True


def test_broken_websocket_frames_end_in_a_close_and_nothing_else(fuzzed) -> None:
    rng = random.Random(SEED + 4)
    outcomes: dict[str, int] = {}
    for index, (name, frame) in enumerate(broken_frames(rng)):
        what = f"case {index} ({name}): {frame[:80]!r}"
        sock = websocket(fuzzed.port)
        try:
            # After the broken frame a probe: its answer means the connection still serves.
            sock.sendall(frame + ws_frame(1, json.dumps({"id": 3, "presence_stats": {"channel": "probe"}}).encode()))
            frames, closed = read_server_frames(sock, until=b'"id":3')
        finally:
            sock.close()
        closes = [payload for opcode, payload in frames if opcode == 8]
        for payload in closes:
            # lws answers a close without a code (or with a one-byte payload) with an empty one,
            # and any other close with the client's own code.
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            echoed = name == "close with a bad code" and frame[6:8] == bytes(b ^ k for b, k in zip(payload[:2], b"\x12\x34"))
            assert echoed or code in (1000, 1002, 1003, 1005, 1007, 1008, 1009, 1011) or 3000 <= code < 5000, (code, what)
        if name in ("length over the limit", "continuation over the limit"):
            assert [payload[:2] for payload in closes] == [(1009).to_bytes(2, "big")], what
        texts = [payload for opcode, payload in frames if opcode == 1]
        for text in texts:
            for line in text.split(b"\n"):
                json.loads(line)  # everything the server wrote is protocol JSON
        served = any(b'"id":3' in payload for opcode, payload in frames if opcode == 1)
        outcome = "close frame" if closes else "closed" if closed else "served" if served else "silent"
        outcomes[f"{name}: {outcome}"] = outcomes.get(f"{name}: {outcome}", 0) + 1
    print("frame outcomes", json.dumps(outcomes, indent=1))
    fuzzed.ping()
    sock = websocket(fuzzed.port)
    frames, _ = read_server_frames(sock)
    sock.close()
    assert any(opcode == 1 and b'"connect"' in payload for opcode, payload in frames), "a new connection is still served"
    assert sum(v for k, v in outcomes.items() if k.endswith("close frame")) > 60, outcomes
    # A frame announcing more than max_message_bytes is refused at its first bytes (1009).
    assert not any("over the limit" in k and not k.endswith("close frame") for k in outcomes), outcomes
