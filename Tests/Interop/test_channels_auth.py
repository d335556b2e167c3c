"""`channels.auth.mode: token` with the official SDK and PyJWT-made tokens: Centrifugo's outcomes
for good, expired, forged and missing tokens, subscription tokens, server-side subscriptions."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest
from centrifuge import Client

from channels import RawSocket, post_stream, subscribed, ws_url
from conftest import unique_uid

SECRET = "test-secret-for-hmac-" * 4  # 84 bytes: RFC 7518 wants at least the hash size


def token(secret: str = SECRET, algorithm: str = "HS256", **claims) -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    from conftest import Registry, launch_bridge

    registry = Registry(tmp_path_factory.mktemp("channels-auth"))
    bridge = launch_bridge(registry, registry.log_dir, {
        "channels": {"auth": {"mode": "token", "hmac_secret": SECRET, "allow_anonymous_streams": True, "audience": "bridge"}},
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

    run(go())


def test_anonymous_connections_reach_stream_channels_only(guarded):
    async def go():
        uid = unique_uid("anon")
        client, recorder, _ = await subscribed(guarded, f"stream_{uid}", from_start=True)
        response = await post_stream(guarded, uid)
        await asyncio.wait_for(recorder.done.wait(), 10)
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
