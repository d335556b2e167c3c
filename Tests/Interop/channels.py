"""Helpers for the channel server tests: centrifuge-python subscriptions that record what they get,
and a raw WebSocket speaking protocol v2 by hand."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from centrifuge import (
    Client,
    ClientEventHandler,
    PublicationContext,
    StreamPosition,
    SubscribedContext,
    SubscriptionEventHandler,
)

from timing import scaled


@dataclass
class Recorder(SubscriptionEventHandler):
    """Every publication of one subscription, and how each subscribe went."""

    publications: list[tuple[int, dict]] = field(default_factory=list)
    subscribed: list[SubscribedContext] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_publication(self, ctx: PublicationContext) -> None:
        self.publications.append((ctx.pub.offset, ctx.pub.data))
        if isinstance(ctx.pub.data, dict) and ctx.pub.data.get("done"):
            self.done.set()

    async def on_subscribed(self, ctx: SubscribedContext) -> None:
        self.subscribed.append(ctx)

    def seqs(self) -> list[int]:
        return [data["seq"] for _, data in self.publications]

    def text(self) -> str:
        return "".join(data.get("text", "") for _, data in self.publications if data.get("type") == "delta")


@dataclass
class ConnectionEvents(ClientEventHandler):
    connecting: list[Any] = field(default_factory=list)
    disconnected: list[Any] = field(default_factory=list)
    connected: list[Any] = field(default_factory=list)

    async def on_connecting(self, ctx) -> None:
        self.connecting.append(ctx)

    async def on_disconnected(self, ctx) -> None:
        self.disconnected.append(ctx)

    async def on_connected(self, ctx) -> None:
        self.connected.append(ctx)


async def from_the_start(channel: str) -> StreamPosition:
    """get_state for a subscriber that wants a stream from its first publication."""
    return StreamPosition(offset=0, epoch="")


async def subscribed(bridge, channel: str, from_start: bool = False, **client_options: Any):
    """A connected SDK client subscribed to `channel` (recovering from the first publication
    when `from_start`): (client, recorder, subscription)."""
    client = Client(ws_url(bridge), **client_options)
    recorder = Recorder()
    options = {"get_state": from_the_start} if from_start else {}
    subscription = client.new_subscription(channel, events=recorder, **options)
    await client.connect()
    await subscription.subscribe()
    await subscription.ready(timeout=scaled(10))
    return client, recorder, subscription


def ws_url(bridge) -> str:
    return f"ws://127.0.0.1:{bridge.port}/connection/websocket"


async def post_stream(bridge, uid: str, content: str = "Tell me about streaming", **extra: Any) -> httpx.Response:
    """Starts a stream with this uid (a non-streaming request: the answer also goes to the channel)."""
    async with httpx.AsyncClient(timeout=scaled(60)) as http:
        return await http.post(
            f"{bridge.base_url}/v1/chat/completions",
            json={"uid": uid, "messages": [{"role": "user", "content": content}], **extra},
        )


class RawSocket:
    """A WebSocket speaking the protocol by hand: send lines, read lines, see the close code."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self.pending: list[dict] = []

    @classmethod
    async def open(cls, bridge, **kwargs) -> "RawSocket":
        return cls(await websockets.connect(ws_url(bridge), max_size=None, **kwargs))

    async def send(self, *commands: Any) -> None:
        await self.socket.send("\n".join(c if isinstance(c, str) else json.dumps(c) for c in commands))

    async def frame(self, timeout: float = 5.0) -> list[dict]:
        """The next frame's lines (waiting `timeout`, scaled)."""
        text = await asyncio.wait_for(self.socket.recv(), scaled(timeout))
        return [json.loads(line) for line in text.split("\n")]

    async def reply(self, id: int, timeout: float = 5.0) -> dict:
        """The reply with this id, skipping pings and pushes (kept for `pushes`)."""
        while True:
            for index, line in enumerate(self.pending):
                if line.get("id") == id:
                    return self.pending.pop(index)
            self.pending.extend(await self.frame(timeout))

    async def connect(self) -> dict:
        await self.send({"id": 1, "connect": {"name": "raw"}})
        return await self.reply(1)

    async def closed_with(self, timeout: float = 10.0) -> tuple[int, str]:
        """Reads until the server closes; the close code and reason."""
        try:
            while True:
                await asyncio.wait_for(self.socket.recv(), scaled(timeout))
        except websockets.ConnectionClosed as closed:
            received = closed.rcvd
            return (received.code, received.reason) if received else (1006, "")

    async def close(self) -> None:
        await self.socket.close()
