"""The stream API: asynchronous submit (202), `GET /v1/streams/{uid}` as resumable SSE (live,
replayed, before the stream exists), `/result`, cancel by `DELETE`, `POST .../cancel` and the
WebSocket `rpc` `cancel`, the disconnect policy, and sink selection per request."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest

from channels import RawSocket, Recorder, subscribed
from conftest import chat_body, scripted_config, unique_uid, wait_until
from scripted_upstream import ScriptedUpstream, tokens_text
from timing import scaled


@dataclass
class StreamEvents:
    """What one `GET /v1/streams/{uid}` read: its status, headers and SSE events."""

    status: int
    headers: httpx.Headers
    events: list[dict] = field(default_factory=list)  # {"id", "event", "data"}
    body: bytes = b""

    @property
    def seqs(self) -> list[int]:
        return [int(e["id"]) for e in self.events]

    @property
    def text(self) -> str:
        return "".join(e["data"].get("text", "") for e in self.events if e["event"] == "delta")


def read_events(bridge, uid: str, *, stop_after: int | None = None, headers: dict | None = None,
                params: dict | None = None, timeout: float = 30) -> StreamEvents:
    """Reads the stream's SSE to its end (or drops the connection after `stop_after` events)."""
    with httpx.Client(base_url=bridge.base_url, timeout=timeout, trust_env=False) as http:
        with http.stream("GET", f"/v1/streams/{uid}", headers=headers, params=params) as response:
            result = StreamEvents(response.status_code, response.headers)
            if response.status_code != 200:
                result.body = response.read()
                return result
            current: dict = {}
            for line in response.iter_lines():
                if line.startswith(":"):
                    continue
                if not line:
                    if current:
                        current["data"] = json.loads(current["data"])
                        result.events.append(current)
                        current = {}
                        if stop_after is not None and len(result.events) >= stop_after:
                            return result
                    continue
                name, _, value = line.partition(": ")
                current[name] = value
            return result


def metric(bridge, name: str) -> float | None:
    with bridge.client() as http:
        for line in http.get("/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def submit(bridge, **body) -> httpx.Response:
    with bridge.client() as http:
        return http.post("/v1/chat/completions", json=chat_body(**body))


def result_of(bridge, uid: str) -> httpx.Response:
    with bridge.client() as http:
        return http.get(f"/v1/streams/{uid}/result")


def paced(tokens: int = 40, rate: float = 40) -> dict:
    return {"llm": {"provider": "simulated", "simulated": {"tokens": tokens, "rate": rate}}}


# MARK: - Asynchronous submit and the event stream


def test_an_async_submit_answers_202_and_the_stream_reads_whole(start_bridge):
    bridge = start_bridge(paced(30, 200))
    uid = unique_uid("async")
    answer = submit(bridge, uid=uid, **{"async": True})
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"uid": uid, "channel": f"stream_{uid}", "stream_url": f"/v1/streams/{uid}",
                             "result_url": f"/v1/streams/{uid}/result", "status": "accepted"}
    assert answer.headers["x-stream-id"] == uid and answer.headers["location"] == f"/v1/streams/{uid}"
    assert "preference-applied" not in answer.headers, "the body asked, not a Prefer header"
    events = read_events(bridge, uid)
    assert events.status == 200 and events.headers["content-type"].startswith("text/event-stream")
    assert events.seqs == list(range(1, len(events.events) + 1))
    assert [e["event"] for e in events.events] == [e["data"]["type"] for e in events.events]
    assert events.events[0]["event"] == "start" and events.events[-1]["event"] == "done"
    assert events.headers["x-stream-epoch"] == events.events[0]["data"]["epoch"]
    result = result_of(bridge, uid)
    assert result.status_code == 200
    body = result.json()
    assert body["status"] == "done" and body["text"] == events.text and body["finish_reason"] == "stop"
    assert body["epoch"] == events.events[0]["data"]["epoch"] and body["usage"]["completion_tokens"] > 0
    # Replayed again, after the end, from a point: only what follows it.
    assert read_events(bridge, uid, params={"after": 5}).seqs == list(range(6, len(events.events) + 1))


def test_prefer_respond_async_works_like_the_field(start_bridge):
    bridge = start_bridge(paced(10, 0))
    uid = unique_uid("prefer")
    with bridge.client() as http:
        answer = http.post("/v1/chat/completions", json=chat_body(uid=uid), headers={"Prefer": "wait=5, respond-async"})
    assert answer.status_code == 202 and answer.json()["uid"] == uid
    assert answer.headers["preference-applied"] == "respond-async"
    assert read_events(bridge, uid).events[-1]["event"] == "done"


