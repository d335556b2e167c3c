"""A client that stops reading is merged, then cut off (3008); it never holds up the stream or the
other subscribers. /metrics counts it."""

from __future__ import annotations

import asyncio

import httpx
import websockets
from channels import post_stream, subscribed, ws_url
from conftest import unique_uid
from timing import scaled


def metric(bridge, name: str) -> float:
    for line in httpx.get(f"{bridge.base_url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


def test_a_client_that_stops_reading_is_closed_and_delays_nobody(start_bridge):
    bridge = start_bridge({
        "llm": {"provider": "simulated", "simulated": {"tokens": 60000, "rate": 0}},
        "channels": {"max_queued_bytes": "64KiB", "max_queued_messages": 500},
    })

    async def go():
        uid = unique_uid("slow")
        # The stalled reader: a tiny receive buffer and no reads, so the socket fills fast.
        stalled = await websockets.connect(ws_url(bridge), max_size=None, max_queue=1)
        await stalled.send('{"id":1,"connect":{}}')
        await stalled.recv()
        await stalled.send(f'{{"id":2,"subscribe":{{"channel":"stream_{uid}"}}}}')
        await stalled.recv()
        stalled.transport.pause_reading()

        client, recorder, _ = await subscribed(bridge, f"stream_{uid}", from_start=True)
        response = await post_stream(bridge, uid)
        assert response.status_code == 200
        await asyncio.wait_for(recorder.done.wait(), scaled(60))
        await client.disconnect()
        covered = []
        for _, data in recorder.publications:
            covered += list(range(data.get("seq_from", data["seq"]), data.get("seq_to", data["seq"]) + 1))
        assert covered == list(range(1, 60003)), "the reader that keeps up gets everything, merged or not"
        assert recorder.text() == response.json()["choices"][0]["message"]["content"]

        stalled.transport.resume_reading()
        code = None
        try:
            while True:
                await asyncio.wait_for(stalled.recv(), 10)
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
        assert code == 3008
        assert metric(bridge, "tokenbridge_channel_slow_disconnects_total") >= 1

    asyncio.run(go())
    bridge.ping()


def test_metrics_count_connections_subscriptions_and_publications(start_bridge):
    bridge = start_bridge({"llm": {"provider": "simulated", "simulated": {"tokens": 10, "rate": 0}}})

    async def go():
        uid = unique_uid("metrics")
        client, recorder, _ = await subscribed(bridge, f"stream_{uid}")
        assert metric(bridge, "tokenbridge_channel_connections") == 1
        assert metric(bridge, "tokenbridge_channel_subscriptions") == 1
        before = metric(bridge, "tokenbridge_channel_publications_total")
        await post_stream(bridge, uid)
        await asyncio.wait_for(recorder.done.wait(), scaled(10))
        assert metric(bridge, "tokenbridge_channel_publications_total") - before == 12
        assert metric(bridge, "tokenbridge_streams_started_total") >= 1
        await client.disconnect()

    asyncio.run(go())
