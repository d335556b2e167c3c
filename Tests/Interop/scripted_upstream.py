"""A scripted OpenAI-compatible model server for the interop tests.

It runs an asyncio HTTP/1.1 server on its own thread and answers `POST .../chat/completions`
the way the test asked, chosen per request by the `model` name the test sends (the bridge
forwards `model` unchanged unless `llm.force_model` is set):

    script-<step>[-then-<step>...]

The n-th request (0-based) naming a model runs step n of its plan; the last step repeats.
Names that do not start with `script-`, and unknown steps, answer normally ("ok").

Steps:
    ok, ok<N>      a normal answer of 5 (or N) tokens "t0 ", "t1 ", ...
    slow           a token every 100 ms for 30 s (for cancellation tests)
    500, 503, 400  that status with an OpenAI error JSON body
    429            429 with `Retry-After: 1` and an OpenAI error JSON body
    silent         200 + SSE headers, then nothing until the client goes
    blackhole      reads the request, never answers anything
    stall<N>       N tokens, then nothing until the client goes
    drop<N>        N tokens, then the connection is closed (FIN) mid-body (no terminating chunk)
    reset<N>       N tokens, then the connection is reset (RST)
    errchunk<N>    N tokens, then an SSE `data: {"error": {...}}` event, then the body ends normally
    ragged         the normal answer with CRLF line ends and comment lines, one byte per write
    reasoning      three `reasoning_content` deltas ("r0 r1 r2 "), then the normal answer
    think          inline "<think>secret thoughts</think>" split across chunks, then the normal answer
    tools          two tool calls streamed as deltas (see TOOL_CALLS), finish_reason "tool_calls"

Every request is recorded (arrival time, headers, body, whether it finished or the client
aborted before the response ended, and when), and tests wait on those records with deadlines.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from timing import scaled

TOKEN_COUNT = 5
SLOW_INTERVAL = 0.1
HOLD_SECONDS = 30.0


# What the `tools` step streams, assembled.
TOOL_CALLS = [
    {"id": "call_weather", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
    {"id": "call_time", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
]
THINK_PIECES = ["<thi", "nk>secret ", "thoughts</th", "ink>"]


def token(i: int) -> str:
    return f"t{i} "


def tokens_text(n: int) -> str:
    return "".join(token(i) for i in range(n))


@dataclass
class RecordedRequest:
    index: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float  # time.monotonic() when the request was complete
    step: str = ""
    json: Any = None
    tokens_sent: int = 0
    finished: bool = False  # the response was written completely
    aborted: bool = False  # the client closed the connection before the response ended
    ended_at: float | None = None  # when it finished or was aborted

    @property
    def model(self) -> str | None:
        return self.json.get("model") if isinstance(self.json, dict) else None

    def summary(self) -> str:
        state = (
            "finished" if self.finished
            else "aborted by the client" if self.aborted
            else "cut by the upstream" if self.ended_at is not None
            else "open"
        )
        return (
            f"#{self.index} {self.method} {self.path} model={self.model!r} step={self.step} "
            f"tokens_sent={self.tokens_sent} {state} arrived={self.arrived:.3f} ended_at={self.ended_at}"
        )


class _Closed(Exception):
    pass


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    buf: bytearray = field(default_factory=bytearray)

    async def fill(self) -> None:
        data = await self.reader.read(65536)
        if not data:
            raise _Closed()
        self.buf.extend(data)

    async def read_until(self, marker: bytes, limit: int = 1 << 20) -> bytes:
        while (pos := self.buf.find(marker)) < 0:
            if len(self.buf) > limit:
                raise ValueError("request head too large")
            await self.fill()
        out = bytes(self.buf[: pos + len(marker)])
        del self.buf[: pos + len(marker)]
        return out

    async def read_exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            await self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


class ScriptedUpstream:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._cond = threading.Condition()
        self._plan_counts: Counter[str] = Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    # MARK: - Lifecycle

    def start(self) -> "ScriptedUpstream":
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self._main(ready))
            except BaseException as error:  # noqa: BLE001 - reported to the starting thread
                failure.append(error)
                ready.set()

        self._thread = threading.Thread(target=run, name="scripted-upstream", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError(f"scripted upstream did not start: {failure}")
        return self

    def stop(self) -> None:
        if self._loop and self._stopping:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread:
            self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await self._stopping.wait()
            server.close()
            for writer in list(self._writers):
                writer.transport.abort()
        await asyncio.sleep(0)

    # MARK: - Queries for tests (any thread)

    def snapshot(self, predicate: Callable[[RecordedRequest], bool] | None = None) -> list[RecordedRequest]:
        with self._cond:
            return [r for r in self.requests if predicate is None or predicate(r)]

    def for_model(self, model: str) -> list[RecordedRequest]:
        return self.snapshot(lambda r: r.model == model)

    def wait_for(self, condition: Callable[[], Any], timeout: float, what: str) -> Any:
        """Waits until `condition()` is truthy (re-checked on every upstream event); returns its value.
        `timeout` is scaled to the host's speed."""
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = condition()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"scripted upstream: timed out after {timeout:.1f}s waiting for {what}; requests:\n"
                        + self.describe()
                    )
                self._cond.wait(min(remaining, 0.1))

    def describe(self) -> str:
        with self._cond:
            return "\n".join(r.summary() for r in self.requests) or "(no requests)"

    def _changed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # MARK: - HTTP

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        conn = _Connection(reader, writer)
        try:
            while True:
                try:
                    head = await conn.read_until(b"\r\n\r\n")
                except _Closed:
                    return
                method, path, headers = _parse_head(head)
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = await _read_body(conn, headers)
                record = self._record(method, path, headers, body)
                keep_alive = await self._respond(conn, record)
                if not keep_alive:
                    return
        except (_Closed, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    def _record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> RecordedRequest:
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with self._cond:
            record = RecordedRequest(len(self.requests), method, path, headers, body, time.monotonic(), json=parsed)
            self.requests.append(record)
            self._cond.notify_all()
        return record

    async def _respond(self, conn: _Connection, record: RecordedRequest) -> bool:
        if record.method == "GET" and record.path.rstrip("/").endswith("/models"):
            body = {"object": "list", "data": [{"id": "script-ok", "object": "model", "created": 0, "owned_by": "script"}]}
            await self._send_json(conn, record, 200, body)
            return True
        if record.method != "POST" or not record.path.rstrip("/").endswith("/chat/completions"):
            await self._send_json(conn, record, 404, _error("no such route in the scripted upstream", "not_found"))
            return True
        step = self._next_step(record.model)
        record.step = step
        if m := re.fullmatch(r"(500|503|400)", step):
            status = int(m.group(1))
            message = f"scripted upstream failure {status}"
            await self._send_json(conn, record, status, _error(message, f"scripted_{status}"))
            return True
        if step == "429":
            await self._send_json(
                conn, record, 429, _error("scripted rate limit", "rate_limit_exceeded"), [("Retry-After", "1")]
            )
            return True
        if step == "blackhole":
            await self._until_closed(conn, record, HOLD_SECONDS)
            return False
        request = record.json if isinstance(record.json, dict) else {}
        if not request.get("stream"):
            return await self._complete(conn, record, step, request)
        return await self._stream(conn, record, step, request)

    def _next_step(self, model: str | None) -> str:
        if not model or not model.startswith("script-"):
            return "ok"
        plan = model[len("script-") :].split("-then-")
        with self._cond:
            n = self._plan_counts[model]
            self._plan_counts[model] += 1
        return plan[min(n, len(plan) - 1)]

    async def _send_json(
        self,
        conn: _Connection,
        record: RecordedRequest,
        status: int,
        body: Any,
        headers: list[tuple[str, str]] = (),  # type: ignore[assignment]
    ) -> None:
        data = json.dumps(body).encode()
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", "Content-Type: application/json",
                 f"Content-Length: {len(data)}"]
        lines += [f"{k}: {v}" for k, v in headers]
        conn.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        await conn.writer.drain()
        self._finish(record)

    async def _complete(self, conn: _Connection, record: RecordedRequest, step: str, request: dict) -> bool:
        n = _token_count(step)
        text = tokens_text(n)
        body = {
            "id": f"chatcmpl-scripted-{record.index}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": record.model or "script",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": n, "total_tokens": 3 + n},
        }
        record.tokens_sent = n
        await self._send_json(conn, record, 200, body)
        return True

    async def _stream(self, conn: _Connection, record: RecordedRequest, step: str, request: dict) -> bool:
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
        )
        conn.writer.write(head.encode())
        await conn.writer.drain()
        closed = asyncio.Event()
        watcher = asyncio.create_task(self._watch(conn, record, closed))
        try:
            return await self._stream_body(conn, record, step, request, closed)
        except (ConnectionError, _Closed):
            self._abort(record)
            return False
        finally:
            watcher.cancel()

    async def _stream_body(
        self, conn: _Connection, record: RecordedRequest, step: str, request: dict, closed: asyncio.Event
    ) -> bool:
        model = record.model or "script"
        base = {"id": f"chatcmpl-scripted-{record.index}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model}

        async def send(payload: Any) -> None:
            if closed.is_set():
                raise _Closed()
            data = f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode()
            conn.writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await conn.writer.drain()

        async def send_tokens(n: int, interval: float = 0.0) -> None:
            for i in range(n):
                await send({**base, "choices": [{"index": 0, "delta": {"content": token(i)}, "finish_reason": None}]})
                record.tokens_sent += 1
                self._changed()
                if interval and await _wait(closed, interval):
                    raise _Closed()

        finish_reason = "stop"
        if step == "silent":
            await self._until_closed(conn, record, HOLD_SECONDS, closed)
            return False
        await send({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                         "finish_reason": None}]})
        if step == "slow":
            await send_tokens(int(HOLD_SECONDS / SLOW_INTERVAL), SLOW_INTERVAL)
        elif step == "ragged":
            return await self._ragged(conn, record, base)
        elif step in ("reasoning", "think"):
            if step == "reasoning":
                deltas = [{"reasoning_content": f"r{i} "} for i in range(3)]
            else:
                deltas = [{"content": piece} for piece in THINK_PIECES]
            for delta in deltas:
                await send({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
            await send_tokens(TOKEN_COUNT)
        elif step == "tools":
            await self._send_tool_calls(send, base)
            finish_reason = "tool_calls"
        elif m := re.fullmatch(r"errchunk(\d+)", step):
            await send_tokens(int(m.group(1)))
            await send({"error": {"message": "scripted mid-stream failure", "type": "server_error",
                                  "param": None, "code": "scripted_midstream"}})
            conn.writer.write(b"0\r\n\r\n")
            await conn.writer.drain()
            self._finish(record)
            return True
        elif m := re.fullmatch(r"(stall|drop|reset)(\d+)", step):
            await send_tokens(int(m.group(2)))
            if m.group(1) == "stall":
                await self._until_closed(conn, record, HOLD_SECONDS, closed)
            elif m.group(1) == "drop":
                conn.writer.close()  # FIN with the chunked body unterminated
                self._finish(record, aborted=False, complete=False)
            else:
                sock = conn.writer.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.writer.transport.abort()  # RST
                self._finish(record, aborted=False, complete=False)
            return False
        else:
            n = _token_count(step)
            await send_tokens(n)
        await send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish_reason}]})
        options = request.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            n = record.tokens_sent
            await send({**base, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": n,
                                                         "total_tokens": 3 + n}})
        await send("[DONE]")
        conn.writer.write(b"0\r\n\r\n")
        await conn.writer.drain()
        self._finish(record)
        return True

    async def _send_tool_calls(self, send: Callable, base: dict) -> None:
        weather, clock = TOOL_CALLS
        args = weather["function"]["arguments"]
        pieces = [
            {"index": 0, "id": weather["id"], "type": "function",
             "function": {"name": weather["function"]["name"], "arguments": ""}},
            {"index": 0, "function": {"arguments": args[:4]}},
            {"index": 0, "function": {"arguments": args[4:11]}},
            {"index": 1, "id": clock["id"], "type": "function",
             "function": {"name": clock["function"]["name"], "arguments": ""}},
            {"index": 0, "function": {"arguments": args[11:]}},
            {"index": 1, "function": {"arguments": clock["function"]["arguments"]}},
        ]
        for piece in pieces:
            await send({**base, "choices": [{"index": 0, "delta": {"tool_calls": [piece]}, "finish_reason": None}]})

    async def _ragged(self, conn: _Connection, record: RecordedRequest, base: dict) -> bool:
        """The normal answer as servers in the wild send it: CRLF, comments, arbitrary TCP splits."""
        events = [": keep-alive\r\n\r\n"]
        for i in range(TOKEN_COUNT):
            delta = {**base, "choices": [{"index": 0, "delta": {"content": token(i)}, "finish_reason": None}]}
            events.append(f"data: {json.dumps(delta)}\r\n\r\n")
            if i == 1:
                events.append(": still thinking\r\n\r\n")
        events.append(f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}]})}"
                      "\r\n\r\ndata: [DONE]\r\n\r\n")
        data = "".join(events).encode()
        sock = conn.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i, byte in enumerate(data):
            conn.writer.write(b"1\r\n" + bytes([byte]) + b"\r\n")
            await conn.writer.drain()
            if i % 7 == 0:
                await asyncio.sleep(0.001)  # let the bytes leave in separate segments
        record.tokens_sent = TOKEN_COUNT
        conn.writer.write(b"0\r\n\r\n")
        await conn.writer.drain()
        self._finish(record)
        return True

    async def _watch(self, conn: _Connection, record: RecordedRequest, closed: asyncio.Event) -> None:
        """Notices the client closing its connection while a response is being written."""
        try:
            while True:
                data = await conn.reader.read(65536)
                if not data:
                    break
                conn.buf.extend(data)
        except (ConnectionError, OSError):
            pass
        closed.set()
        self._abort(record)

    async def _until_closed(
        self, conn: _Connection, record: RecordedRequest, hold: float, closed: asyncio.Event | None = None
    ) -> None:
        if closed is None:
            closed = asyncio.Event()
            watcher = asyncio.create_task(self._watch(conn, record, closed))
            try:
                await _wait(closed, hold)
            finally:
                watcher.cancel()
        else:
            await _wait(closed, hold)
        if closed.is_set():
            self._abort(record)

    def _abort(self, record: RecordedRequest) -> None:
        with self._cond:
            if not record.finished and not record.aborted and record.ended_at is None:
                record.aborted = True
                record.ended_at = time.monotonic()
            self._cond.notify_all()

    def _finish(self, record: RecordedRequest, aborted: bool = False, complete: bool = True) -> None:
        with self._cond:
            if record.ended_at is None:
                record.finished = complete
                record.aborted = aborted
                record.ended_at = time.monotonic()
            self._cond.notify_all()


# MARK: - Helpers

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 503: "Service Unavailable"}


def _error(message: str, code: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}


def _token_count(step: str) -> int:
    m = re.fullmatch(r"ok(\d+)", step)
    return int(m.group(1)) if m else TOKEN_COUNT


async def _wait(event: asyncio.Event, timeout: float) -> bool:
    """True if `event` was set within `timeout`."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
        return True
    except asyncio.TimeoutError:
        return False


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return method, path, headers


async def _read_body(conn: _Connection, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line = await conn.read_until(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                await conn.read_until(b"\r\n")  # trailers end (assumes none)
                return bytes(body)
            body.extend(await conn.read_exactly(size))
            await conn.read_exactly(2)
    length = int(headers.get("content-length", "0") or 0)
    return await conn.read_exactly(length)
