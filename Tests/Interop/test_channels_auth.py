"""`channels.auth.mode: token` with the official SDK and PyJWT-made tokens: Centrifugo's outcomes
for good, expired, forged and missing tokens, subscription tokens, server-side subscriptions."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest
from centrifuge import Client

from channels import ConnectionEvents, RawSocket, Recorder, post_stream, subscribed, ws_url
from conftest import unique_uid
from timing import scaled

SECRET = "test-secret-for-hmac-" * 4  # 84 bytes: RFC 7518 wants at least the hash size


def token(secret: str = SECRET, algorithm: str = "HS256", **claims) -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    from conftest import Registry, launch_bridge

    registry = Registry(tmp_path_factory.mktemp("channels-auth"))
    bridge = launch_bridge(registry, registry.log_dir, {
        "channels": {"auth": {"mode": "token", "hmac_secret": SECRET, "allow_anonymous_streams": True, "audience": "bridge"},
                     "api_insecure": True},
        "llm": {"provider": "simulated", "simulated": {"tokens": 20, "rate": 200}},
    })
    yield bridge
    registry.stop_all()


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_valid_token_names_the_user_and_announces_its_expiry(guarded):
    async def go():
        socket = await RawSocket.open(guarded)
        await socket.send({"id": 1, "connect": {"token": token(sub="ann", aud="bridge", exp=int(time.time()) + 600, info={"name": "Ann"})}})
        reply = (await socket.reply(1))["connect"]
        assert reply["expires"] is True and 590 <= reply["ttl"] <= 600
        await socket.send({"id": 2, "subscribe": {"channel": "news"}}, {"id": 3, "presence": {"channel": "news"}})
        assert "subscribe" in await socket.reply(2)
        presence = (await socket.reply(3))["presence"]["presence"]
        (entry,) = presence.values()
        assert entry["user"] == "ann" and entry["conn_info"] == {"name": "Ann"}
        await socket.close()

    run(go())


@pytest.mark.parametrize(
    "bad",
    [
        lambda: token(secret="not-the-secret-" * 5, sub="ann", aud="bridge"),
        lambda: token(algorithm="HS512", secret="wrong" * 16, sub="ann", aud="bridge"),
        lambda: jwt.encode({"sub": "ann", "aud": "bridge"}, None, algorithm="none"),
        lambda: token(sub="ann", aud="someone-else"),
        lambda: token(sub="ann", aud="bridge", channel="news"),
        lambda: "not.a.jwt",
    ],
    ids=["bad-signature", "bad-hs512", "alg-none", "wrong-audience", "channel-claim", "garbage"],
)
def test_an_invalid_token_closes_with_3500(bad, guarded):
    async def go():
        socket = await RawSocket.open(guarded)
        await socket.send({"id": 1, "connect": {"token": bad()}})
        assert await socket.closed_with() == (3500, "invalid token")

    run(go())


def test_algorithm_confusion_is_refused(guarded):
    """An RS256-labelled token signed with the HMAC secret as if it were a public key."""
    import base64, hashlib, hmac, json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sub": "ann", "aud": "bridge"}).encode())
    signature = b64(hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())

    async def go():
        socket = await RawSocket.open(guarded)
        await socket.send({"id": 1, "connect": {"token": f"{header}.{payload}.{signature}"}})
        assert (await socket.closed_with())[0] == 3500

    run(go())


def test_an_expired_token_gets_109_and_the_sdk_refreshes_it(guarded):
    async def go():
        issued = []

        async def get_token() -> str:
            issued.append(time.time())
            return token(sub="bob", aud="bridge", exp=int(time.time()) + 600)

        client = Client(ws_url(guarded), token=token(sub="bob", aud="bridge", exp=int(time.time()) - 10), get_token=get_token)
        await client.connect()
        await client.ready(timeout=10)
        assert issued, "a 109 made the SDK ask for a new token"
        await client.disconnect()

        socket = await RawSocket.open(guarded)
        await socket.send({"id": 1, "connect": {"token": token(sub="bob", aud="bridge", nbf=int(time.time()) + 3600)}})
        assert (await socket.reply(1))["error"]["code"] == 109
        # After a refused connect the connection is spent: another connect closes it (3501).
        await socket.send({"id": 2, "connect": {"token": token(sub="bob", aud="bridge")}})
        assert await socket.closed_with() == (3501, "bad request")

    run(go())


def test_anonymous_connections_reach_stream_channels_only(guarded):
    async def go():
        uid = unique_uid("anon")
        client, recorder, _ = await subscribed(guarded, f"stream_{uid}", from_start=True)
        response = await post_stream(guarded, uid)
        await asyncio.wait_for(recorder.done.wait(), scaled(10))
        assert recorder.text() == response.json()["choices"][0]["message"]["content"]
        await client.disconnect()

        socket = await RawSocket.open(guarded)
        await socket.connect()
        await socket.send({"id": 2, "subscribe": {"channel": "news"}}, {"id": 3, "subscribe": {"channel": "$private"}})
        assert (await socket.reply(2))["error"]["code"] == 103
        assert (await socket.reply(3))["error"]["code"] == 103
        await socket.close()

    run(go())


def test_subscription_tokens_and_server_side_subscriptions(guarded):
    async def go():
        now = int(time.time())
        socket = await RawSocket.open(guarded)
        await socket.send({"id": 1, "connect": {"token": token(sub="cid", aud="bridge", channels=["$alerts"])}})
        connect = (await socket.reply(1))["connect"]
        assert "$alerts" in connect["subs"], connect
        # Publications reach a server-side subscription with no subscribe from the client.
        async with httpx.AsyncClient(timeout=10) as http:
            published = await http.post(f"{guarded.base_url}/api/publish", json={"channel": "$alerts", "data": {"level": "high"}})
            assert published.status_code == 200 and "error" not in published.json(), published.text
        pushes = []
        while not pushes:
            pushes = [line["push"] for line in await socket.frame() if "push" in line]
        assert pushes[0]["channel"] == "$alerts" and pushes[0]["pub"]["data"] == {"level": "high"}
        await socket.send(
            {"id": 2, "subscribe": {"channel": "$room", "token": token(sub="cid", aud="bridge", channel="$room", exp=now + 60)}},
            {"id": 3, "subscribe": {"channel": "$room2", "token": token(sub="cid", aud="bridge", channel="$room2", exp=now - 1)}})
        room = (await socket.reply(2))["subscribe"]
        assert room["expires"] is True
        assert (await socket.reply(3))["error"]["code"] == 109
        # A valid token made for another channel: Centrifugo closes the connection.
        await socket.send({"id": 4, "subscribe": {"channel": "$room3", "token": token(sub="cid", aud="bridge", channel="$other")}})
        assert (await socket.closed_with())[0] == 3500

    run(go())


def test_no_token_at_all_when_anonymous_streams_are_off(start_bridge):
    bridge = start_bridge({"channels": {"auth": {"mode": "token", "hmac_secret": SECRET, "allow_anonymous_streams": False}}})

    async def go():
        socket = await RawSocket.open(bridge)
        await socket.send({"id": 1, "connect": {}})
        assert await socket.closed_with() == (3501, "bad request")

    run(go())


@pytest.fixture(scope="module")
def short_grace(tmp_path_factory):
    """Token mode with a 1 s grace after a token's expiry (Centrifugo's default is 25 s)."""
    from conftest import Registry, launch_bridge

    registry = Registry(tmp_path_factory.mktemp("channels-expiry"))
    bridge = launch_bridge(registry, registry.log_dir, {
        "channels": {"auth": {"mode": "token", "hmac_secret": SECRET}, "expired_close_delay": "1s", "api_insecure": True},
        "llm": {"provider": "simulated"},
    })
    yield bridge
    registry.stop_all()


def test_a_connection_whose_token_runs_out_is_closed_with_3005(short_grace):
    async def go():
        socket = await RawSocket.open(short_grace)
        await socket.send({"id": 1, "connect": {"token": token(sub="eve", exp=int(time.time()) + 1)}})
        assert (await socket.reply(1))["connect"]["expires"] is True
        assert await socket.closed_with(timeout=6) == (3005, "connection expired")

        other = await RawSocket.open(short_grace)
        await other.send({"id": 1, "connect": {"token": token(sub="eve", exp=int(time.time()) + 60)}})
        await other.reply(1)
        await other.send({"id": 2, "refresh": {"token": token(sub="mallory", exp=int(time.time()) + 60)}})
        assert (await other.closed_with())[0] == 3500, "a refresh must be for the same user"

    run(go())


def test_the_sdk_refreshes_connection_and_subscription_tokens_and_stays_subscribed(short_grace):
    """Both tokens live 2 s; over 6 s the SDK sends refresh and sub_refresh in time (it refreshes
    at the ttl, within the grace), so the connection and the subscription survive."""

    async def go():
        issued = {"connection": 0, "subscription": 0}

        async def connection_token() -> str:
            issued["connection"] += 1
            return token(sub="zoe", exp=int(time.time()) + 2)

        async def subscription_token(channel: str) -> str:
            issued["subscription"] += 1
            return token(sub="zoe", channel=channel, exp=int(time.time()) + 2)

        events = ConnectionEvents()
        client = Client(ws_url(short_grace), get_token=connection_token, events=events)
        recorder = Recorder()
        subscription = client.new_subscription("$room", events=recorder, get_token=subscription_token)
        await client.connect()
        await subscription.subscribe()
        await subscription.ready(timeout=10)
        await asyncio.sleep(6)  # the behaviour under test is what happens over time
        assert issued["connection"] >= 3 and issued["subscription"] >= 3, issued
        assert events.disconnected == [] and len(recorder.subscribed) == 1, "never dropped, never resubscribed"
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{short_grace.base_url}/api/publish", json={"channel": "$room", "data": {"n": 1}})
            assert "result" in response.json(), response.text
        for _ in range(100):
            if recorder.publications:
                break
            await asyncio.sleep(0.05)
        assert [data for _, data in recorder.publications] == [{"n": 1}]
        await client.disconnect()

    run(go())


def test_a_subscription_whose_token_runs_out_ends_with_2501(short_grace):
    async def go():
        socket = await RawSocket.open(short_grace)
        await socket.send({"id": 1, "connect": {"token": token(sub="sam", exp=int(time.time()) + 60)}})
        await socket.reply(1)
        await socket.send({"id": 2, "subscribe": {"channel": "$brief", "token": token(sub="sam", channel="$brief", exp=int(time.time()) + 1)}})
        assert (await socket.reply(2))["subscribe"]["expires"] is True
        push = None
        for _ in range(10):
            lines = [line for line in await socket.frame(timeout=5) if "push" in line]
            if lines:
                push = lines[0]["push"]
                break
        assert push == {"channel": "$brief", "unsubscribe": {"code": 2501, "reason": "subscription expired"}}
        async with httpx.AsyncClient() as http:
            stats = (await http.post(f"{short_grace.base_url}/api/presence_stats", json={"channel": "$brief"})).json()
        assert stats["result"].get("num_clients", 0) == 0, f"no longer a subscriber: {stats}"
        await socket.close()

    run(go())
