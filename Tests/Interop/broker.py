"""A private RabbitMQ node for the interop suite (scripts/rabbitmq-local.sh), and pika helpers to
publish prompts and read answers the way a queue consumer would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pika
import pika.exceptions

from timing import scaled

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "rabbitmq-local.sh"
TERMINAL_TYPES = {"done", "error", "cancelled"}


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_node_port() -> int:
    """A free port whose distribution port (port + 20000) is free too."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        start = 20000 + s.getsockname()[1] % 20000
    for port in range(start, start + 2000):
        if port < 45000 and port_is_free(port) and port_is_free(port + 20000):
            return port
    raise RuntimeError("no free port pair for a RabbitMQ node")


class Broker:
    """One node: `start`, `stop`, `restart`; `url` for the bridge, `connect()` for pika."""

    def __init__(self, directory: Path, port: int, tls_port: int | None = None, cert_dir: Path | None = None) -> None:
        self.directory = directory
        self.port = port
        self.tls_port = tls_port
        self.cert_dir = cert_dir

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    @property
    def tls_url(self) -> str:
        return f"amqps://guest:guest@localhost:{self.tls_port}/"

    def start(self) -> "Broker":
        args = [str(SCRIPT), "start", str(self.directory), str(self.port)]
        if self.tls_port is not None and self.cert_dir is not None:
            args += [str(self.tls_port), str(self.cert_dir)]
        boot = scaled(120)
        env = {**os.environ, "RABBITMQ_START_TIMEOUT": str(int(boot))}
        try:
            subprocess.run(args, check=True, timeout=boot + 60, env=env)
        except BaseException:
            # A node half booted (or a test timed out during the boot) must not outlive the suite.
            self.stop()
            raise
        return self

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.directory)], check=True, timeout=scaled(60))

    def restart(self) -> None:
        self.stop()
        self.start()

    def ctl(self, *args: str) -> str:
        result = subprocess.run(
            [str(SCRIPT), "ctl", str(self.directory), *args, "--quiet"], check=True, timeout=scaled(60),
            capture_output=True, text=True,
        )
        return result.stdout

    def parameters(self) -> pika.ConnectionParameters:
        return pika.ConnectionParameters(host="127.0.0.1", port=self.port, heartbeat=30, blocked_connection_timeout=30)

    def connect(self) -> pika.BlockingConnection:
        return pika.BlockingConnection(self.parameters())

    # MARK: - Inspection

    def queue_exists(self, name: str) -> bool:
        connection = self.connect()
        try:
            connection.channel().queue_declare(queue=name, passive=True)
            return True
        except pika.exceptions.ChannelClosedByBroker as error:
            if error.reply_code == 404:
                return False
            raise
        finally:
            if connection.is_open:
                connection.close()

    def queue_counts(self, name: str) -> tuple[int, int]:
        """(ready, unacked) messages, as the broker counts them."""
        for line in self.ctl("list_queues", "name", "messages_ready", "messages_unacknowledged").splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and parts[0] == name:
                return int(parts[1]), int(parts[2])
        raise AssertionError(f"no queue {name!r}")

    def queue_arguments(self, name: str) -> str:
        for line in self.ctl("list_queues", "name", "arguments").splitlines():
            parts = line.split("\t", 1)
            if len(parts) == 2 and parts[0] == name:
                return parts[1]
        raise AssertionError(f"no queue {name!r}")


@dataclass
class Message:
    properties: pika.BasicProperties
    body: bytes
    redelivered: bool = False

    @property
    def event(self) -> dict:
        return json.loads(self.body)

    @property
    def type(self) -> str | None:
        return self.properties.type

    @property
    def headers(self) -> dict:
        return self.properties.headers or {}


def publish(
    connection: pika.BlockingConnection, body: Any, queue: str = "chat_incoming", exchange: str = "",
    **properties: Any,
) -> None:
    """Publishes a prompt (a dict becomes JSON; bytes go as they are) with publisher confirms."""
    channel = connection.channel()
    channel.confirm_delivery()
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    channel.basic_publish(exchange=exchange, routing_key=queue, body=data, properties=pika.BasicProperties(**properties))
    channel.close()


