"""Every error status of the HTTP API at the wire level (httpx): status, OpenAI-shaped JSON body, and
the bridge still serving afterwards."""

from __future__ import annotations

import json
import socket
import time

import httpx
import openai
import pytest

from conftest import Bridge, chat_body, raw_http, unique_uid
from sse import assert_error_json, iter_sse
from timing import scaled

CHAT = "/v1/chat/completions"
JSON = {"content-type": "application/json"}


def post_raw(bridge: Bridge, body: bytes | str, headers: dict | None = None, path: str = CHAT) -> httpx.Response:
    with bridge.client() as client:
        return client.post(path, content=body, headers={**JSON, **(headers or {})})


# MARK: - 400


BAD_BODIES = {
    "not-json": b"{this is not json",
    "empty-body": b"",
    "json-array": b"[1, 2, 3]",
    "json-string": b'"hello"',
    "missing-messages": json.dumps({"model": "sim"}),
    "null-messages": json.dumps({"model": "sim", "messages": None}),
    "empty-messages": json.dumps({"model": "sim", "messages": []}),
    "messages-string": json.dumps({"model": "sim", "messages": "hello"}),
    "message-not-object": json.dumps({"model": "sim", "messages": ["hello"]}),
    "message-without-role": json.dumps({"model": "sim", "messages": [{"content": "hi"}]}),
    "stream-string": json.dumps({**chat_body(), "stream": "yes"}),
    "model-number": json.dumps({**chat_body(), "model": 5}),
    "uid-number": json.dumps({**chat_body(), "uid": 123}),
    "uid-empty": json.dumps({**chat_body(), "uid": ""}),
    "uid-space": json.dumps({**chat_body(), "uid": "has space"}),
    "uid-slash": json.dumps({**chat_body(), "uid": "a/b"}),
    "uid-unicode": json.dumps({**chat_body(), "uid": "ünïcode"}),
    "uid-129-chars": json.dumps({**chat_body(), "uid": "u" * 129}),
    "username-number": json.dumps({**chat_body(), "username": 7}),
    "stream-options-string": json.dumps({**chat_body(), "stream": True, "stream_options": "usage"}),
    # Valid JSON grammar, but past any double: refused rather than passed on as null.
    "temperature-1e999": json.dumps(chat_body())[:-1] + ', "temperature": 1e999}',
}


def _bad_cases() -> list:
    cases = []
    for name, body in sorted(BAD_BODIES.items()):
        cases.append(pytest.param(body, id=name))
        parsed = json.loads(body) if isinstance(body, str) else None
        if isinstance(parsed, dict) and "stream" not in parsed:
            # The same mistake in a streaming request still gets a JSON error, not an SSE stream.
            cases.append(pytest.param(json.dumps({**parsed, "stream": True}), id=name + "-stream"))
    return cases


@pytest.mark.parametrize("body", _bad_cases())
def test_400_bad_body(bridge: Bridge, body: bytes | str, request: pytest.FixtureRequest) -> None:
    name = request.node.callspec.id
    error = assert_error_json(post_raw(bridge, body), 400)
    assert error["type"] == "invalid_request_error", error
    if name.startswith("uid-"):
        assert error["param"] == "uid", error
    bridge.ping()


def test_uid_128_chars_is_accepted(bridge: Bridge) -> None:
    uid = (unique_uid("max").replace("-", "_") + "Az09_.:-" * 16)[:128]
    assert len(uid) == 128
    with bridge.client() as client:
        response = client.post(CHAT, json=chat_body(uid=uid, username="alice"))
    assert response.status_code == 200, response.text
    assert response.headers.get("x-stream-id") == uid


# MARK: - 404 / 405


@pytest.mark.parametrize("method,path", [("GET", "/v1/nope"), ("POST", "/v1/nope"), ("GET", "/v1/chat")])
def test_404_unknown_route(bridge: Bridge, method: str, path: str) -> None:
    with bridge.client() as client:
        response = client.request(method, path, json=chat_body() if method == "POST" else None)
    assert_error_json(response, 404)
    bridge.ping()


