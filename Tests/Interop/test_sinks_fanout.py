"""One model call to every sink at once: the HTTP caller's SSE, the embedded channel, a RabbitMQ
response queue and an external Centrifugo (a second bridge), with the same seqs and texts
everywhere; queue prompts naming sinks, and refused when they name bad ones."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx

from broker import Broker, dead_letters, publish, read_stream
from channels import subscribed
from conftest import amqp_config, chat_body, deep_merge, unique_uid, wait_broker_up, wait_until
from timing import scaled

KEY = "fanout-key"


def journal(bridge, uid: str) -> list[dict]:
    with httpx.Client(base_url=bridge.base_url, timeout=30, trust_env=False) as http:
        with http.stream("GET", f"/v1/streams/{uid}") as response:
            return [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]


def fanout_bridge(start_bridge, broker: Broker, queue: str):
    centrifugo = start_bridge({"channels": {"api_key": KEY, "prefix": "local_"}})
    config = deep_merge(amqp_config(broker, queue=queue), {
        "llm": {"provider": "simulated", "simulated": {"tokens": 50, "rate": 200}},
        "sinks": {"default": ["websocket"], "allowed": ["websocket", "rabbitmq", "centrifugo"],
                  "centrifugo": {"api_url": f"{centrifugo.base_url}/api", "api_key": KEY}},
    })
    bridge = start_bridge(config)
    wait_broker_up(bridge)
    return bridge, centrifugo


def deltas_text(events: list[dict]) -> str:
    return "".join(e.get("text", "") for e in events if e["type"] == "delta")


def test_one_prompt_to_every_sink_plus_sse_carries_the_same_events(broker: Broker, start_bridge):
    bridge, centrifugo = fanout_bridge(start_bridge, broker, f"fan-{uuid.uuid4().hex[:8]}")
    uid = unique_uid("all")

    async def go():
        channel_client, on_channel, _ = await subscribed(bridge, f"stream_{uid}")
        centrifugo_client, on_centrifugo, _ = await subscribed(centrifugo, f"stream_{uid}")
        body = chat_body(uid=uid, stream=True, sinks=["websocket", "rabbitmq", "centrifugo"])
        sse_text = ""
        async with httpx.AsyncClient(base_url=bridge.base_url, timeout=30) as http:
            async with http.stream("POST", "/v1/chat/completions", json=body) as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line.startswith("data: {"):
                        for choice in json.loads(line[6:]).get("choices") or []:
                            sse_text += (choice.get("delta") or {}).get("content") or ""
        await asyncio.wait_for(on_channel.done.wait(), scaled(15))
        await asyncio.wait_for(on_centrifugo.done.wait(), scaled(15))
        await channel_client.disconnect()
        await centrifugo_client.disconnect()
        return sse_text, [d for _, d in on_channel.publications], [d for _, d in on_centrifugo.publications]

    sse_text, channel_events, centrifugo_events = asyncio.run(go())
    queue_events = [m.event for m in read_stream(broker, f"response_{uid}", timeout=20)]
    events = journal(bridge, uid)
    assert events[0]["type"] == "start" and events[-1]["type"] == "done" and len(events) > 50
    assert channel_events == events
    assert centrifugo_events == events
    assert queue_events == events
    assert deltas_text(events) == sse_text and sse_text


def test_a_queue_prompt_may_name_more_sinks_and_bad_ones_are_dead_lettered(broker: Broker, start_bridge):
    queue = f"named-{uuid.uuid4().hex[:8]}"
    bridge, centrifugo = fanout_bridge(start_bridge, broker, queue)
    uid = unique_uid("named")

    async def go():
        client, recorder, _ = await subscribed(centrifugo, f"stream_{uid}")
        connection = broker.connect()
        publish(connection, {"uid": uid, "messages": [{"role": "user", "content": "hi"}], "sinks": ["centrifugo", "rabbitmq"]},
                queue=queue)
        connection.close()
        await asyncio.wait_for(recorder.done.wait(), scaled(15))
        await client.disconnect()
        return [d for _, d in recorder.publications]

    on_centrifugo = asyncio.run(go())
    queue_events = [m.event for m in read_stream(broker, f"response_{uid}", timeout=20)]
    assert on_centrifugo == queue_events == journal(bridge, uid)
    # A sink that does not exist: the prompt goes to the dead-letter queue, saying why.
    connection = broker.connect()
    publish(connection, {"uid": unique_uid("bad"), "messages": [{"role": "user", "content": "hi"}], "sinks": ["fax"]},
            queue=queue)
    connection.close()
    letters: list = []
    wait_until(lambda: letters.extend(dead_letters(broker, f"{queue}.dead", idle=0.3)) or letters, 15, "the dead letter")
    assert "Unknown sink 'fax'" in letters[0].headers["x-tokenbridge-reason"]
    bridge.ping()


def test_a_queue_control_cancel_aborts_the_model_call_and_ends_every_sink(broker: Broker, start_bridge, upstream):
    from conftest import scripted_config

    queue = f"cancel-{uuid.uuid4().hex[:8]}"
    bridge = start_bridge(deep_merge(amqp_config(broker, queue=queue), scripted_config(upstream)))
    wait_broker_up(bridge)
    uid = unique_uid("ctl")

    async def go():
        client, on_channel, _ = await subscribed(bridge, f"stream_{uid}")
        connection = broker.connect()
        publish(connection, {"uid": uid, "model": "script-slow", "messages": [{"role": "user", "content": "hi"}]}, queue=queue)
        upstream.wait_for(lambda: any(r.tokens_sent >= 2 for r in upstream.snapshot()), 10, "tokens to flow")
        publish(connection, {"uid": uid, "action": "cancel"}, queue="", exchange="tokenbridge.control")
        connection.close()
        upstream.wait_for(lambda: any(r.aborted for r in upstream.snapshot()), 5, "the model call to be aborted")
        await asyncio.wait_for(on_channel.done.wait(), scaled(10))
        await client.disconnect()
        return [d for _, d in on_channel.publications]

    on_channel = asyncio.run(go())
    queue_events = [m.event for m in read_stream(broker, f"response_{uid}", timeout=20)]
    assert on_channel[-1]["type"] == queue_events[-1]["type"] == journal(bridge, uid)[-1]["type"] == "cancelled"
    assert on_channel == queue_events


def test_an_http_stream_whose_response_queue_cannot_be_reached_still_answers(private_broker: Broker, start_bridge):
    bridge = start_bridge(deep_merge(amqp_config(private_broker, queue=f"gone-{uuid.uuid4().hex[:8]}"),
                                     {"llm": {"provider": "simulated", "simulated": {"tokens": 20, "rate": 0}}}))
    wait_broker_up(bridge)
    private_broker.stop()
    wait_until(lambda: bridge.health()["checks"]["rabbitmq"]["status"] == "down", 10, "the broker to be gone")
    uid = unique_uid("gone")
    with bridge.client() as http:
        answer = http.post("/v1/chat/completions", json=chat_body(uid=uid, sinks=["rabbitmq", "websocket"]))
        assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["content"]
        counted = lambda: any(line == "tokenbridge_rabbitmq_sink_failures_total 1" for line in http.get("/metrics").text.splitlines())
        wait_until(counted, 10, "the failed response queue to be counted")
    assert journal(bridge, uid)[-1]["type"] == "done", "the other sinks never noticed"