def wait_for_queue(broker: Broker, name: str, timeout: float = 15.0) -> None:
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while not broker.queue_exists(name):
        if time.monotonic() > deadline:
            raise AssertionError(f"queue {name!r} did not appear within {timeout:.1f}s")
        time.sleep(0.02)


def messages(broker: Broker, queue: str, timeout: float = 20.0, idle: float | None = None) -> Iterator[Message]:
    """Consumes `queue` (waiting for it to exist), yielding messages until `timeout` passes, or
    until `idle` seconds pass without one when given (both scaled). Acks each message it yields;
    what it had prefetched but not yielded goes back to the queue when it stops."""
    wait_for_queue(broker, queue, timeout)
    timeout = scaled(timeout)
    idle = scaled(idle) if idle is not None else None
    connection = broker.connect()
    try:
        channel = connection.channel()
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        for method, properties, body in channel.consume(queue, inactivity_timeout=0.05):
            now = time.monotonic()
            if method is None:
                if now >= deadline or (idle is not None and now - last >= idle):
                    break
                continue
            last = now
            channel.basic_ack(method.delivery_tag)
            yield Message(properties, body, method.redelivered)
            if time.monotonic() >= deadline:
                break
    finally:
        if connection.is_open:
            connection.close()


def read_stream(broker: Broker, queue: str, timeout: float = 20.0, format: str = "json") -> list[Message]:
    """Messages of `queue` up to and including a terminal event (by the `type` property, which every
    format carries), failing after `timeout`."""
    got: list[Message] = []
    for message in messages(broker, queue, timeout):
        got.append(message)
        if message.type in TERMINAL_TYPES:
            return got
    raise AssertionError(f"no terminal event on {queue!r} within {scaled(timeout):.1f}s; got types {[m.type for m in got]}")


def last_run(stream: list[Message]) -> list[Message]:
    """The messages from the last `start` on: what a consumer keeps after a rerun."""
    starts = [i for i, m in enumerate(stream) if m.type == "start"]
    assert starts, f"no start event in {[m.type for m in stream]}"
    return stream[starts[-1]:]


def assert_complete_run(run: list[Message]) -> str:
    """One run from `start` to `done`: seq 1..n in order without gaps, ids `<uid>:<epoch>:<seq>`;
    returns its text."""
    first = run[0].event
    assert first["type"] == "start" and first["seq"] == 1, first
    uid, epoch = first["uid"], first["epoch"]
    seqs = [m.event["seq"] for m in run]
    assert seqs == list(range(1, len(run) + 1)), seqs
    for message in run:
        assert message.properties.message_id == f"{uid}:{epoch}:{message.event['seq']}"
        assert message.headers.get("x-seq") == message.event["seq"]
        assert message.type == message.event["type"]
    assert run[-1].event["type"] == "done", run[-1].event
    assert all(m.event["type"] not in TERMINAL_TYPES for m in run[:-1])
    return "".join(m.event.get("text", "") for m in run if m.event["type"] == "delta")


def dead_letters(broker: Broker, queue: str = "chat_incoming.dead", idle: float = 1.0) -> list[Message]:
    return list(messages(broker, queue, timeout=30.0, idle=idle))


@dataclass
class TLSFiles:
    directory: Path
    ca: Path = field(init=False)

    def __post_init__(self) -> None:
        self.ca = self.directory / "ca.pem"


def make_tls_files(directory: Path) -> TLSFiles:
    """A throwaway CA and a server certificate for localhost, made with openssl."""
    directory.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, cwd=directory, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=tokenbridge test CA",
        "-keyout", "ca-key.pem", "-out", "ca.pem")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server-key.pem", "-out", "server.csr")
    (directory / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "server.pem")
    # A second CA that signed nothing: trusting only it must fail verification.
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=some other CA",
        "-keyout", "other-ca-key.pem", "-out", "other-ca.pem")
    for name in ("server-key.pem", "ca-key.pem"):
        (directory / name).chmod(0o644)  # the broker runs as root here, but be explicit: readable
    return TLSFiles(directory)
