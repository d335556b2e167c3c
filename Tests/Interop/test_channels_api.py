"""Centrifugo's server HTTP API on the bridge, driven with `cent` 5.2.0 (the official Python API
client) and raw HTTP: every method, good and bad keys, error modes, the legacy form."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from cent import (
    BatchRequest,
    BroadcastRequest,
    CentApiResponseError,
    CentUnauthorizedError,
    ChannelsRequest,
    Client,
    DisconnectRequest,
    HistoryRemoveRequest,
    HistoryRequest,
    InfoRequest,
    PresenceRequest,
    PresenceStatsRequest,
    PublishRequest,
    UnsubscribeRequest,
)

from channels import RawSocket

KEY = "api-secret"


@pytest.fixture(scope="module")
def api_bridge(tmp_path_factory):
    from conftest import Registry, launch_bridge

    registry = Registry(tmp_path_factory.mktemp("channels-api"))
    bridge = launch_bridge(registry, registry.log_dir, {"channels": {"api_key": KEY}})
    yield bridge
    registry.stop_all()


def cent(bridge, key: str = KEY) -> Client:
    return Client(f"{bridge.base_url}/api", key)


def test_publish_history_and_idempotency(api_bridge):
    client = cent(api_bridge)
    first = client.publish(PublishRequest(channel="news", data={"n": 1}, tags={"k": "v"}, idempotency_key="once"))
    again = client.publish(PublishRequest(channel="news", data={"n": 1}, idempotency_key="once"))
    second = client.publish(PublishRequest(channel="news", data={"n": 2}))
    assert (first.offset, again.offset, second.offset) == (1, 1, 2) and first.epoch == second.epoch
    history = client.history(HistoryRequest(channel="news", limit=-1))
    assert [(p.offset, p.data) for p in history.publications] == [(1, {"n": 1}), (2, {"n": 2})]
    assert history.publications[0].tags == {"k": "v"}
    assert [p.offset for p in client.history(HistoryRequest(channel="news", limit=1, reverse=True)).publications] == [2]
    client.history_remove(HistoryRemoveRequest(channel="news"))
    emptied = client.history(HistoryRequest(channel="news", limit=-1))
    assert emptied.publications == [] and emptied.offset == 2, "the position stays"


def test_a_subscriber_receives_what_the_api_publishes(api_bridge):
    async def go():
        socket = await RawSocket.open(api_bridge)
        await socket.connect()
        await socket.send({"id": 2, "subscribe": {"channel": "live"}})
        await socket.reply(2)
        client = cent(api_bridge)
        client.publish(PublishRequest(channel="live", data={"hello": "world"}))
        responses = client.broadcast(BroadcastRequest(channels=["live", "other"], data={"to": "all"})).responses
        assert all(r.error is None for r in responses)
        pushes = []
        while len(pushes) < 2:
            pushes += [line["push"] for line in await socket.frame() if "push" in line]
        assert [p["pub"]["data"] for p in pushes] == [{"hello": "world"}, {"to": "all"}]
        stats = client.presence_stats(PresenceStatsRequest(channel="live"))
        assert (stats.num_clients, stats.num_users) == (1, 1)
        presence = client.presence(PresenceRequest(channel="live")).presence
        assert len(presence) == 1
        channels = client.channels(ChannelsRequest(pattern="li*")).channels
        assert channels["live"].num_clients == 1 and "other" not in channels
        info = client.info(InfoRequest()).nodes[0]
        assert info.num_clients >= 1 and info.num_subs >= 1
        # The server ends the subscription, then the connection.
        client.unsubscribe(UnsubscribeRequest(user="", channel="live"))
        while True:
            lines = await socket.frame()
            if any(l.get("push", {}).get("unsubscribe") for l in lines):
                assert [l for l in lines if "push" in l][-1]["push"]["unsubscribe"]["code"] == 2000
                break
        client.disconnect(DisconnectRequest(user=""))
        assert (await socket.closed_with())[0] == 3503

    asyncio.run(go())


def test_batch_answers_each_command(api_bridge):
    # (cent reads each reply by its method name, so an error inside a batch is checked raw below.)
    replies = cent(api_bridge).batch(BatchRequest(requests=[
        PublishRequest(channel="b", data={}), HistoryRequest(channel="b", limit=-1),
    ])).replies
    assert replies[0].offset == 1 and [p.offset for p in replies[1].publications] == [1]
    raw = httpx.post(f"{api_bridge.base_url}/api/batch", headers={"X-API-Key": KEY},
                     json={"commands": [{"publish": {"channel": "b", "data": {}}}, {"publish": {"channel": ""}}]}).json()
    assert raw == {"replies": [{"publish": {"offset": 2, "epoch": raw["replies"][0]["publish"]["epoch"]}},
                               {"error": {"code": 107, "message": "bad request"}}]}


def test_keys_and_error_modes(api_bridge):
    with pytest.raises(CentUnauthorizedError):
        cent(api_bridge, key="wrong").info(InfoRequest())
    url = f"{api_bridge.base_url}/api/info"
    assert httpx.post(url).status_code == 401 and httpx.post(url).content == b""
    assert httpx.post(url, headers={"Authorization": f"apikey {KEY}"}).status_code == 200
    assert httpx.post(url, headers={"Authorization": f"ApiKey {KEY}"}).status_code == 200
    assert httpx.post(f"{url}?api_key={KEY}").status_code == 200
    assert httpx.post(url, headers={"X-API-Key": "wrong", "Authorization": f"apikey {KEY}"}).status_code == 401, \
        "X-API-Key is checked first, and Authorization only without it"
    assert httpx.post(f"{url}?api_key={KEY}", headers={"X-API-Key": "wrong"}).status_code == 200, \
        "the query parameter is the last resort"
    assert httpx.get(url, headers={"X-API-Key": KEY}).status_code == 405
    with pytest.raises(CentApiResponseError) as refused:
        cent(api_bridge).publish(PublishRequest(channel="", data={}))
    assert refused.value.code == 107
    transport = httpx.post(f"{api_bridge.base_url}/api/publish", headers={"X-API-Key": KEY, "X-Centrifugo-Error-Mode": "transport"},
                           json={"channel": ""})
    assert transport.status_code == 400 and transport.json() == {"code": 107, "message": "bad request"}
    unknown = httpx.post(f"{api_bridge.base_url}/api/teleport", headers={"X-API-Key": KEY, "X-Centrifugo-Error-Mode": "transport"})
    assert unknown.status_code == 404
    garbage = httpx.post(f"{api_bridge.base_url}/api/publish", headers={"X-API-Key": KEY}, content=b"{nope")
    assert garbage.status_code == 400 and garbage.headers["content-type"].startswith("text/plain")
    api_bridge.ping()


def test_the_legacy_method_params_form(api_bridge):
    body = "\n".join(json.dumps(c) for c in [
        {"method": "publish", "params": {"channel": "legacy", "data": {"v": 1}}, "id": 7},
        {"method": "HISTORY", "params": {"channel": "legacy", "limit": -1}},
        {"method": 6, "params": {"channel": "legacy", "limit": 1}},
        {"method": "teleport", "params": {}},
    ])
    response = httpx.post(f"{api_bridge.base_url}/api", headers={"Authorization": f"apikey {KEY}"}, content=body)
    answers = [json.loads(line) for line in response.text.split("\n")]
    assert answers[0]["id"] == 7 and answers[0]["result"]["offset"] == 1
    assert [p["data"] for p in answers[1]["result"]["publications"]] == [{"v": 1}]
    assert len(answers[2]["result"]["publications"]) == 1
    assert answers[3]["error"]["code"] == 104


def test_without_a_key_the_api_is_closed_unless_declared_insecure(start_bridge):
    closed = start_bridge({})
    for headers in [{}, {"X-API-Key": ""}, {"Authorization": "apikey"}]:
        response = httpx.post(f"{closed.base_url}/api/info", headers=headers)
        assert response.status_code == 401 and response.content == b"", headers
    assert httpx.post(f"{closed.base_url}/api/info?api_key=").status_code == 401
    opened = start_bridge({"channels": {"api_insecure": True}})
    assert "result" in httpx.post(f"{opened.base_url}/api/info").json()