def test_a_reader_that_drops_resumes_with_last_event_id_exactly_once(start_bridge):
    bridge = start_bridge(paced(60, 40))
    uid = unique_uid("resume")
    assert submit(bridge, uid=uid, **{"async": True}).status_code == 202
    first = read_events(bridge, uid, stop_after=8)
    assert first.seqs == list(range(1, 9))
    rest = read_events(bridge, uid, headers={"Last-Event-ID": "8"})
    assert rest.seqs == list(range(9, rest.seqs[-1] + 1)) and rest.events[-1]["event"] == "done"
    assert result_of(bridge, uid).json()["text"] == first.text + rest.text


def test_a_reader_can_come_before_the_stream(start_bridge):
    bridge = start_bridge({**paced(20, 0), "pipeline": {"attach_wait": "10s"}})
    uid = unique_uid("early")
    read: list[StreamEvents] = []
    reader = threading.Thread(target=lambda: read.append(read_events(bridge, uid)))
    reader.start()
    wait_until(lambda: metric(bridge, "tokenbridge_journal_waiting_readers") == 1, 5, "the reader to be waiting")
    assert submit(bridge, uid=uid, **{"async": True}).status_code == 202
    reader.join(scaled(30))
    assert read and read[0].status == 200 and read[0].seqs[0] == 1 and read[0].events[-1]["event"] == "done"
    assert metric(bridge, "tokenbridge_journal_waiting_readers") == 0


def test_unknown_streams_and_bad_resume_points_are_refused(start_bridge):
    bridge = start_bridge({"pipeline": {"attach_wait": "300ms"}})
    started = time.monotonic()
    missing = read_events(bridge, "no-such-stream")
    assert missing.status == 404 and json.loads(missing.body)["error"]["code"] == "stream_not_found"
    assert time.monotonic() - started >= 0.3, "it waited attach_wait for the stream"
    with bridge.client() as http:
        assert http.get("/v1/streams/no-such-stream/result").status_code == 404
        assert http.get("/v1/streams/bad%20uid").status_code == 404
        assert http.delete("/v1/streams/no-such-stream").status_code == 404
        uid = unique_uid("bad")
        assert http.post("/v1/chat/completions", json=chat_body(uid=uid)).status_code == 200
        for headers, params in [({"Last-Event-ID": "x"}, None), (None, {"after": "-1"}), (None, {"after": "1.5"}),
                                (None, {"after": "2", "epoch": "not an epoch"})]:
            bad = http.get(f"/v1/streams/{uid}", headers=headers, params=params)
            assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_value", bad.text
        assert http.post(f"/v1/streams/{uid}").status_code == 405
    bridge.ping()


def test_the_result_of_a_running_stream_is_202_with_what_came_so_far(start_bridge):
    bridge = start_bridge(paced(200, 20))
    uid = unique_uid("partial")
    assert submit(bridge, uid=uid, **{"async": True}).status_code == 202
    read_events(bridge, uid, stop_after=4)
    partial = result_of(bridge, uid)
    assert partial.status_code == 202 and partial.json()["status"] == "running" and partial.json()["finish_reason"] is None
    with bridge.client() as http:
        assert http.delete(f"/v1/streams/{uid}").status_code == 200


# MARK: - Cancel


@pytest.mark.parametrize("how", ["DELETE", "POST cancel"])
def test_cancel_over_http_aborts_the_model_call_and_ends_every_reader(how, start_bridge, upstream: ScriptedUpstream):
    bridge = start_bridge(scripted_config(upstream))
    uid = unique_uid("cancel")

    async def go():
        client, recorder, _ = await subscribed(bridge, f"stream_{uid}")
        assert submit(bridge, uid=uid, model="script-slow", **{"async": True}).status_code == 202
        first = read_events(bridge, uid, stop_after=3)
        assert first.seqs == [1, 2, 3]
        with bridge.client() as http:
            if how == "DELETE":
                cancelled = http.delete(f"/v1/streams/{uid}")
            else:
                cancelled = http.post(f"/v1/streams/{uid}/cancel")
            assert cancelled.status_code == 200 and cancelled.json() == {"uid": uid, "status": "cancelled"}
            again = http.delete(f"/v1/streams/{uid}")
            assert again.status_code == 409 and again.json()["error"]["code"] == "stream_finished"
        upstream.wait_for(lambda: any(r.aborted for r in upstream.snapshot()), 5, "the model call to be aborted")
        await asyncio.wait_for(recorder.done.wait(), scaled(5))
        await client.disconnect()
        assert recorder.publications[-1][1]["type"] == "cancelled"
        assert read_events(bridge, uid).events[-1]["event"] == "cancelled"
        assert result_of(bridge, uid).json()["status"] == "cancelled"

    asyncio.run(go())