def test_404_missing_static_file(bridge: Bridge) -> None:
    with bridge.client() as client:
        response = client.get("/no-such-file-here.html")
    assert response.status_code == 404, response.text[:300]
    bridge.ping()


@pytest.mark.parametrize(
    "method,path,allowed",
    [("GET", CHAT, "POST"), ("PUT", CHAT, "POST"), ("DELETE", "/ping", "GET"), ("POST", "/v1/models", "GET"),
     ("POST", "/health", "GET")],
)
def test_405_wrong_method(bridge: Bridge, method: str, path: str, allowed: str) -> None:
    with bridge.client() as client:
        response = client.request(method, path, content=b"{}" if method in ("POST", "PUT") else None, headers=JSON)
    assert_error_json(response, 405)
    allow = [m.strip() for m in response.headers.get("allow", "").split(",")]
    assert allowed in allow, f"Allow header {response.headers.get('allow')!r} should list {allowed}"
    assert method not in allow
    bridge.ping()


# MARK: - 413 / 415 / 422


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_415_wrong_content_type(bridge: Bridge, content_type: str) -> None:
    error = assert_error_json(post_raw(bridge, json.dumps(chat_body()), {"content-type": content_type}), 415)
    assert error["type"] == "invalid_request_error"
    bridge.ping()


