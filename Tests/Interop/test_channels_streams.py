"""Streams as channels, end to end with a raw WebSocket and the SDK: long answers recover past
Centrifugo's default 300, the channel's epoch is the run's, error 112 only on request, history
expiry keeps the position, a non-default prefix, live-only publishes into a stream's channel,
batched pushes, the connection limit and the close on shutdown."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from channels import RawSocket, post_stream, subscribed
from conftest import unique_uid, wait_until
from timing import scaled


@pytest.fixture(scope="module")
def long_streams(tmp_path_factory):
    """600-token answers at full speed, and an open server API."""
    from conftest import Registry, launch_bridge

    registry = Registry(tmp_path_factory.mktemp("channels-streams"))
    bridge = launch_bridge(registry, registry.log_dir, {
        "channels": {"api_insecure": True},
        "llm": {"provider": "simulated", "simulated": {"tokens": 600, "rate": 0}},
    })
    yield bridge
    registry.stop_all()


def run(coroutine):
    return asyncio.run(coroutine)


def recover_all(channel: str, id: int = 2) -> dict:
    return {"id": id, "subscribe": {"channel": channel, "recover": True, "offset": 0, "epoch": ""}}


async def pushes_until_done(socket: RawSocket, channel: str, timeout: float = 30) -> tuple[list[dict], list[int]]:
    """The publications pushed in `channel` up to the stream's terminal event, and how many
    publications each frame carried."""
    publications: list[dict] = []
    per_frame: list[int] = []
    deadline = time.monotonic() + timeout
    lines = socket.pending
    socket.pending = []
    while True:
        pubs = [line["push"]["pub"] for line in lines if line.get("push", {}).get("channel") == channel and "pub" in line["push"]]
        if pubs:
            per_frame.append(len(pubs))
        publications += pubs
        if any(pub["data"].get("done") for pub in pubs):
            return publications, per_frame
        lines = await socket.frame(timeout=max(0.1, deadline - time.monotonic()))


def test_a_finished_600_token_answer_recovers_whole_under_its_runs_epoch(long_streams):
    async def go():
        uid = unique_uid("long")
        channel = f"stream_{uid}"
        assert (await post_stream(long_streams, uid)).status_code == 200
        socket = await RawSocket.open(long_streams)
        await socket.connect()
        await socket.send(recover_all(channel))
        reply = (await socket.reply(2))["subscribe"]
        publications = reply["publications"]
        events = [publication["data"] for publication in publications]
        assert len(publications) > 300, "more than Centrifugo's default recovery limit"
        assert [p["offset"] for p in publications] == [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert events[0]["type"] == "start" and events[-1]["type"] == "done"
        assert reply["recovered"] is True and reply["was_recovering"] is True and reply["offset"] == len(events)
        assert reply["epoch"] == events[0]["epoch"], "the channel's epoch is the run's"
        await socket.close()

        # The SDK sees the same: every event once, under that epoch.
        client, recorder, _ = await subscribed(long_streams, channel, from_start=True)
        await asyncio.wait_for(recorder.done.wait(), scaled(15))
        await client.disconnect()
        assert recorder.seqs() == list(range(1, len(events) + 1))
        position = recorder.subscribed[0].stream_position
        assert recorder.subscribed[0].recovered and position.epoch == events[0]["epoch"]

    run(go())


def test_an_unrecoverable_position_is_error_112_only_when_the_client_asks(long_streams):
    async def go():
        uid = unique_uid("epoch")
        channel = f"stream_{uid}"
        assert (await post_stream(long_streams, uid)).status_code == 200
        socket = await RawSocket.open(long_streams)
        await socket.connect()
        stale = {"channel": channel, "recover": True, "offset": 3, "epoch": "an-older-run"}
        await socket.send({"id": 2, "subscribe": {**stale, "flag": 2}})
        assert (await socket.reply(2))["error"] == {"code": 112, "message": "unrecoverable position"}
        await socket.send({"id": 3, "subscribe": stale})
        reply = (await socket.reply(3))["subscribe"]
        assert reply.get("recovered", False) is False and reply["was_recovering"] is True
        assert "publications" not in reply and reply["epoch"] != "an-older-run" and reply["offset"] > 300
        await socket.close()

    run(go())


def test_fast_publications_are_batched_several_to_a_frame(long_streams):
    async def go():
        uid = unique_uid("batch")
        channel = f"stream_{uid}"
        socket = await RawSocket.open(long_streams)
        await socket.connect()
        await socket.send({"id": 2, "subscribe": {"channel": channel}})
        await socket.reply(2)
        posting = asyncio.create_task(post_stream(long_streams, uid))
        publications, per_frame = await pushes_until_done(socket, channel)
        assert (await posting).status_code == 200
        assert [p["offset"] for p in publications] == list(range(1, len(publications) + 1))
        assert max(per_frame) > 1 and len(per_frame) < len(publications), per_frame
        await socket.close()

    run(go())


def test_the_api_publishes_into_a_streams_channel_live_only(long_streams):
    async def go():
        uid = unique_uid("note")
        channel = f"stream_{uid}"
        socket = await RawSocket.open(long_streams)
        await socket.connect()
        await socket.send({"id": 2, "subscribe": {"channel": channel}})
        await socket.reply(2)
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(f"{long_streams.base_url}/api/publish", json={"channel": channel, "data": {"note": "from the backend"}})
            assert answer.status_code == 200 and answer.json() == {"result": {}}, answer.text
            note = [line["push"]["pub"] for line in await socket.frame() if "push" in line]
            assert note == [{"data": {"note": "from the backend"}}], "live, without an offset"
            assert (await post_stream(long_streams, uid)).status_code == 200
            publications, _ = await pushes_until_done(socket, channel)
            assert [p["offset"] for p in publications] == [p["data"]["seq"] for p in publications]
            assert publications[0]["offset"] == 1
            history = (await http.post(f"{long_streams.base_url}/api/history", json={"channel": channel, "limit": -1})).json()["result"]
        assert [p["offset"] for p in history["publications"]] == [p["offset"] for p in publications]
        assert all("note" not in p["data"] for p in history["publications"])
        await socket.close()

    run(go())


def api_history(bridge, channel: str) -> dict:
    with bridge.client() as http:
        answer = http.post("/api/history", json={"channel": channel, "limit": -1})
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def test_history_expires_after_history_ttl_and_the_position_stays(start_bridge):
    bridge = start_bridge({
        "channels": {"history_ttl": "1s", "api_insecure": True},
        "llm": {"provider": "simulated", "simulated": {"tokens": 20, "rate": 0}}})

    async def go():
        uid = unique_uid("ttl")
        channel = f"stream_{uid}"
        assert (await post_stream(bridge, uid)).status_code == 200
        kept = api_history(bridge, channel)
        assert len(kept["publications"]) == kept["offset"] > 20
        # The sweeper drops expired history every few seconds.
        later = wait_until(lambda: (h := api_history(bridge, channel)) and not h.get("publications") and h, 20,
                           "history to expire after history_ttl", interval=0.2)
        assert (later["epoch"], later["offset"]) == (kept["epoch"], kept["offset"]), "the position outlives the history"
        socket = await RawSocket.open(bridge)
        await socket.connect()
        await socket.send(recover_all(channel))
        reply = (await socket.reply(2))["subscribe"]
        assert reply.get("recovered", False) is False and "publications" not in reply
        assert (reply["epoch"], reply["offset"]) == (kept["epoch"], kept["offset"])
        await socket.close()

    run(go())


def test_a_configured_prefix_names_the_stream_channels(start_bridge):
    bridge = start_bridge({
        "channels": {"prefix": "answer-", "api_insecure": True}, "llm": {"provider": "simulated", "simulated": {"tokens": 20, "rate": 0}}})

    async def go():
        uid = unique_uid("prefix")
        assert (await post_stream(bridge, uid)).status_code == 200
        socket = await RawSocket.open(bridge)
        await socket.connect()
        await socket.send(recover_all(f"answer-{uid}"))
        reply = (await socket.reply(2))["subscribe"]
        assert reply["recovered"] is True and reply["publications"][-1]["data"]["done"] is True
        assert all(p["data"]["uid"] == uid for p in reply["publications"])
        assert api_history(bridge, f"stream_{uid}").get("offset", 0) == 0, "nothing under the default prefix"
        await socket.close()

    run(go())


def test_connections_past_max_connections_are_closed_with_3504(start_bridge):
    bridge = start_bridge({"channels": {"max_connections": 2}})

    async def go():
        first, second = await RawSocket.open(bridge), await RawSocket.open(bridge)
        await first.connect()
        await second.connect()
        third = await RawSocket.open(bridge)
        assert await third.closed_with() == (3504, "connection limit")
        await first.close()
        # The freed place is taken as soon as the server has seen the close.
        deadline = time.monotonic() + scaled(5)
        while True:
            again = await RawSocket.open(bridge)
            try:
                assert "connect" in await again.connect()
                break
            except Exception:
                assert time.monotonic() < deadline, "the closed connection's place never came free"
                await asyncio.sleep(0.05)
        await again.close()
        await second.close()

    run(go())


def test_on_shutdown_every_client_is_closed_with_3001(start_bridge):
    bridge = start_bridge({})

    async def go():
        socket = await RawSocket.open(bridge)
        await socket.connect()
        await socket.send({"id": 2, "subscribe": {"channel": "news"}})
        await socket.reply(2)
        bridge.proc.signal(signal.SIGTERM)
        assert await socket.closed_with() == (3001, "shutdown")

    run(go())
    assert bridge.proc.wait(20) == 0
