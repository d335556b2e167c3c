"""The endpoints of the projects TokenBridge replaces, each with the request its README shows and
the response its source sends:

* digitalis-io/chatgpt-queue (README and restapi.go before it streamed on the submit itself):
  `POST /v1/chat/completions` with `username`/`uid`, then `GET /v1/chat/response?uid=` as SSE.
* djdevpro/llm_fastapi_celery_mq_redis (the FastAPI + RabbitMQ streaming POC, README, main.py,
  services/rabbit_consumer.py, chat.html): `POST /chat {message, session_id?}` as text/plain with
  `X-Session-ID`, `GET /stream/{session_id}` as SSE of `{"chunk": …}` then `{"type": "done"}`,
  `GET /test`, `GET /health`.
* Uemerson/fastapi-sse-llm (the FastAPI SSE demo, README, src/main.py, index.html):
  `POST /ask {query, uuid}` answered as SSE `data: <token>` then `event: done`.

Every answer is checked against the stream's own `/v1/streams/{uid}/result`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass

import httpx

from channels import subscribed
from conftest import free_port, scripted_config, unique_uid, wait_until
from scripted_upstream import ScriptedUpstream, tokens_text
from sse import SSEResult, assert_error_json, iter_sse
from timing import scaled

SIMULATED = {"llm": {"provider": "simulated", "simulated": {"tokens": 20, "rate": 0}}}


def paced(tokens: int, rate: float) -> dict:
    return {"llm": {"provider": "simulated", "simulated": {"tokens": tokens, "rate": rate}}}


@dataclass
class Event:
    """One SSE event as a parser sees it: its `event:` name (None = message) and joined data."""

    name: str | None
    data: str | None


def parse_events(raw: str) -> list[Event]:
    """The events of an SSE body, per the spec: fields per line, blank line ends an event,
    data lines joined with "\\n", comments skipped."""
    events: list[Event] = []
    name: str | None = None
    data: list[str] = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        if line == "":
            if name is not None or data:
                events.append(Event(name, "\n".join(data) if data else None))
            name, data = None, []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    assert name is None and not data, f"the body ended inside an event: {raw[-200:]!r}"
    return events


def result_of(bridge, uid: str) -> dict:
    """The stream's assembled answer once it ended."""
    def ended():
        with bridge.client() as http:
            answer = http.get(f"/v1/streams/{uid}/result")
        return answer.json() if answer.status_code == 200 else None

    return wait_until(ended, 10, f"the stream {uid} to end")


def get_sse(bridge, path: str, **kwargs) -> httpx.Response:
    with bridge.client() as http:
        return http.get(path, **kwargs)


def metric(bridge, name: str) -> float | None:
    with bridge.client() as http:
        for line in http.get("/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def openai_sse(response: httpx.Response) -> SSEResult:
    """An OpenAI chunk stream read whole, with the helpers of sse.py."""
    result = SSEResult(response.status_code, response.headers)
    for kind, value in iter_sse(response):
        (result.payloads if kind == "data" else result.comments).append(value)
    return result


def assert_openai_chunks(result: SSEResult, uid: str) -> None:
    assert result.status == 200, result.describe()
    assert result.headers["content-type"].startswith("text/event-stream"), result.headers
    assert result.payloads[-1] == "[DONE]" and result.payloads.count("[DONE]") == 1, result.describe()
    assert not result.errors and result.finish_reasons == ["stop"], result.describe()
    for chunk in result.chunks:
        assert chunk["object"] == "chat.completion.chunk" and chunk["id"] == f"chatcmpl-{uid}", chunk


# MARK: - chatgpt-queue: GET /v1/chat/response?uid=


def test_chatgpt_queue_submit_then_read_the_response_by_uid(start_bridge):
    bridge = start_bridge(SIMULATED)
    uid = str(uuid.uuid4())
    # The README's submit, with the uid the client chose.
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Tell me a short story about a brave knight."}],
            "stream": True, "username": "alice", "uid": uid}
    with bridge.client() as http, http.stream("POST", "/v1/chat/completions", json=body) as submitted:
        assert submitted.headers["x-stream-id"] == uid
        own = openai_sse(submitted)
    assert_openai_chunks(own, uid)
    with bridge.client() as http, http.stream("GET", "/v1/chat/response", params={"uid": uid}) as response:
        replayed = openai_sse(response)
    assert_openai_chunks(replayed, uid)
    assert replayed.headers["x-stream-id"] == uid
    text = result_of(bridge, uid)["text"]
    assert text and replayed.content == text == own.content
    assert replayed.chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert replayed.chunks[0]["model"] == "gpt-4o"