def test_json_content_type_with_charset_is_accepted(bridge: Bridge) -> None:
    response = post_raw(bridge, json.dumps(chat_body()), {"content-type": "application/json; charset=utf-8"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("n", [2, 0, 5])
def test_422_n_not_one(bridge: Bridge, n: int) -> None:
    for stream in (False, True):
        error = assert_error_json(post_raw(bridge, json.dumps(chat_body(n=n, stream=stream))), 422)
        assert error["param"] == "n", error
    bridge.ping()


def test_n_equal_one_is_accepted(bridge: Bridge) -> None:
    response = post_raw(bridge, json.dumps(chat_body(n=1)))
    assert response.status_code == 200, response.text


def big_chat(size: int) -> bytes:
    """A valid chat request of exactly `size` bytes."""
    skeleton = json.dumps(chat_body("")).encode()
    body = json.dumps(chat_body("x" * (size - len(skeleton)))).encode()
    assert len(body) == size
    return body


def test_413_body_over_default_limit(bridge: Bridge) -> None:
    body = big_chat(1_572_864)  # 1.5 MiB > 1 MiB default
    try:
        response = post_raw(bridge, body)
    except httpx.TransportError as error:
        pytest.fail(f"the bridge dropped the connection instead of answering 413: {error!r}")
    error = assert_error_json(response, 413)
    assert error["type"] == "invalid_request_error"
    bridge.ping()


def test_body_just_under_default_limit_is_accepted(bridge: Bridge) -> None:
    response = post_raw(bridge, big_chat(1_048_576 - 1024))
    assert response.status_code == 200, response.text[:500]
    bridge.ping()


def test_413_configured_limit(start_bridge) -> None:
    bridge = start_bridge({"server": {"limits": {"max_body_bytes": 4096}}})
    assert post_raw(bridge, big_chat(4000)).status_code == 200
    try:
        response = post_raw(bridge, big_chat(5000))
    except httpx.TransportError as error:
        pytest.fail(f"the bridge dropped the connection instead of answering 413: {error!r}")
    assert_error_json(response, 413)
    bridge.ping()


def test_413_from_content_length_alone(bridge: Bridge) -> None:
    """A declared Content-Length over the limit is refused from the head: the client need not upload
    50 MiB to learn it is too much (and a client using `Expect: 100-continue` never would)."""
    head = (
        f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    data = raw_http(bridge.port, head + b'{"messages":', timeout=5.0)
    assert data.startswith(b"HTTP/1.1 413"), data[:300]
    assert time.monotonic() - started < scaled(4.5), "the 413 should not wait for the body"
    bridge.ping()


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "+5", "2, 3"])
def test_400_malformed_content_length(bridge: Bridge, length: str) -> None:
    """Without one whole number nobody knows where the body ends: 400 at once, then closed."""
    data = raw_http(bridge.port, f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {length}\r\n\r\n{{}}".encode(), timeout=5.0)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"connection: close" in head.lower(), data[:300]
    assert "Content-Length" in json.loads(body)["error"]["message"]
    bridge.ping()


def test_411_chunked_request_body(bridge: Bridge) -> None:
    """A body without a Content-Length (httpx sends an iterator chunked) gets 411 at once instead
    of a request that never ends; the connection closes, so its chunks are not read as a request."""
    body = json.dumps(chat_body()).encode()
    with bridge.client() as client:
        response = client.post(CHAT, content=iter([body[:10], body[10:]]), headers={"content-type": "application/json"})
    error = assert_error_json(response, 411)
    assert error["code"] == "length_required" and "Content-Length" in error["message"]
    assert response.headers["connection"] == "close"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in (body[:10], body[10:])) + b"0\r\n\r\n"
    head = f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert raw_http(bridge.port, head.encode() + chunks, timeout=5.0).startswith(b"HTTP/1.1 411"), "Transfer-Encoding wins over Content-Length"
    # Whatever the method: a chunked GET's chunks would otherwise be read as a second request.
    smuggled = b"GET /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    assert raw_http(bridge.port, smuggled, timeout=5.0).startswith(b"HTTP/1.1 411")
    bridge.ping()


# MARK: - 431 and the 16 KB header boundary


def test_header_of_15kb_is_accepted(bridge: Bridge) -> None:
    with bridge.client() as client:
        response = client.post(CHAT, json=chat_body(), headers={"x-padding": "p" * 15 * 1024})
        assert response.status_code == 200, response.text[:300]
        response = client.get("/ping", headers={"x-padding": "p" * 15 * 1024})
        assert response.status_code == 200
    bridge.ping()


@pytest.mark.parametrize("name", ["user-agent", "cookie", "authorization"])
def test_431_header_over_16kb(bridge: Bridge, name: str) -> None:
    """A standard header over the limit gets a proper 431."""
    with bridge.client(timeout=10.0) as client:
        try:
            response = client.post(CHAT, json=chat_body(), headers={name: "p" * 17 * 1024})
        except httpx.TimeoutException:
            pytest.fail("a 17 KB header made the bridge hang")
        except httpx.TransportError as error:
            pytest.fail(f"a 17 KB header got the connection dropped instead of 431: {error!r}")
    assert_error_json(response, 431)
    bridge.ping()


@pytest.mark.parametrize("size_kb", [19, 40, 200])
def test_oversized_unknown_header_is_refused(bridge: Bridge, size_kb: int) -> None:
    """lws 4.1 cannot list headers it has no name for: past the limit plus 2 KiB of slack the
    request is refused by closing the connection (documented); it must never be served or hang."""
    with bridge.client(timeout=10.0) as client:
        try:
            response = client.post(CHAT, json=chat_body(), headers={"x-padding": "p" * size_kb * 1024})
        except httpx.TimeoutException:
            pytest.fail(f"a {size_kb} KB header made the bridge hang")
        except httpx.TransportError:
            response = None
    if response is not None:
        assert_error_json(response, 431)
    bridge.ping()


def test_many_headers_over_16kb_in_total(bridge: Bridge) -> None:
    headers = {f"x-pad-{i}": "q" * 1000 for i in range(20)}  # 20 KB over 20 headers, past the slack
    with bridge.client(timeout=10.0) as client:
        try:
            response = client.get("/ping", headers=headers)
        except httpx.TimeoutException:
            pytest.fail("20 KB of headers made the bridge hang")
        except httpx.TransportError:
            response = None  # a clean close is tolerated here; the single-header test demands 431
    if response is not None:
        assert response.status_code == 431, (response.status_code, response.text[:300])
    bridge.ping()


# MARK: - 401


@pytest.fixture
def keyed_bridge(start_bridge) -> Bridge:
    return start_bridge({"server": {"api_keys": ["key-one", "key-two"]}})


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", "Bearer", "bearer  wrong", "Basic a2V5LW9uZTo=", "key-one", "Bearer key-one-and-more"]
)
def test_401_missing_or_bad_key(keyed_bridge: Bridge, authorization: str | None) -> None:
    headers = {"authorization": authorization} if authorization is not None else {}
    with keyed_bridge.client() as client:
        for method, path, body in (("POST", CHAT, chat_body()), ("GET", "/v1/models", None)):
            response = client.request(method, path, json=body, headers=headers)
            error = assert_error_json(response, 401)
            assert error["type"] == "authentication_error", error
    keyed_bridge.ping()


