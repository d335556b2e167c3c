"""The channel server's protocol edges, with a raw WebSocket client (`websockets`): batching, every
reply error and close code, limits, garbage. After each, the server still serves."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from channels import RawSocket, post_stream, ws_url
from conftest import unique_uid


@pytest.fixture(scope="module")
def edges(request, tmp_path_factory):
    """One bridge with small limits and quick timers for the whole module."""
    from conftest import Registry, launch_bridge

    registry = Registry(tmp_path_factory.mktemp("channels-protocol"))
    bridge = launch_bridge(registry, registry.log_dir, {
        "channels": {
            "ping_interval": "1s", "pong_timeout": "500ms", "connect_timeout": "1s", "max_subscriptions": 3,
            "max_message_bytes": "4KiB", "client_publish_namespaces": ["chat"],
        },
        "llm": {"provider": "simulated", "simulated": {"tokens": 20, "rate": 0}},
    })
    yield bridge
    registry.stop_all()


def run(coroutine):
    return asyncio.run(coroutine)


def test_commands_batched_in_one_frame_are_answered_in_order_in_one_frame(edges):
    async def go():
        socket = await RawSocket.open(edges)
        await socket.send(
            {"id": 1, "connect": {"name": "raw"}}, {"id": 2, "subscribe": {"channel": "a"}},
            {"id": 3, "subscribe": {"channel": "b"}}, {"id": 4, "unsubscribe": {"channel": "a"}})
        frame = await socket.frame()
        assert [line.get("id") for line in frame] == [1, 2, 3, 4]
        assert frame[0]["connect"]["client"] and frame[0]["connect"]["ping"] == 1 and frame[0]["connect"]["pong"] is True
        assert frame[1]["subscribe"]["recoverable"] is True and frame[1]["subscribe"]["positioned"] is True
        assert frame[3] == {"id": 4, "unsubscribe": {}}
        await socket.close()

    run(go())


@pytest.mark.parametrize(
    "first",
    ['{"id":1,"subscribe":{"channel":"a"}}', '{"connect":{}}', "", "not json", '{"id":1}', '[1,2]',
     '{"id":1,"connect":{}}\n\n{"id":2,"subscribe":{"channel":"a"}}', '{"send":{"data":{}}}'],
    ids=["subscribe-first", "connect-without-id", "empty-frame", "garbage", "id-only", "array", "blank-line", "send-first"],
)
def test_bad_first_frames_close_with_3501(first, edges):
    async def go():
        socket = await RawSocket.open(edges)
        await socket.send(first)
        code, reason = await socket.closed_with()
        assert (code, reason) == (3501, "bad request")

    run(go())
    edges.ping()


def test_protocol_violations_after_connect_close_with_their_codes(edges):
    async def go():
        cases = [
            ('{"id":2,"connect":{}}', 3501),
            ('{"id":2,"fly":{}}', 3501),
            ('{"id":2,"subscribe":{"channel":""}}', 3501),
            ('{"send":{"data":{}}}', 3508),
        ]
        for command, code in cases:
            socket = await RawSocket.open(edges)
            await socket.connect()
            await socket.send(command)
            assert (await socket.closed_with())[0] == code, command
        binary = await RawSocket.open(edges)
        await binary.connect()
        await binary.socket.send(b'{"id":2,"subscribe":{"channel":"a"}}')
        assert (await binary.closed_with())[0] == 3501

    run(go())
    edges.ping()


def test_reply_errors_carry_centrifugo_codes_and_messages(edges):
    async def go():
        socket = await RawSocket.open(edges)
        await socket.connect()
        commands = [
            {"id": 2, "subscribe": {"channel": "one"}},
            {"id": 3, "subscribe": {"channel": "one"}},
            {"id": 4, "subscribe": {"channel": "two"}},
            {"id": 5, "subscribe": {"channel": "three"}},
            {"id": 6, "subscribe": {"channel": "four"}},
            {"id": 7, "subscribe": {"channel": "caf\u00e9"}},
            {"id": 8, "subscribe": {"channel": "x" * 256}},
            {"id": 9, "publish": {"channel": "news", "data": {"x": 1}}},
            {"id": 10, "publish": {"channel": "chat:room", "data": {"x": 1}}},
            {"id": 11, "history": {"channel": "elsewhere"}},
            {"id": 12, "rpc": {"method": "teleport"}},
            {"id": 13, "ping": {}},
        ]
        await socket.send(*commands)
        replies = [await socket.reply(c["id"]) for c in commands]
        codes = [r.get("error", {}).get("code") for r in replies]
        assert codes == [None, 105, None, None, 106, 107, 107, 103, None, 103, 104, 108]
        assert all(r["error"]["message"] for r in replies if "error" in r)
        assert replies[8] == {"id": 10, "publish": {}}, "chat is a namespace that allows client publishes"
        await socket.close()

    run(go())


def test_history_and_presence_for_a_subscriber(edges):
    async def go():
        uid = unique_uid("hist")
        response = await post_stream(edges, uid)
        assert response.status_code == 200
        socket = await RawSocket.open(edges)
        await socket.connect()
        await socket.send({"id": 2, "subscribe": {"channel": f"stream_{uid}"}})
        subscribed = (await socket.reply(2))["subscribe"]
        await socket.send(
            {"id": 3, "history": {"channel": f"stream_{uid}", "limit": -1}},
            {"id": 4, "history": {"channel": f"stream_{uid}", "limit": 2, "reverse": True}},
            {"id": 5, "history": {"channel": f"stream_{uid}", "limit": 5, "since": {"offset": 3, "epoch": "wrong"}}},
            {"id": 6, "presence": {"channel": f"stream_{uid}"}},
            {"id": 7, "presence_stats": {"channel": f"stream_{uid}"}})
        full = (await socket.reply(3))["history"]
        assert [p["offset"] for p in full["publications"]] == list(range(1, 23))
        assert full["epoch"] == subscribed["epoch"] and full["offset"] == 22
        assert [p["offset"] for p in (await socket.reply(4))["history"]["publications"]] == [22, 21]
        assert (await socket.reply(5))["error"]["code"] == 112
        presence = (await socket.reply(6))["presence"]["presence"]
        assert list(presence.values())[0]["user"] == ""
        assert (await socket.reply(7))["presence_stats"] == {"num_clients": 1, "num_users": 1}
        await socket.close()

    run(go())


def test_timers_stale_and_no_pong(edges):
    async def go():
        stale = await RawSocket.open(edges)
        assert await stale.closed_with() == (3502, "stale")
        quiet = await RawSocket.open(edges)
        await quiet.connect()
        # Pings come every second; this client never answers them.
        first = await quiet.frame(timeout=3)
        assert first == [{}]
        assert await quiet.closed_with() == (3012, "no pong")
        polite = await RawSocket.open(edges)
        await polite.connect()
        for _ in range(3):
            assert await polite.frame(timeout=3) == [{}]
            await polite.send("{}")
        await polite.send({"id": 2, "subscribe": {"channel": "alive"}})
        assert "subscribe" in await polite.reply(2)
        await polite.close()

    run(go())


def test_limits_on_message_size_and_what_comes_after(edges):
    async def go():
        # Under the 4 KiB limit but over the server's 1 KiB receive buffer: it arrives in pieces
        # and is gathered into one command.
        near = await RawSocket.open(edges)
        await near.connect()
        await near.send(json.dumps({"id": 2, "subscribe": {"channel": "a", "data": {"pad": "x" * 3500}}}))
        assert "subscribe" in await near.reply(2)
        await near.close()
        big = await RawSocket.open(edges)
        await big.connect()
        await big.send(json.dumps({"id": 2, "subscribe": {"channel": "a", "data": {"pad": "x" * 5000}}}))
        assert (await big.closed_with())[0] == 1009
        # A message that never ends (continuation frames, no final one) is cut off at the limit.
        endless = await RawSocket.open(edges)
        await endless.connect()

        async def pieces():
            while True:
                yield "x" * 1000
                await asyncio.sleep(0.01)

        sending = asyncio.create_task(endless.socket.send(pieces()))
        assert (await endless.closed_with())[0] == 1009
        sending.cancel()
        fragmented = await RawSocket.open(edges)
        await fragmented.socket.send(iter(['{"id":1,', '"connect":', '{"name":"frag"}}']))
        assert "connect" in (await fragmented.reply(1))
        await fragmented.close()

    run(go())
    edges.ping()


def test_a_websocket_from_a_foreign_origin_can_be_refused(start_bridge):
    bridge = start_bridge({"channels": {"allowed_origins": ["https://app.example"]}})

    async def go():
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(ws_url(bridge), origin="https://evil.example")
        assert refused.value.response.status_code == 403
        socket = await websockets.connect(ws_url(bridge), origin="https://app.example")
        await socket.close()
        with pytest.raises(websockets.InvalidStatus) as missing:
            await websockets.connect(f"ws://127.0.0.1:{bridge.port}/connection/elsewhere")
        assert missing.value.response.status_code == 404

    run(go())
    bridge.ping()