def test_chatgpt_queue_a_generated_uid_comes_back_in_x_stream_id(start_bridge):
    bridge = start_bridge(SIMULATED)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "stream": True, "username": "bob"}
    with bridge.client() as http, http.stream("POST", "/v1/chat/completions", json=body) as submitted:
        uid = submitted.headers["x-stream-id"]
        submitted.read()
    assert uuid.UUID(uid).version == 4
    with bridge.client() as http, http.stream("GET", f"/v1/chat/response?uid={uid}") as response:
        replayed = openai_sse(response)
    assert_openai_chunks(replayed, uid)
    assert replayed.content == result_of(bridge, uid)["text"]


def test_chatgpt_queue_response_of_a_stream_still_running_is_live(start_bridge):
    bridge = start_bridge(paced(40, 40))  # about a second of answer
    uid = unique_uid("cq-live")
    with bridge.client() as http:
        body = {"messages": [{"role": "user", "content": "Go"}], "uid": uid, "async": True}
        assert http.post("/v1/chat/completions", json=body).status_code == 202
        with http.stream("GET", "/v1/chat/response", params={"uid": uid}) as response:
            result = SSEResult(response.status_code, response.headers)
            status_at_first_text = None
            for kind, value in iter_sse(response):
                if kind != "data":
                    continue
                result.payloads.append(value)
                if status_at_first_text is None and result.content:
                    status_at_first_text = http.get(f"/v1/streams/{uid}/result").status_code
    assert status_at_first_text == 202, "the first text must arrive while the stream runs"
    assert_openai_chunks(result, uid)
    assert result.content == result_of(bridge, uid)["text"]


def test_chatgpt_queue_response_waits_for_a_stream_not_started_yet(start_bridge):
    bridge = start_bridge({**SIMULATED, "pipeline": {"attach_wait": "10s"}})
    uid = unique_uid("cq-early")
    read: list[SSEResult] = []

    def reader() -> None:
        with bridge.client() as http, http.stream("GET", "/v1/chat/response", params={"uid": uid}) as response:
            read.append(openai_sse(response))

    thread = threading.Thread(target=reader)
    thread.start()
    wait_until(lambda: metric(bridge, "tokenbridge_journal_waiting_readers") == 1, 5, "the reader to be waiting")
    with bridge.client() as http:
        body = {"messages": [{"role": "user", "content": "Go"}], "uid": uid, "username": "alice", "async": True}
        assert http.post("/v1/chat/completions", json=body).status_code == 202
    thread.join(scaled(15))
    assert not thread.is_alive() and read, "the waiting reader must get the stream"
    assert_openai_chunks(read[0], uid)
    assert read[0].content == result_of(bridge, uid)["text"]


def test_chatgpt_queue_response_refuses_a_missing_bad_or_unknown_uid(start_bridge):
    bridge = start_bridge({**SIMULATED, "pipeline": {"attach_wait": "300ms"}})
    with bridge.client() as http:
        for query in ("", "?uid=", "?other=1"):
            error = assert_error_json(http.get(f"/v1/chat/response{query}"), 400)
            assert error["param"] == "uid" and error["code"] == "missing_field", error
        error = assert_error_json(http.get("/v1/chat/response", params={"uid": "has space"}), 400)
        assert error["code"] == "invalid_value", error
        started = time.monotonic()
        error = assert_error_json(http.get("/v1/chat/response", params={"uid": unique_uid("nobody")}), 404)
        assert time.monotonic() - started >= 0.3, "it waited pipeline.attach_wait for the stream"
        assert error["code"] == "stream_not_found", error
        refused = http.post("/v1/chat/response?uid=x")
        assert refused.status_code == 405 and refused.headers["allow"] == "GET", refused.text


# MARK: - The FastAPI + RabbitMQ POC: POST /chat, GET /stream/{session_id}, GET /test, GET /health


def session_stream(bridge, session_id: str) -> tuple[httpx.Response, str]:
    with bridge.client() as http, http.stream("GET", f"/stream/{session_id}") as response:
        return response, response.read().decode()