def test_rpc_cancel_on_the_websocket_stops_the_stream(start_bridge, upstream: ScriptedUpstream):
    bridge = start_bridge(scripted_config(upstream))
    uid = unique_uid("rpc")

    async def go():
        client, recorder, _ = await subscribed(bridge, f"stream_{uid}")
        assert submit(bridge, uid=uid, model="script-slow", **{"async": True}).status_code == 202
        upstream.wait_for(lambda: any(r.tokens_sent >= 2 for r in upstream.snapshot()), 10, "tokens to flow")
        reply = await client.rpc("cancel", {"uid": uid})
        assert reply.data == {"uid": uid, "status": "cancelled"}
        upstream.wait_for(lambda: any(r.aborted for r in upstream.snapshot()), 5, "the model call to be aborted")
        await asyncio.wait_for(recorder.done.wait(), scaled(5))
        assert recorder.publications[-1][1]["type"] == "cancelled"
        await client.disconnect()
        # Raw: a stream that is not running, a missing uid, an unknown method.
        raw = await RawSocket.open(bridge)
        await raw.connect()
        await raw.send({"id": 2, "rpc": {"method": "cancel", "data": {"uid": uid}}},
                       {"id": 3, "rpc": {"method": "cancel", "data": {}}},
                       {"id": 4, "rpc": {"method": "teleport", "data": {}}})
        assert (await raw.reply(2))["error"]["code"] == 404
        assert (await raw.reply(3))["error"]["code"] == 107
        assert (await raw.reply(4))["error"]["code"] == 104
        await raw.close()

    asyncio.run(go())


# MARK: - Disconnect policy


def _leave_after_first_chunk(port: int, body: dict) -> None:
    data = json.dumps(body).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        received = b""
        while b"data: " not in received:
            chunk = sock.recv(65536)
            assert chunk
            received += chunk


def test_on_disconnect_continue_lets_the_answer_finish(start_bridge, upstream: ScriptedUpstream):
    bridge = start_bridge(scripted_config(upstream))
    uid = unique_uid("keep")
    _leave_after_first_chunk(bridge.port, chat_body(uid=uid, model="script-ok40", stream=True, on_disconnect="continue"))
    done = wait_until(lambda: (r := result_of(bridge, uid)).status_code == 200 and r.json(), 10, "the answer to finish")
    assert done["status"] == "done" and done["text"] == tokens_text(40)
    assert not any(r.aborted for r in upstream.snapshot())
    # Naming sinks means continue by default too.
    uid2 = unique_uid("keep")
    _leave_after_first_chunk(bridge.port, chat_body(uid=uid2, model="script-ok40", stream=True, sinks=["websocket"]))
    assert wait_until(lambda: result_of(bridge, uid2).json()["status"] != "running", 10, "the second answer")
    assert result_of(bridge, uid2).json()["status"] == "done"
    with bridge.client() as http:
        bad = http.post("/v1/chat/completions", json=chat_body(on_disconnect="later"))
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "on_disconnect"


# MARK: - Sink selection


