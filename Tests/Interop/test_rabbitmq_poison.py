"""Prompts that cannot be answered land in `<queue>.dead`, intact, with headers saying why; a reply
address that is known gets an `error` event; nothing crashes, nothing loops."""

from __future__ import annotations

import json
import random
import time
import uuid

import pika
import pytest

from broker import TERMINAL_TYPES, Broker, dead_letters, messages, publish, read_stream
from conftest import amqp_config, unique_uid, wait_broker_up, wait_until
from mutations import cases

MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.fixture
def poison_bridge(broker: Broker, start_bridge):
    queue = f"poison-{uuid.uuid4().hex[:10]}"
    bridge = start_bridge(amqp_config(broker, queue=queue, max_message_bytes=4096))
    wait_broker_up(bridge)
    bridge.queue = queue
    return bridge


def refused(broker: Broker, bridge, body, **properties) -> pika.BasicProperties:
    """Publishes `body`; returns the properties of its copy in the dead-letter queue."""
    connection = broker.connect()
    publish(connection, body, queue=bridge.queue, **properties)
    connection.close()
    letters = []
    wait_until(lambda: letters.extend(dead_letters(broker, f"{bridge.queue}.dead", idle=0.3)) or letters, 15,
               "the prompt in the dead-letter queue")
    assert len(letters) == 1, [m.headers for m in letters]
    letter = letters[0]
    sent = body if isinstance(body, bytes) else json.dumps(body).encode()
    assert letter.body == sent, "the dead-lettered prompt is the prompt, byte for byte"
    assert letter.headers["x-tokenbridge-queue"] == bridge.queue
    assert letter.headers["x-tokenbridge-reason"]
    # Acked after the copy was confirmed: neither waiting nor unacked in the prompt queue.
    wait_until(lambda: broker.queue_counts(bridge.queue) == (0, 0), 10, "the refused prompt to be acked")
    bridge.ping()
    return letter.properties