def assert_poc_chunks(raw: str) -> str:
    """The POC's framing exactly (json.dumps spacing, one `data:` line per event, `done` last);
    returns the text of the chunks."""
    blocks = raw.split("\n\n")
    assert blocks[-1] == "", f"the body must end with a blank line: {raw[-100:]!r}"
    blocks = blocks[:-1]
    assert blocks[-1] == 'data: {"type": "done"}', blocks[-3:]
    chunks = []
    for block in blocks[:-1]:
        assert block.startswith("data: ") and "\n" not in block, block
        payload = json.loads(block[len("data: "):])
        assert set(payload) == {"chunk"} and isinstance(payload["chunk"], str) and payload["chunk"], payload
        assert block == "data: " + json.dumps(payload, ensure_ascii=False), block
        chunks.append(payload["chunk"])
    return "".join(chunks)


def test_poc_chat_streams_text_with_the_session_header_and_stream_replays_it(start_bridge):
    bridge = start_bridge(SIMULATED)
    session_id = unique_uid("optional-custom-id")
    # The README's request.
    with bridge.client() as http:
        answer = http.post("/chat", json={"message": "Explique-moi les microservices", "session_id": session_id})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain"), answer.headers
    assert answer.headers["x-session-id"] == session_id
    text = result_of(bridge, session_id)["text"]
    assert text and answer.text == text
    response, raw = session_stream(bridge, session_id)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert assert_poc_chunks(raw) == text
    # What the POC's page reads: `data.chunk` until `data.type == "done"`.
    events = parse_events(raw)
    assert [json.loads(e.data) for e in events][-1] == {"type": "done"} and all(e.name is None for e in events)


def test_poc_chat_without_a_session_id_makes_one(start_bridge):
    bridge = start_bridge(SIMULATED)
    with bridge.client() as http:
        answer = http.post("/chat", json={"message": "Bonjour !"})  # the README's curl body
    assert answer.status_code == 200, answer.text
    session_id = answer.headers["x-session-id"]
    assert uuid.UUID(session_id).version == 4
    assert answer.text == result_of(bridge, session_id)["text"]
    _, raw = session_stream(bridge, session_id)
    assert assert_poc_chunks(raw) == answer.text


def test_poc_page_flow_reads_stream_while_chat_is_still_answering(start_bridge):
    """chat.html: POST /chat, take X-Session-ID from the head, open /stream/{id} at once."""
    bridge = start_bridge(paced(40, 40))
    with bridge.client() as http, http.stream("POST", "/chat", json={"message": "Bonjour"}) as answer:
        session_id = answer.headers["x-session-id"]
        with bridge.client() as other:
            running = other.get(f"/v1/streams/{session_id}/result").status_code
        _, raw = session_stream(bridge, session_id)
        body = answer.read().decode()
    assert running == 202, "the stream must still be running when the page opens /stream"
    text = result_of(bridge, session_id)["text"]
    assert assert_poc_chunks(raw) == text == body


def test_poc_a_failure_is_an_error_chunk_then_done(start_bridge, upstream: ScriptedUpstream):
    bridge = start_bridge(scripted_config(upstream))
    session_id = unique_uid("poc-fail")
    with bridge.client() as http:
        answer = http.post("/chat", json={"message": "Hi", "session_id": session_id, "model": "script-errchunk2"})
    assert answer.status_code == 200
    result = result_of(bridge, session_id)
    assert result["status"] == "error", result
    error_text = f"[ERROR: {result['error']['message']}]"
    assert answer.text == tokens_text(2) + error_text
    _, raw = session_stream(bridge, session_id)
    assert assert_poc_chunks(raw) == tokens_text(2) + error_text
    assert raw.endswith(f'data: {json.dumps({"chunk": error_text})}\n\ndata: {{"type": "done"}}\n\n')


