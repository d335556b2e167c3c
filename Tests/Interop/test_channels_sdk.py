"""The embedded channel server driven by the official Centrifugo SDK (centrifuge-python 0.7.0):
every token of a stream as a publication, in order; late and reconnecting subscribers recover
the whole stream exactly once; server pings keep the SDK connected while tokens flow."""

from __future__ import annotations

import asyncio

import pytest

from channels import ConnectionEvents, post_stream, subscribed
from conftest import unique_uid
from timing import scaled


def slow_stream(tokens: int = 60, rate: float = 30) -> dict:
    return {"llm": {"provider": "simulated", "simulated": {"tokens": tokens, "rate": rate}}}


async def answer_of(bridge, uid: str) -> str:
    response = await post_stream(bridge, uid)
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def test_a_subscriber_gets_every_token_of_a_stream_in_order(start_bridge):
    bridge = start_bridge(slow_stream(40, 200))

    async def run():
        uid = unique_uid("sdk")
        client, recorder, _ = await subscribed(bridge, f"stream_{uid}")
        text = await answer_of(bridge, uid)
        await asyncio.wait_for(recorder.done.wait(), scaled(15))
        await client.disconnect()
        events = [data for _, data in recorder.publications]
        assert [offset for offset, _ in recorder.publications] == list(range(1, len(events) + 1))
        assert recorder.seqs() == list(range(1, len(events) + 1)), "offset is seq"
        assert events[0]["type"] == "start" and events[-1]["type"] == "done"
        assert all(data["uid"] == uid for data in events)
        assert recorder.text() == text

    asyncio.run(run())


def test_a_late_subscriber_recovers_the_whole_stream_exactly_once(start_bridge):
    bridge = start_bridge(slow_stream(60, 30))

    async def run():
        uid = unique_uid("late")
        post = asyncio.create_task(answer_of(bridge, uid))
        await asyncio.sleep(1.0)  # the stream is a second old when the subscriber arrives
        client, recorder, _ = await subscribed(bridge, f"stream_{uid}", from_start=True)
        text = await post
        await asyncio.wait_for(recorder.done.wait(), scaled(15))
        await client.disconnect()
        assert recorder.subscribed[0].recovered
        assert recorder.seqs() == list(range(1, len(recorder.seqs()) + 1)), "no gap, no duplicate"
        assert recorder.publications[0][1]["type"] == "start"
        assert recorder.text() == text

    asyncio.run(run())


def test_a_dropped_socket_reconnects_and_recovers_without_gap_or_duplicate(start_bridge):
    bridge = start_bridge(slow_stream(80, 40))

    async def run():
        uid = unique_uid("drop")
        events = ConnectionEvents()
        client, recorder, _ = await subscribed(
            bridge, f"stream_{uid}", from_start=True, events=events, min_reconnect_delay=0.1, max_reconnect_delay=0.5)
        post = asyncio.create_task(answer_of(bridge, uid))
        while len(recorder.publications) < 20:
            await asyncio.sleep(0.02)
        # The network goes away under the SDK: no close frame, the socket just dies.
        client._conn.transport.abort()
        text = await post
        await asyncio.wait_for(recorder.done.wait(), scaled(20))
        await client.disconnect()
        assert len(events.connected) >= 2, "it reconnected"
        assert recorder.subscribed[-1].recovered and recorder.subscribed[-1].was_recovering
        assert recorder.seqs() == list(range(1, len(recorder.seqs()) + 1)), "no gap, no duplicate"
        assert recorder.text() == text

    asyncio.run(run())


@pytest.mark.timeout(90)
def test_pings_keep_the_sdk_connected_through_30_seconds_of_streaming(start_bridge):
    """centrifuge-python resets its no-ping watchdog only on pings, not on publications: the
    server must ping on its fixed timer even while tokens flow."""
    bridge = start_bridge({**slow_stream(300, 10), "channels": {"ping_interval": "2s", "pong_timeout": "1s"}})

    async def run():
        uid = unique_uid("pings")
        events = ConnectionEvents()
        client, recorder, _ = await subscribed(bridge, f"stream_{uid}", from_start=True, events=events)
        text = await answer_of(bridge, uid)
        await asyncio.wait_for(recorder.done.wait(), scaled(15))
        await client.disconnect()
        assert len(events.connected) == 1, f"reconnected: {events.connecting}"
        assert not events.connecting[1:], "no 'no ping' reconnect"
        assert recorder.seqs() == list(range(1, 303))
        assert recorder.text() == text

    asyncio.run(run())