def test_api_key_accepted(keyed_bridge: Bridge, uid: str) -> None:
    with keyed_bridge.client() as client:
        for key in ("key-one", "key-two"):
            response = client.post(CHAT, json=chat_body(uid=f"{uid}-{key}"), headers={"authorization": f"Bearer {key}"})
            assert response.status_code == 200, response.text
        # Liveness and readiness stay open for probes.
        assert client.get("/ping").status_code == 200
        assert client.get("/health").status_code == 200


def test_api_key_with_the_sdk(keyed_bridge: Bridge, uid: str) -> None:
    with pytest.raises(openai.AuthenticationError):
        keyed_bridge.openai(api_key="wrong").chat.completions.create(model="sim", messages=chat_body()["messages"])
    chunks = keyed_bridge.openai(api_key="key-two").chat.completions.create(
        model="sim", messages=chat_body()["messages"], stream=True, extra_body={"uid": uid}
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


# MARK: - 429


def test_429_over_max_concurrent_streams(start_bridge, uid: str) -> None:
    bridge = start_bridge(
        {"pipeline": {"max_concurrent_streams": 1}, "llm": {"simulated": {"tokens": 2000, "rate": 20}}}
    )
    with bridge.client() as client:
        with client.stream("POST", CHAT, json=chat_body(uid=uid, stream=True)) as first:
            assert first.status_code == 200
            events = iter_sse(first)  # keep a reference: closing the generator closes the connection
            assert next(events)[0] == "data"  # the stream is running
            for stream in (False, True):
                response = client.post(CHAT, json=chat_body(uid=unique_uid(), stream=stream))
                error = assert_error_json(response, 429)
                assert error["type"] == "rate_limit_error", error
            bridge.ping()
        # The slot frees once the first client is gone.
        deadline = time.monotonic() + scaled(5)
        while True:
            with client.stream("POST", CHAT, json=chat_body(uid=unique_uid(), stream=True)) as again:
                if again.status_code == 200:
                    break
                assert again.status_code == 429, again.read()
            assert time.monotonic() < deadline, "the stream slot was not released after the client left"
            time.sleep(0.05)


def test_duplicate_uid_while_running_is_refused(start_bridge, uid: str) -> None:
    bridge = start_bridge({"llm": {"simulated": {"tokens": 2000, "rate": 20}}})
    with bridge.client() as client:
        with client.stream("POST", CHAT, json=chat_body(uid=uid, stream=True)) as first:
            assert first.status_code == 200
            events = iter_sse(first)  # keep a reference: closing the generator closes the connection
            assert next(events)[0] == "data"
            for stream in (False, True):
                response = client.post(CHAT, json=chat_body(uid=uid, stream=stream))
                assert 400 <= response.status_code < 500, response.status_code
                error = assert_error_json(response, response.status_code)
                assert error["param"] == "uid" or "uid" in error["message"], error
    bridge.ping()


# MARK: - CORS


def test_cors_preflight_any_origin(bridge: Bridge) -> None:
    headers = {
        "origin": "http://example.test",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }
    with bridge.client() as client:
        response = client.options(CHAT, headers=headers)
    assert response.status_code == 204, (response.status_code, response.text)
    assert response.headers.get("access-control-allow-origin") in ("*", "http://example.test"), response.headers
    assert "POST" in response.headers.get("access-control-allow-methods", ""), response.headers
    allowed = response.headers.get("access-control-allow-headers", "").lower()
    assert "content-type" in allowed and "authorization" in allowed, response.headers
    bridge.ping()


def test_cors_headers_on_answers_and_errors(bridge: Bridge, uid: str) -> None:
    origin = {"origin": "http://example.test"}
    with bridge.client() as client:
        ok = client.post(CHAT, json=chat_body(uid=uid), headers=origin)
        bad = client.post(CHAT, content=b"nope", headers={**origin, **JSON})
        with client.stream("POST", CHAT, json=chat_body(uid=uid + "-s", stream=True), headers=origin) as sse:
            sse_headers = sse.headers
            sse.read()
    for response_headers in (ok.headers, bad.headers, sse_headers):
        assert response_headers.get("access-control-allow-origin") in ("*", "http://example.test"), response_headers
    assert "x-stream-id" in ok.headers.get("access-control-expose-headers", "").lower(), ok.headers


def test_cors_restricted_origins(start_bridge, uid: str) -> None:
    bridge = start_bridge({"server": {"allowed_origins": ["https://app.example"]}})
    preflight = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    with bridge.client() as client:
        good = client.options(CHAT, headers={"origin": "https://app.example", **preflight})
        assert good.status_code == 204
        assert good.headers.get("access-control-allow-origin") == "https://app.example", good.headers
        evil = client.options(CHAT, headers={"origin": "https://evil.example", **preflight})
        assert evil.headers.get("access-control-allow-origin") not in ("*", "https://evil.example"), evil.headers
        assert evil.status_code in (200, 204, 403), evil.status_code
        response = client.post(CHAT, json=chat_body(uid=uid), headers={"origin": "https://evil.example"})
        assert response.headers.get("access-control-allow-origin") not in ("*", "https://evil.example")
    bridge.ping()


def test_cors_preflight_needs_no_api_key(keyed_bridge: Bridge) -> None:
    headers = {"origin": "http://example.test", "access-control-request-method": "POST",
               "access-control-request-headers": "authorization, content-type"}
    with keyed_bridge.client() as client:
        response = client.options(CHAT, headers=headers)
    assert response.status_code == 204, (response.status_code, response.text)


# MARK: - The server keeps serving


def read_until_closed(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Sends `data` and reads until the server closes; a reset would raise, and fails the test."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def refusal(data: bytes) -> tuple[int, dict]:
    """Status and `error` object of a whole close-delimited answer, checked for OpenAI's shape."""
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    assert status_line.startswith("HTTP/1.1 "), data[:300]
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    assert headers["content-type"] == "application/json" and headers["connection"] == "close", headers
    assert int(headers["content-length"]) == len(body), data[:300]
    payload = json.loads(body)
    assert set(payload) == {"error"} and {"message", "type", "param", "code"} <= set(payload["error"]), payload
    return int(status_line.split()[1]), payload["error"]


@pytest.mark.parametrize("method", ["BREW", "TRACE", "PROPFIND", "M-SEARCH", "CONNECT"])
def test_501_method_the_server_does_not_know(bridge: Bridge, method: str) -> None:
    """A method libwebsockets' parser has no name for (RFC 9110 9.1: 501, not 405) gets the same
    error shape as the bridge's own refusals, then the connection closes; the bridge serves on."""
    # CONNECT is a method lws knows, and hands over as a raw socket (a tunnel) whatever the option.
    target = "example.com:443" if method == "CONNECT" else "/v1/models"
    status, error = refusal(read_until_closed(bridge.port, f"{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
    assert status == 501 and error["code"] == "method_not_supported", error
    assert f"Method {method} is not supported" in error["message"] and "POST" in error["message"], error
    bridge.ping()


def test_unknown_method_with_a_body_is_answered_not_reset(bridge: Bridge) -> None:
    """The answer goes out before the request's body is read: the bridge shuts its side and waits
    for the client's close instead of closing with unread bytes (which the kernel turns into a
    reset that can destroy the answer), and the rest of the body is dropped."""
    body = b"x" * 200_000
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=5) as sock:
        sock.sendall(b"BREW /pot HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
        sock.sendall(body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    status, error = refusal(b"".join(chunks))
    assert status == 501 and "BREW" in error["message"], error
    # A keep-alive connection whose second request is refused gets the first answer, then this one.
    data = read_until_closed(bridge.port, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\nBREW / HTTP/1.1\r\nHost: x\r\n\r\n")
    first, _, rest = data.partition(b"pong")
    assert first.startswith(b"HTTP/1.1 200") and refusal(rest)[0] == 501, data[:600]
    bridge.ping()


@pytest.mark.parametrize(("junk", "words"), [
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)), "TLS handshake"),
    (b"\x00\x01\x02garbage\r\n\r\n", "not HTTP"),
    (b"GET\r\n\r\n", "not HTTP"),
])
def test_400_bytes_that_are_not_http(bridge: Bridge, junk: bytes, words: str) -> None:
    """A TLS client on the plain port, binary junk, a request line without a target: each gets a
    400 that says what arrived, in the error shape, and the bridge serves on."""
    status, error = refusal(read_until_closed(bridge.port, junk))
    assert status == 400 and words in error["message"], error
    bridge.ping()


def test_garbage_on_the_socket_does_not_hurt(bridge: Bridge) -> None:
    for junk in (b"POST /v1/chat/completions HTTP/9.9\r\n\r\n", b"GET /%zz HTTP/1.1\r\n\r\n"):
        try:
            raw_http(bridge.port, junk, timeout=3.0)
        except OSError:
            pass
        bridge.ping()


def test_half_sent_body_then_close(bridge: Bridge) -> None:
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=5) as sock:
        sock.sendall(f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: 1000\r\n\r\n{{\"messages\":".encode())
    bridge.ping()
    with bridge.client() as client:
        assert client.post(CHAT, json=chat_body()).status_code == 200


# MARK: - A client that stops reading


def test_stalled_reader_is_disconnected_and_its_stream_cancelled(start_bridge) -> None:
    """Output queued for a client that does not read is bounded by server.limits.max_pending_bytes:
    past it the bridge closes the connection and ends the stream, instead of buffering a whole
    25 MB answer. Without the bound the answer would end with [DONE] once the client read it."""
    import socket

    bridge = start_bridge({"server": {"limits": {"max_pending_bytes": "256KiB"}}})
    body = json.dumps(
        {"messages": [{"role": "user", "content": "long"}], "stream": True, "mock": {"tokens": 100000, "rate": 0}}
    ).encode()
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # keep the kernel from absorbing it all
    sock.settimeout(10)
    sock.connect(("127.0.0.1", bridge.port))
    try:
        sock.sendall(request)
        deadline = time.monotonic() + scaled(20)
        while bridge.health()["checks"]["pipeline"]["active_streams"] != 0:
            assert time.monotonic() < deadline, "the stream was never ended"
            time.sleep(0.05)
        received = b""
        try:
            # Ends at the server's close, or at the last chunk if the whole answer was kept.
            while not received.endswith(b"0\r\n\r\n") and (chunk := sock.recv(65536)):
                received += chunk
        except ConnectionResetError:
            pass
    finally:
        sock.close()
    assert b"data: [DONE]" not in received
    # The client may have nothing: on a loaded machine the close can arrive as a reset, which
    # drops what the client's kernel still held for it. The bridge says why it closed.
    assert len(received) < 8 * 1024 * 1024
    assert "client too slow, closing" in bridge.proc.output()
    bridge.ping()
