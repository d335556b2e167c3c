"""The external Centrifugo sink: against a second TokenBridge acting as Centrifugo (its server API),
read back with centrifuge-python, in both API styles and with merged deltas; against a scripted
API that fails in every way Centrifugo can, for order, retries, idempotency and giving up."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from channels import subscribed
from conftest import chat_body, unique_uid, wait_until
from scripted_centrifugo import ScriptedCentrifugo
from timing import scaled

KEY = "centrifugo-key"


def sink_config(api_url: str, **centrifugo) -> dict:
    return {
        "llm": {"provider": "simulated", "simulated": {"tokens": 60, "rate": 0}},
        "sinks": {"default": ["websocket", "centrifugo"],
                  "centrifugo": {"api_url": api_url, "api_key": KEY, **centrifugo}},
    }


def stream_events(bridge, uid: str) -> list[dict]:
    """The stream's own events, from its journal (`GET /v1/streams/{uid}`)."""
    events = []
    with httpx.Client(base_url=bridge.base_url, timeout=30, trust_env=False) as http:
        with http.stream("GET", f"/v1/streams/{uid}") as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
    return events


def metric(bridge, name: str) -> float:
    with bridge.client() as http:
        for line in http.get("/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


@pytest.fixture
def scripted(request):
    servers: list[ScriptedCentrifugo] = []

    def make(*plan: str) -> ScriptedCentrifugo:
        server = ScriptedCentrifugo(list(plan)).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


# MARK: - A real Centrifugo API (a second bridge), read with the SDK


@pytest.mark.parametrize("style", ["v5", "legacy"])
def test_every_event_reaches_centrifugo_once_in_order(style, start_bridge):
    # The second bridge plays Centrifugo: its own streams use another prefix, so stream_<uid>
    # there is an ordinary channel with history, as in a Centrifugo namespace.
    centrifugo = start_bridge({"channels": {"api_key": KEY, "prefix": "local_"}})
    bridge = start_bridge(sink_config(f"{centrifugo.base_url}/api", api_style=style))
    uid = unique_uid("cf")

    async def go():
        client, recorder, _ = await subscribed(centrifugo, f"stream_{uid}")
        with bridge.client() as http:
            assert http.post("/v1/chat/completions", json=chat_body(uid=uid)).status_code == 200
        await asyncio.wait_for(recorder.done.wait(), scaled(15))
        await client.disconnect()
        events = stream_events(bridge, uid)
        assert [data for _, data in recorder.publications] == events, "the same events, once each, in order"
        assert len(events) > 60
        # Late: recovered from Centrifugo's history, exactly once.
        late, late_recorder, _ = await subscribed(centrifugo, f"stream_{uid}", from_start=True)
        await asyncio.wait_for(late_recorder.done.wait(), scaled(15))
        await late.disconnect()
        assert [data for _, data in late_recorder.publications] == events
        assert metric(bridge, "tokenbridge_centrifugo_publications_total") == len(events)
        # Coalesced: far fewer requests than publications.
        assert metric(bridge, "tokenbridge_centrifugo_requests_total") < len(events) / 4

    asyncio.run(go())


def test_merged_deltas_cover_every_seq(start_bridge):
    centrifugo = start_bridge({"channels": {"api_key": KEY, "prefix": "local_"}})
    bridge = start_bridge(sink_config(f"{centrifugo.base_url}/api", merge_deltas=True, coalesce_window="50ms"))
    uid = unique_uid("merge")
    with bridge.client() as http:
        assert http.post("/v1/chat/completions", json=chat_body(uid=uid)).status_code == 200
    events = stream_events(bridge, uid)
    with centrifugo.client(headers={"X-API-Key": KEY}) as http:
        history = wait_until(
            lambda: (h := http.post("/api/history", json={"channel": f"stream_{uid}", "limit": -1}).json()["result"])
            and h.get("publications") and h["publications"][-1]["data"].get("done") and h, 10, "the whole stream in Centrifugo")
    published = [p["data"] for p in history["publications"]]
    assert len(published) < len(events), "deltas were merged"
    covered = []
    for data in published:
        covered += list(range(data["seq_from"], data["seq_to"] + 1)) if "seq_from" in data else [data["seq"]]
    assert covered == [e["seq"] for e in events], "every seq once, in order"
    text = "".join(d.get("text", "") for d in published if d["type"] == "delta")
    assert text == "".join(e.get("text", "") for e in events if e["type"] == "delta")


# MARK: - A scripted API that fails


def test_failures_are_retried_in_order_without_duplicates(start_bridge, scripted):
    api = scripted("ok", "500", "error", "hang", "ok")
    bridge = start_bridge({**sink_config(api.url, timeout="1s", retry_backoff="50ms", coalesce_window="30ms"),
                           "llm": {"provider": "simulated", "simulated": {"tokens": 40, "rate": 100}}})
    uid = unique_uid("retry")
    with bridge.client() as http:
        assert http.post("/v1/chat/completions", json=chat_body(uid=uid)).status_code == 200
    events = stream_events(bridge, uid)
    api.wait_for(lambda: api.accepted and api.accepted[-1]["data"].get("done"), 20, "the last event accepted")
    assert [p["data"] for p in api.accepted] == events, "every event once, in order"
    assert all(p["channel"] == f"stream_{uid}" for p in api.accepted)
    epoch = events[0]["epoch"]
    assert [p["idempotency_key"] for p in api.accepted] == [f"{uid}:{epoch}:{e['seq']}" for e in events]
    # The failed request was sent again as it was: the same publications, the same keys.
    steps = [r.step for r in api.requests]
    assert steps[:5] == ["ok", "500", "error", "hang", "ok"]
    assert api.requests[1].publications == api.requests[2].publications == api.requests[3].publications == api.requests[4].publications
    assert all(r.headers.get("x-api-key") == KEY for r in api.requests)
    assert metric(bridge, "tokenbridge_centrifugo_retries_total") >= 3


def test_after_the_retry_budget_the_sink_gives_up_and_nothing_stalls(start_bridge, scripted):
    api = scripted("500")
    bridge = start_bridge({**sink_config(api.url, retries=2, retry_backoff="20ms"),
                           "llm": {"provider": "simulated", "simulated": {"tokens": 30, "rate": 0}}})
    uid = unique_uid("down")
    with bridge.client() as http:
        answer = http.post("/v1/chat/completions", json=chat_body(uid=uid))
    assert answer.status_code == 200, "the caller's answer does not wait for a failing sink"
    wait_until(lambda: metric(bridge, "tokenbridge_centrifugo_failed_streams_total") == 1, 10, "the sink to give up")
    assert len(api.requests) == 3, "the first try and two retries"
    assert metric(bridge, "tokenbridge_centrifugo_dropped_total") > 0
    bridge.ping()


def test_a_wrong_key_is_not_retried_and_fail_stream_tells_the_other_sinks(start_bridge, scripted):
    api = scripted("401")
    bridge = start_bridge({**sink_config(api.url, fail_stream=True, retries=5),
                           "llm": {"provider": "simulated", "simulated": {"tokens": 400, "rate": 50}}})
    uid = unique_uid("key")
    with bridge.client() as http:
        answer = http.post("/v1/chat/completions", json=chat_body(uid=uid))
    assert answer.status_code == 502 or answer.status_code >= 500, answer.text
    assert "centrifugo" in answer.json()["error"]["message"]
    assert len(api.requests) == 1, "a refused key is not tried again"
    events = stream_events(bridge, uid)
    assert events[-1]["type"] == "error" and events[-1]["error"]["code"] == "sink_failed"


def test_the_legacy_style_sends_method_params_lines_with_apikey_auth(start_bridge, scripted):
    api = scripted("ok")
    bridge = start_bridge({**sink_config(api.url, api_style="legacy"),
                           "llm": {"provider": "simulated", "simulated": {"tokens": 10, "rate": 0}}})
    uid = unique_uid("legacy")
    with bridge.client() as http:
        assert http.post("/v1/chat/completions", json=chat_body(uid=uid)).status_code == 200
    api.wait_for(lambda: api.accepted and api.accepted[-1]["data"].get("done"), 10, "the stream")
    assert all(r.path == "/api" and r.headers.get("authorization") == f"apikey {KEY}" for r in api.requests)
    assert [p["data"] for p in api.accepted] == stream_events(bridge, uid)


def test_requests_reuse_one_kept_alive_connection(start_bridge, scripted):
    api = scripted("ok")
    bridge = start_bridge({**sink_config(api.url, coalesce_window="10ms"),
                           "llm": {"provider": "simulated", "simulated": {"tokens": 60, "rate": 100}}})
    uid = unique_uid("alive")
    with bridge.client() as http:
        assert http.post("/v1/chat/completions", json=chat_body(uid=uid)).status_code == 200
    api.wait_for(lambda: api.accepted and api.accepted[-1]["data"].get("done"), 10, "the stream")
    assert len(api.requests) >= 5, "several requests over the answer's 0.6 s"
    assert len({r.client_port for r in api.requests}) == 1, [r.client_port for r in api.requests]


def test_a_channel_centrifugo_does_not_know_is_not_retried(start_bridge, scripted):
    api = scripted("unknown")
    bridge = start_bridge({**sink_config(api.url, retries=5, retry_backoff="20ms"),
                           "llm": {"provider": "simulated", "simulated": {"tokens": 10, "rate": 0}}})
    with bridge.client() as http:
        assert http.post("/v1/chat/completions", json=chat_body(uid=unique_uid("nochan"))).status_code == 200
    wait_until(lambda: metric(bridge, "tokenbridge_centrifugo_failed_streams_total") == 1, 10, "the sink to give up")
    assert len(api.requests) == 1 and metric(bridge, "tokenbridge_centrifugo_retries_total") == 0