def test_a_request_chooses_its_sinks_within_what_is_allowed(start_bridge):
    bridge = start_bridge({**paced(10, 0), "sinks": {"default": [], "allowed": ["websocket", "rabbitmq"]}})

    async def go():
        quiet_uid, loud_uid = unique_uid("quiet"), unique_uid("loud")
        quiet, quiet_recorder, _ = await subscribed(bridge, f"stream_{quiet_uid}")
        loud, loud_recorder, _ = await subscribed(bridge, f"stream_{loud_uid}")
        with bridge.client() as http:
            # No default sinks: the channel hears nothing; naming websocket brings it in.
            assert http.post("/v1/chat/completions", json=chat_body(uid=quiet_uid)).status_code == 200
            named = http.post("/v1/chat/completions", json=chat_body(uid=loud_uid, sinks=["websocket", "websocket"]))
            assert named.status_code == 200
            await asyncio.wait_for(loud_recorder.done.wait(), scaled(10))
            assert loud_recorder.seqs() == list(range(1, len(loud_recorder.publications) + 1))
            assert quiet_recorder.publications == []
            for sinks, code in [(["carrier-pigeon"], "unknown_sink"), (["centrifugo"], "sink_not_allowed"),
                                (["rabbitmq"], "sink_unavailable"), ("websocket", "invalid_type"), ([1], "invalid_type")]:
                refused = http.post("/v1/chat/completions", json=chat_body(sinks=sinks))
                assert refused.status_code == 400, refused.text
                assert refused.json()["error"]["code"] == code and refused.json()["error"]["param"] == "sinks", refused.text
            # Async with no channel among its sinks says so.
            answer = http.post("/v1/chat/completions", json=chat_body(sinks=[], **{"async": True}))
            assert answer.status_code == 202 and answer.json()["channel"] is None
        await quiet.disconnect()
        await loud.disconnect()

    asyncio.run(go())


def test_the_result_assembles_reasoning_and_tool_calls(start_bridge, upstream: ScriptedUpstream):
    from scripted_upstream import TOOL_CALLS

    bridge = start_bridge(scripted_config(upstream))
    tools_uid, thinking_uid = unique_uid("tools"), unique_uid("think")
    assert submit(bridge, uid=tools_uid, model="script-tools", **{"async": True}).status_code == 202
    assert submit(bridge, uid=thinking_uid, model="script-reasoning", **{"async": True}).status_code == 202
    tools = wait_until(lambda: (r := result_of(bridge, tools_uid)).status_code == 200 and r.json(), 10, "the tool calls")
    assert tools["finish_reason"] == "tool_calls"
    assert [{k: v for k, v in call.items() if k != "index"} for call in tools["tool_calls"]] == TOOL_CALLS
    assert [call["index"] for call in tools["tool_calls"]] == [0, 1]
    thinking = wait_until(lambda: (r := result_of(bridge, thinking_uid)).status_code == 200 and r.json(), 10, "the answer")
    assert thinking["reasoning"] == "r0 r1 r2 " and thinking["text"] == tokens_text(5) and thinking["error"] is None


def test_last_event_id_wins_over_after_and_a_reader_with_everything_gets_204(start_bridge):
    bridge = start_bridge(paced(20, 0))
    uid = unique_uid("both")
    assert submit(bridge, uid=uid).status_code == 200
    whole = read_events(bridge, uid)
    last = whole.seqs[-1]
    # An EventSource opened with ?after=2 reconnects to the same URL saying how far it got.
    resumed = read_events(bridge, uid, headers={"Last-Event-ID": "10"}, params={"after": 2})
    assert resumed.seqs == list(range(11, last + 1))
    done = read_events(bridge, uid, headers={"Last-Event-ID": str(last)})
    assert done.status == 204 and done.headers["x-stream-id"] == uid


def test_a_resume_point_names_its_run_so_a_rerun_is_read_from_its_start(start_bridge):
    bridge = start_bridge(paced(12, 0))
    uid = unique_uid("rerun")
    assert submit(bridge, uid=uid).status_code == 200
    first = read_events(bridge, uid)
    one = first.events[0]["data"]["epoch"]
    # The same uid answered again (as a redelivered prompt is): a new run under a new epoch.
    assert submit(bridge, uid=uid).status_code == 200
    second = read_events(bridge, uid)
    two = second.events[0]["data"]["epoch"]
    assert two != one and second.seqs[0] == 1
    # A reader that had run ONE up to seq 5 gets run TWO from its start, not TWO's seqs past 5.
    stale = read_events(bridge, uid, headers={"Last-Event-ID": "5"}, params={"epoch": one})
    assert stale.status == 200 and stale.seqs == second.seqs, stale.seqs
    assert stale.events[0]["event"] == "start" and stale.events[0]["data"]["epoch"] == two
    # Within the current run the point counts as before.
    current = read_events(bridge, uid, headers={"Last-Event-ID": "5"}, params={"epoch": two})
    assert current.seqs == list(range(6, second.seqs[-1] + 1))
    # Had all of run ONE: still the whole of run TWO (without the epoch that would be a 204).
    everything = read_events(bridge, uid, params={"after": first.seqs[-1], "epoch": one})
    assert everything.status == 200 and everything.seqs == second.seqs
