"""`POST /api/execute`, the backend of Centrifugo's AI streaming example
(centrifugal.dev blog, 2025-06-17, and centrifugal/examples v6/gpt-stream): `{text, channel}` in,
`{}` back at once, the answer published into `channel` as `{"text": …, "done": false}` messages
and a final `{"done": true}`, on the embedded channel server or an external Centrifugo."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from channels import subscribed
from conftest import unique_uid
from timing import scaled


def slow(tokens: int = 40, rate: float = 20) -> dict:
    return {"llm": {"provider": "simulated", "simulated": {"tokens": tokens, "rate": rate}}}


def answer_text(messages: list[dict]) -> str:
    return "".join(m.get("text", "") for m in messages if not m["done"])


def test_the_example_page_flow_on_the_embedded_server(start_bridge):
    bridge = start_bridge(slow())
    channel = f"stream_{uuid.uuid4()}"  # what the example's page makes: stream_${crypto.randomUUID()}

    async def go():
        client, recorder, _ = await subscribed(bridge, channel)
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=bridge.base_url, timeout=30) as http:
            answer = await http.post("/api/execute", json={"text": "Tell me about streaming", "channel": channel})
            elapsed = time.monotonic() - started
            assert answer.status_code == 200 and answer.json() == {}
            assert not recorder.done.is_set() and elapsed < 1.5, "answered at once, not after the whole answer (2 s)"
            await asyncio.wait_for(recorder.done.wait(), scaled(15))
            result = (await http.get(f"/v1/streams/{answer.headers['x-stream-id']}/result")).json()
        await client.disconnect()
        messages = [data for _, data in recorder.publications]
        assert all(set(m) == {"text", "done"} and m["done"] is False for m in messages[:-1])
        assert messages[-1] == {"done": True}
        assert answer_text(messages) == result["text"] and result["status"] == "done"
        # A late subscriber recovering from the start gets the same messages, once each.
        late, late_recorder, _ = await subscribed(bridge, channel, from_start=True)
        await asyncio.wait_for(late_recorder.done.wait(), scaled(10))
        await late.disconnect()
        assert [data for _, data in late_recorder.publications] == messages
        assert [offset for offset, _ in late_recorder.publications] == list(range(1, len(messages) + 1))

    asyncio.run(go())


def test_execute_publishes_to_an_external_centrifugo_when_that_is_the_sink(start_bridge):
    centrifugo = start_bridge({"channels": {"api_key": "k", "prefix": "local_"}})
    bridge = start_bridge({**slow(20, 0), "sinks": {"default": ["centrifugo"],
                                                    "centrifugo": {"api_url": f"{centrifugo.base_url}/api", "api_key": "k"}}})
    channel = f"answers:{unique_uid('x')}"

    async def go():
        client, recorder, _ = await subscribed(centrifugo, channel)
        async with httpx.AsyncClient(base_url=bridge.base_url, timeout=30) as http:
            answer = await http.post("/api/execute", json={"text": "hi", "channel": channel})
            assert answer.status_code == 200 and answer.json() == {}
        await asyncio.wait_for(recorder.done.wait(), scaled(15))
        await client.disconnect()
        messages = [data for _, data in recorder.publications]
        assert messages[-1] == {"done": True} and answer_text(messages)

    asyncio.run(go())


def test_bad_execute_commands_are_refused(start_bridge):
    bridge = start_bridge({})
    with bridge.client() as http:
        for body, param in [({"channel": "c"}, "text"), ({"text": "", "channel": "c"}, "text"),
                            ({"text": "hi"}, "channel"), ({"text": "hi", "channel": "caf\u00e9"}, "channel"),
                            ({"text": "hi", "channel": "x" * 256}, "channel"), ({"text": 5, "channel": "c"}, "text")]:
            refused = http.post("/api/execute", json=body)
            assert refused.status_code == 400 and refused.json()["error"]["param"] == param, (body, refused.text)
        assert http.post("/api/execute", content=b"not json").status_code == 400
        assert http.get("/api/execute").status_code == 405
    # Without a channel sink there is nowhere to publish.
    quiet = start_bridge({"sinks": {"default": []}})
    with quiet.client() as http:
        assert http.post("/api/execute", json={"text": "hi", "channel": "c"}).status_code == 503
    bridge.ping()


def test_execute_needs_the_api_key_and_leaves_other_streams_channels_alone(start_bridge):
    bridge = start_bridge({**slow(10, 0), "server": {"api_keys": ["sesame"]}})
    key = {"Authorization": "Bearer sesame"}
    with bridge.client() as http:
        assert http.post("/api/execute", json={"text": "hi", "channel": "c"}).status_code == 401
        assert http.post("/api/execute", json={"text": "hi", "channel": "c"}, headers=key).status_code == 200
        uid = unique_uid("owned")
        assert http.post("/v1/chat/completions", json={"uid": uid, "messages": [{"role": "user", "content": "x"}]},
                         headers=key).status_code == 200
        taken = http.post("/api/execute", json={"text": "hi", "channel": f"stream_{uid}"}, headers=key)
        assert taken.status_code == 409 and taken.json()["error"]["code"] == "channel_taken"