@pytest.mark.parametrize(
    "body, code",
    [
        (b"{not json", "invalid_json"),
        (b"\xff\xfe\x00garbage", "invalid_json"),
        (b"[1, 2, 3]", "invalid_json"),
        ({"model": "m"}, "missing_prompt"),
        ({"messages": "hello"}, "invalid_request"),
        ({"messages": []}, "invalid_request"),
        ({"messages": [{"content": "no role"}]}, "invalid_request"),
        ({"messages": MESSAGES, "stream_options": "yes"}, "invalid_request"),
        ({"messages": MESSAGES, "uid": "has/slash"}, "invalid_uid"),
        ({"messages": MESSAGES, "uid": "x" * 129}, "invalid_uid"),
        ({"messages": MESSAGES, "uid": 12}, "invalid_uid"),
        ({"key": "bad key", "message": "hi"}, "invalid_uid"),
        ({"key": "k", "message": 5}, "invalid_request"),
        ({"messages": MESSAGES, "n": 3}, "invalid_request"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_malformed_prompt_is_dead_lettered_with_its_reason(body, code, broker: Broker, poison_bridge):
    properties = refused(broker, poison_bridge, body)
    assert properties.headers["x-tokenbridge-error"] == code


def test_an_oversized_prompt_is_dead_lettered_whole(broker: Broker, poison_bridge):
    body = {"messages": [{"role": "user", "content": "x" * 8000}]}
    properties = refused(broker, poison_bridge, body)
    assert properties.headers["x-tokenbridge-error"] == "message_too_large"
    assert "limit is 4096" in properties.headers["x-tokenbridge-reason"]


def test_an_expired_prompt_is_dead_lettered(broker: Broker, poison_bridge):
    properties = refused(
        broker, poison_bridge, {"messages": MESSAGES}, timestamp=int(time.time()) - 3600, expiration="60000")
    assert properties.headers["x-tokenbridge-error"] == "expired"


def test_the_original_properties_survive_the_dead_letter(broker: Broker, poison_bridge):
    properties = refused(
        broker, poison_bridge, b"nope", correlation_id="corr-1", message_id="mid-1", content_type="application/json",
        headers={"x-app": "billing"})
    assert properties.correlation_id == "corr-1" and properties.message_id == "mid-1"
    assert properties.headers["x-app"] == "billing"
    assert properties.delivery_mode == 2


def test_a_known_reply_address_gets_an_error_event(broker: Broker, poison_bridge):
    uid = unique_uid("bad")
    refused(broker, poison_bridge, {"uid": uid, "model": "m"})
    stream = read_stream(broker, f"response_{uid}")
    assert len(stream) == 1
    event = stream[0].event
    assert event["type"] == "error" and event["done"] is True and event["uid"] == uid
    assert event["error"]["code"] == "missing_prompt"

    connection = broker.connect()
    channel = connection.channel()
    reply = channel.queue_declare(queue="", exclusive=True).method.queue
    channel.basic_publish("", poison_bridge.queue, b"{broken", pika.BasicProperties(reply_to=reply, correlation_id="c9"))
    method, properties, body = next(channel.consume(reply, auto_ack=True, inactivity_timeout=15))
    assert method is not None
    assert properties.correlation_id == "c9" and properties.type == "error"
    assert json.loads(body)["error"]["code"] == "invalid_json"
    channel.cancel()
    connection.close()


def test_an_answer_nobody_can_receive_stops_the_stream_and_keeps_the_prompt(broker: Broker, start_bridge):
    """A reply_to queue that does not exist: the answer is returned by the broker, the stream is
    cancelled rather than generated for nobody, and the prompt goes to the dead-letter queue."""
    queue = f"noreply-{uuid.uuid4().hex[:10]}"
    bridge = start_bridge({
        **amqp_config(broker, queue=queue),
        "llm": {"provider": "simulated", "simulated": {"tokens": 2000, "rate": 200}},
    })
    wait_broker_up(bridge)
    connection = broker.connect()
    publish(connection, {"messages": MESSAGES}, queue=queue, reply_to=f"nobody-{uuid.uuid4().hex}")
    connection.close()
    letters = []
    wait_until(lambda: letters.extend(dead_letters(broker, f"{queue}.dead", idle=0.3)) or letters, 15, "the dead letter")
    assert letters[0].headers["x-tokenbridge-error"] == "undeliverable"
    assert "NO_ROUTE" in letters[0].headers["x-tokenbridge-reason"]
    wait_until(lambda: bridge.health()["checks"]["pipeline"]["active_streams"] == 0, 5, "the stream to be cancelled")
    assert broker.queue_counts(queue) == (0, 0)


def test_a_uid_already_running_is_refused(broker: Broker, start_bridge):
    queue = f"dup-{uuid.uuid4().hex[:10]}"
    bridge = start_bridge({
        **amqp_config(broker, queue=queue),
        "llm": {"provider": "simulated", "simulated": {"tokens": 200, "rate": 50}},
    })
    wait_broker_up(bridge)
    uid = unique_uid("dup")
    connection = broker.connect()
    publish(connection, {"uid": uid, "messages": MESSAGES}, queue=queue)
    wait_until(lambda: bridge.health()["checks"]["pipeline"]["active_streams"] == 1, 10, "the first stream to run")
    publish(connection, {"uid": uid, "messages": MESSAGES}, queue=queue)
    connection.close()
    letters = []
    wait_until(lambda: letters.extend(dead_letters(broker, f"{queue}.dead", idle=0.3)) or letters, 15, "the dead letter")
    assert letters[0].headers["x-tokenbridge-error"] == "stream_exists"
    stream = read_stream(broker, f"response_{uid}", timeout=30)
    assert [m.type for m in stream].count("start") == 1 and stream[-1].type == "done"


def test_control_messages_that_make_no_sense_are_ignored(broker: Broker, poison_bridge):
    connection = broker.connect()
    channel = connection.channel()
    for body in [b"garbage", b"{}", b'{"uid": 5, "action": "cancel"}', b'{"uid": "x", "action": "explode"}']:
        channel.basic_publish("tokenbridge.control", "", body)
    connection.close()
    # The bridge still answers prompts.
    uid = unique_uid("after-control")
    connection = broker.connect()
    publish(connection, {"uid": uid, "messages": MESSAGES}, queue=poison_bridge.queue)
    connection.close()
    assert read_stream(broker, f"response_{uid}")[-1].type == "done"
    poison_bridge.ping()


def test_seeded_mutations_of_prompts_are_each_answered_or_dead_lettered(broker: Broker, poison_bridge):
    """200 mutated prompts, each with this test's reply queue and its index as correlation id:
    every one ends as a whole answer there (seq 1..n, one terminal event) or in the dead-letter
    queue, byte for byte; the prompt queue drains and the bridge keeps serving."""
    rng = random.Random(20261201)
    valid = [
        {"uid": "fuzz-a", "messages": MESSAGES},
        {"messages": MESSAGES, "username": "ann", "model": "m", "temperature": 0.5, "max_tokens": 5},
        {"key": "fuzz-b", "message": "hello"},
    ]
    bodies = cases(valid, 200, rng)
    connection = broker.connect()
    channel = connection.channel()
    reply = channel.queue_declare(queue=f"fuzz-replies-{uuid.uuid4().hex[:8]}", durable=True).method.queue
    channel.confirm_delivery()
    for index, body in enumerate(bodies):
        channel.basic_publish("", poison_bridge.queue, body, pika.BasicProperties(reply_to=reply, correlation_id=str(index)))
    connection.close()
    wait_until(lambda: broker.queue_counts(poison_bridge.queue) == (0, 0), 60, "every prompt to be acked")
    answers: dict[str, list] = {}
    for message in messages(broker, reply, timeout=60, idle=1.0):
        answers.setdefault(message.properties.correlation_id, []).append(message)
    letters = {m.properties.correlation_id: m for m in dead_letters(broker, f"{poison_bridge.queue}.dead", idle=1.0)}
    for index, body in enumerate(bodies):
        key = str(index)
        what = f"prompt {index}: {body[:200]!r}"
        if key in letters:
            assert letters[key].body == body, what
        answer = answers.get(key, [])
        if not answer:
            assert key in letters, f"neither answered nor dead-lettered: {what}"
            continue
        types = [m.type for m in answer]
        seqs = [m.event["seq"] for m in answer]
        assert sum(t in TERMINAL_TYPES for t in types) == 1 and types[-1] in TERMINAL_TYPES, (types, what)
        if types[0] == "start":
            assert seqs == list(range(1, len(seqs) + 1)), (seqs, what)
        else:
            assert types == ["error"] and key in letters, (types, what)
    answered = sum(1 for key in answers if any(m.type == "done" for m in answers[key]))
    print(f"answered {answered}, dead-lettered {len(letters)}, of {len(bodies)}")
    assert answered >= 10 and len(letters) > 50
    poison_bridge.ping()