def test_poc_chat_client_leaving_cancels_the_stream(start_bridge, upstream: ScriptedUpstream):
    bridge = start_bridge(scripted_config(upstream))
    session_id = unique_uid("poc-leave")
    data = json.dumps({"message": "Hi", "session_id": session_id, "model": "script-slow"}).encode()
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=10) as sock:
        sock.sendall(b"POST /chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        received = b""
        while b"t1 " not in received:
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
    upstream.wait_for(lambda: any(r.aborted for r in upstream.snapshot()), 5, "the model call to be aborted")
    assert result_of(bridge, session_id)["status"] == "cancelled"
    _, raw = session_stream(bridge, session_id)
    assert assert_poc_chunks(raw).startswith("t0 t1 ")


def test_poc_test_checks_the_model_server(start_bridge, upstream: ScriptedUpstream):
    simulated = start_bridge(SIMULATED)
    with simulated.client() as http:
        answer = http.get("/test")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert answer.text.startswith("OK: "), answer.text
    reachable = start_bridge(scripted_config(upstream))
    with reachable.client() as http:
        assert http.get("/test").text.startswith("OK: ")
    upstream.wait_for(lambda: any(r.path.rstrip("/").endswith("/models") for r in upstream.snapshot()), 5,
                      "the check to ask the model server")


def test_poc_test_says_error_when_the_model_server_is_down(start_bridge):
    closed = free_port()
    bridge = start_bridge({"llm": {"provider": "openai", "url": f"http://127.0.0.1:{closed}/v1",
                                   "timeouts": {"connect": "1s"}}})
    with bridge.client() as http:
        answer = http.get("/test")
    # The POC answered its exception as text with status 200.
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert answer.text.startswith("ERROR: ") and str(closed) in answer.text, answer.text


def test_poc_health_keeps_the_fields_its_page_reads(start_bridge):
    bridge = start_bridge(SIMULATED)
    with bridge.client() as http:
        answer = http.get("/health")
    # The POC answered {"status": "ok"}; its page only checks `res.ok`.
    assert answer.status_code == 200 and answer.json()["status"] == "ok", answer.text


def test_poc_a_page_on_another_origin_can_read_x_session_id(start_bridge):
    bridge = start_bridge(SIMULATED)
    with bridge.client() as http:
        answer = http.post("/chat", json={"message": "Hi"}, headers={"Origin": "http://localhost:3000"})
    assert answer.status_code == 200
    exposed = {name.strip().lower() for value in answer.headers.get_list("access-control-expose-headers")
               for name in value.split(",")}
    assert "x-session-id" in exposed, answer.headers
    assert answer.headers["access-control-allow-origin"] == "*"


def test_poc_bad_input_is_a_clear_json_error(start_bridge):
    bridge = start_bridge({**SIMULATED, "pipeline": {"attach_wait": "300ms"}})
    cases = [
        (b"not json", "invalid_json", None),
        (b"[1, 2]", "invalid_json", None),
        (b"{}", "missing_field", "message"),
        (b'{"message": null}', "missing_field", "message"),
        (b'{"message": 42}', "invalid_type", "message"),
        (b'{"message": "hi", "session_id": 7}', "invalid_type", "session_id"),
        (b'{"message": "hi", "session_id": "has space"}', "invalid_value", "session_id"),
        (b'{"message": "hi", "session_id": "../../etc"}', "invalid_value", "session_id"),
        (b'{"message": "hi", "model": ["x"]}', "invalid_type", "model"),
    ]
    with bridge.client() as http:
        for body, code, param in cases:
            error = assert_error_json(http.post("/chat", content=body, headers={"Content-Type": "application/json"}), 400)
            assert (error["code"], error["param"]) == (code, param), (body, error)
        refused = http.get("/chat")
        assert refused.status_code == 405 and refused.headers["allow"] == "POST"
        error = assert_error_json(http.get("/stream/bad%20id"), 404)
        assert error["code"] == "stream_not_found", error
        started = time.monotonic()
        error = assert_error_json(http.get(f"/stream/{unique_uid('nobody')}"), 404)
        assert time.monotonic() - started >= 0.3 and error["code"] == "stream_not_found", error
    bridge.ping()


# MARK: - The FastAPI SSE demo: POST /ask


def test_ask_answers_sse_tokens_then_event_done(start_bridge):
    bridge = start_bridge(SIMULATED)
    given = str(uuid.uuid4()).upper()  # the README's `uuidgen`, as macOS prints it
    with bridge.client() as http, http.stream("POST", "/ask", json={"query": "Hello world", "uuid": given}) as answer:
        raw = answer.read().decode()
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    assert answer.headers["x-stream-id"] == given
    events = parse_events(raw)
    assert events[-1] == Event("done", None), events[-3:]
    tokens = [e.data for e in events[:-1]]
    assert all(e.name is None for e in events[:-1]) and all(tokens), events
    assert "".join(tokens) == result_of(bridge, given)["text"]
    # The demo's page reads lines itself: `data: ` lines are tokens, `event: done` ends it.
    assert raw.endswith("\n\nevent: done\n\n")
    assert all(line.startswith("data: ") or line in ("", "event: done") for line in raw.split("\n")), raw


def test_ask_without_uuid_and_multiline_tokens(start_bridge):
    bridge = start_bridge(paced(400, 0))
    with bridge.client() as http, http.stream("POST", "/ask", json={"query": "Hello, how are you?"}) as answer:
        raw = answer.read().decode()
    uid = answer.headers["x-stream-id"]
    assert uuid.UUID(uid).version == 4
    text = result_of(bridge, uid)["text"]
    assert "\n" in text, "this answer was expected to hold line breaks"
    events = parse_events(raw)
    assert events[-1] == Event("done", None)
    assert "".join(e.data for e in events[:-1]) == text


def test_ask_browsers_on_the_channel_see_the_stream_too(start_bridge):
    bridge = start_bridge(SIMULATED)
    given = str(uuid.uuid4())

    async def go():
        client, recorder, _ = await subscribed(bridge, f"stream_{given}")
        async with httpx.AsyncClient(base_url=bridge.base_url, timeout=15, trust_env=False) as http:
            answer = await http.post("/ask", json={"query": "Hello world", "uuid": given})
        await asyncio.wait_for(recorder.done.wait(), scaled(10))
        await client.disconnect()
        return answer, recorder

    answer, recorder = asyncio.run(go())
    tokens = "".join(e.data for e in parse_events(answer.text)[:-1])
    assert recorder.text() == tokens == result_of(bridge, given)["text"]
    assert recorder.publications[-1][1]["type"] == "done"


def test_ask_a_failure_ends_with_event_error(start_bridge, upstream: ScriptedUpstream):
    bridge = start_bridge(scripted_config(upstream, model="script-errchunk3"))
    with bridge.client() as http:
        answer = http.post("/ask", json={"query": "Hi", "uuid": str(uuid.uuid4())})
    events = parse_events(answer.text)
    assert events[-1] == Event("error", None), events
    assert "".join(e.data for e in events[:-1]) == tokens_text(3)
    assert result_of(bridge, answer.headers["x-stream-id"])["status"] == "error"


def test_ask_bad_input_is_a_clear_json_error(start_bridge):
    bridge = start_bridge(SIMULATED)
    cases = [
        (b"", "invalid_json", None),
        (b'"Hello"', "invalid_json", None),
        (b'{"uuid": "x"}', "missing_field", "query"),
        (b'{"query": 5}', "invalid_type", "query"),
        (b'{"query": ""}', "invalid_value", "query"),
        (b'{"query": "hi", "uuid": 12}', "invalid_type", "uuid"),
        (b'{"query": "hi", "uuid": "not/a/uuid"}', "invalid_value", "uuid"),
        (b'{"query": "hi", "uuid": "' + b"a" * 200 + b'"}', "invalid_value", "uuid"),
    ]
    with bridge.client() as http:
        for body, code, param in cases:
            error = assert_error_json(http.post("/ask", content=body, headers={"Content-Type": "application/json"}), 400)
            assert (error["code"], error["param"]) == (code, param), (body, error)
    bridge.ping()


def test_ask_with_the_uuid_of_a_running_stream_is_a_conflict(start_bridge):
    bridge = start_bridge(paced(40, 20))  # about two seconds of answer
    given = str(uuid.uuid4())
    with bridge.client() as http, http.stream("POST", "/ask", json={"query": "Hi", "uuid": given}) as first:
        assert first.status_code == 200
        error = assert_error_json(http.post("/ask", json={"query": "Again", "uuid": given}), 409)
        assert error["code"] == "stream_exists" and error["param"] == "uid", error
        raw = first.read().decode()
    assert parse_events(raw)[-1] == Event("done", None)


def test_compat_routes_need_the_api_key_when_one_is_set(start_bridge):
    bridge = start_bridge({**SIMULATED, "server": {"api_keys": ["sk-compat"]}})
    with bridge.client() as http:
        for method, path, body in [("POST", "/chat", {"message": "Hi"}), ("POST", "/ask", {"query": "Hi"}),
                                   ("GET", "/stream/some-session", None), ("GET", "/v1/chat/response?uid=x", None)]:
            refused = http.request(method, path, json=body)
            assert_error_json(refused, 401)
        allowed = http.post("/ask", json={"query": "Hi"}, headers={"Authorization": "Bearer sk-compat"})
        assert allowed.status_code == 200 and parse_events(allowed.text)[-1] == Event("done", None)
        # Like /health, the model check needs no key.
        assert http.get("/test").text.startswith("OK: ")
