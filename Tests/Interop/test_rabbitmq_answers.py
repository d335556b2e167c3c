"""Prompts from a RabbitMQ queue, answers in response queues: chatgpt-queue's interface, driven
with pika (what chatgpt-queue's README uses) against a real broker."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import uuid
from contextlib import redirect_stdout

import pika
import pytest

from broker import Broker, assert_complete_run, publish, read_stream, wait_for_queue
from conftest import amqp_config, unique_uid, wait_broker_up, wait_until

PROMPT = "Tell me a joke."


def queue_name() -> str:
    return f"prompts-{uuid.uuid4().hex[:10]}"


def expected_text(bridge, content: str = PROMPT) -> str:
    """The simulated model's answer to `content`, asked over HTTP (same prompt, same answer)."""
    with bridge.client() as client:
        response = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": content}]})
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


# chatgpt-queue's README, "2. Submit a Chat Request" and "3. Receive the Response", character for
# character (github.com/digitalis-io/chatgpt-queue, README.md). Its worker read `default-queue`.
README_SUBMIT = '''
import pika, json, uuid

connection = pika.BlockingConnection(pika.ConnectionParameters('localhost'))
channel = connection.channel()
key = str(uuid.uuid4())
message = {"key": key, "message": "Tell me a joke."}
channel.basic_publish(
    exchange='',
    routing_key='default-queue',
    body=json.dumps(message)
)
print("Sent:", message)
'''

README_RECEIVE = '''
def callback(ch, method, properties, body):
    print("Response:", body.decode())

channel.basic_consume(
    queue=f'response_{key}',
    on_message_callback=callback,
    auto_ack=True
)
print('Waiting for response...')
channel.start_consuming()
'''


class Capture(io.StringIO):
    """stdout of the README code, readable while it runs; a terminal event stops its consumer."""

    def __init__(self, stop_on: "re.Pattern[str]") -> None:
        super().__init__()
        self.stop_on = stop_on
        self.namespace: dict = {}

    def write(self, text: str) -> int:
        written = super().write(text)
        if self.stop_on.search(self.getvalue()) and "channel" in self.namespace:
            self.namespace["channel"].stop_consuming()
        return written


@pytest.mark.parametrize("fmt", ["json", "text", "openai"])
def test_the_chatgpt_queue_readme_example_works_unchanged(fmt, broker: Broker, start_bridge):
    if broker.port != 5672:
        pytest.skip("port 5672 is taken on this machine; the README example connects to localhost:5672")
    bridge = start_bridge(
        amqp_config(broker, sinks_rabbitmq={"format": fmt}),
        env={"RABBITMQ_QUEUE": "default-queue", "RABBITMQ_URL": broker.url})
    wait_broker_up(bridge)
    answer = expected_text(bridge)
    # The text format's terminal message has an empty body: the last line is "Response: " after the answer.
    stop = {"json": r'Response: .*"type":"done"', "openai": r'Response: .*"finish_reason":"stop"', "text": r"(Response: \n.*){2}$"}[fmt]
    capture = Capture(re.compile(stop, re.S))
    with redirect_stdout(capture):
        exec(README_SUBMIT, capture.namespace)
        key = capture.namespace["key"]
        # The README has the reader run this after submitting; its queue exists once the bridge
        # took the prompt (the reader would get 404 NOT_FOUND before, as with chatgpt-queue).
        wait_for_queue(broker, f"response_{key}")
        timer = threading.Timer(20, lambda: capture.namespace["connection"].add_callback_threadsafe(
            capture.namespace["channel"].stop_consuming))
        timer.start()
        try:
            exec(README_RECEIVE, capture.namespace)
        finally:
            timer.cancel()
            capture.namespace["connection"].close()
    lines = [line[len("Response: "):] for line in capture.getvalue().splitlines() if line.startswith("Response: ")]
    assert lines, capture.getvalue()
    if fmt == "json":
        events = [json.loads(line) for line in lines]
        assert [e["type"] for e in events][0] == "start" and events[-1]["type"] == "done"
        assert "".join(e.get("text", "") for e in events) == answer
        assert all(e["uid"] == key for e in events)
    elif fmt == "openai":
        chunks = [json.loads(line) for line in lines]
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
        assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == answer
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["usage"]["completion_tokens"] > 0
    else:
        # Raw tokens, as chatgpt-queue sent them, between an empty start and an empty end marker.
        assert lines[0] == "" and lines[-1] == ""
        assert "".join(lines[1:-1]) == answer
    ready, unacked = broker.queue_counts("default-queue")
    assert (ready, unacked) == (0, 0)


def test_an_openai_request_with_uid_and_username_streams_every_event(broker: Broker, start_bridge):
    queue = queue_name()
    bridge = start_bridge(amqp_config(broker, queue=queue))
    wait_broker_up(bridge)
    uid = unique_uid("amqp")
    connection = broker.connect()
    publish(connection, {"model": "m1", "messages": [{"role": "user", "content": PROMPT}], "stream": True,
                         "uid": uid, "username": "alice", "max_tokens": 2000}, queue=queue)
    connection.close()
    stream = read_stream(broker, f"response_{uid}")
    text = assert_complete_run(stream)
    assert text == expected_text(bridge)
    start = stream[0]
    assert start.event["model"] == "m1"
    for message in stream:
        properties = message.properties
        assert properties.correlation_id == uid
        assert properties.content_type == "application/json"
        assert properties.delivery_mode == 2
        assert properties.timestamp and abs(properties.timestamp - time.time()) < 60
        assert message.headers["x-uid"] == uid and message.headers["x-epoch"] == start.event["epoch"]
    assert stream[-1].event["usage"]["completion_tokens"] > 0
    # The prompt was acked once its answer was confirmed; the response queue expires when unused.
    wait_until(lambda: broker.queue_counts(queue) == (0, 0), 10, "the prompt to be acked")
    assert "x-expires" in broker.queue_arguments(f"response_{uid}")


def test_the_legacy_key_message_body_is_answered(broker: Broker, start_bridge):
    queue = queue_name()
    bridge = start_bridge(amqp_config(broker, queue=queue))
    wait_broker_up(bridge)
    key = str(uuid.uuid4())
    connection = broker.connect()
    publish(connection, {"key": key, "message": PROMPT}, queue=queue)
    connection.close()
    stream = read_stream(broker, f"response_{key}")
    assert assert_complete_run(stream) == expected_text(bridge)
    assert stream[0].event["uid"] == key


def test_reply_to_and_correlation_id_make_an_rpc(broker: Broker, start_bridge):
    queue = queue_name()
    bridge = start_bridge(amqp_config(broker, queue=queue))
    wait_broker_up(bridge)
    connection = broker.connect()
    channel = connection.channel()
    reply_queue = channel.queue_declare(queue="", exclusive=True).method.queue
    uid = unique_uid("rpc")
    channel.basic_publish(
        exchange="", routing_key=queue,
        body=json.dumps({"uid": uid, "messages": [{"role": "user", "content": PROMPT}]}),
        properties=pika.BasicProperties(reply_to=reply_queue, correlation_id="req-42"))
    got = []
    for method, properties, body in channel.consume(reply_queue, auto_ack=True, inactivity_timeout=15):
        assert method is not None, f"the answer stopped arriving after {len(got)} messages"
        got.append((properties, json.loads(body)))
        if properties.type in ("done", "error", "cancelled"):
            break
    channel.cancel()
    assert [e["type"] for _, e in got][0] == "start" and got[-1][1]["type"] == "done"
    assert all(p.correlation_id == "req-42" for p, _ in got)
    assert "".join(e.get("text", "") for _, e in got) == expected_text(bridge)
    connection.close()
    assert not broker.queue_exists(f"response_{uid}")


def test_message_id_names_the_stream_when_the_body_has_no_uid(broker: Broker, start_bridge):
    queue = queue_name()
    bridge = start_bridge(amqp_config(broker, queue=queue))
    wait_broker_up(bridge)
    message_id = unique_uid("mid")
    connection = broker.connect()
    publish(connection, {"messages": [{"role": "user", "content": PROMPT}]}, queue=queue, message_id=message_id)
    connection.close()
    stream = read_stream(broker, f"response_{message_id}")
    assert assert_complete_run(stream) == expected_text(bridge)


def test_a_response_queue_the_client_declared_itself_is_used_as_it_is(broker: Broker, start_bridge):
    """chatgpt-queue declared response queues durable without arguments; a client that declares
    its queue first (to avoid the 404 race) must not be refused for the bridge's x-expires."""
    queue = queue_name()
    bridge = start_bridge(amqp_config(broker, queue=queue))
    wait_broker_up(bridge)
    uid = unique_uid("pre")
    connection = broker.connect()
    connection.channel().queue_declare(queue=f"response_{uid}", durable=True)
    publish(connection, {"uid": uid, "messages": [{"role": "user", "content": PROMPT}]}, queue=queue)
    connection.close()
    assert assert_complete_run(read_stream(broker, f"response_{uid}")) == expected_text(bridge)
    assert broker.queue_arguments(f"response_{uid}") == "[]"


@pytest.mark.parametrize("fmt", ["text", "openai"])
def test_other_formats_carry_the_same_properties(fmt, broker: Broker, start_bridge):
    queue = queue_name()
    bridge = start_bridge(amqp_config(broker, queue=queue, sinks_rabbitmq={"format": fmt}))
    wait_broker_up(bridge)
    uid = unique_uid(fmt)
    connection = broker.connect()
    publish(connection, {"uid": uid, "messages": [{"role": "user", "content": PROMPT}]}, queue=queue)
    connection.close()
    stream = read_stream(broker, f"response_{uid}")
    epoch = stream[0].headers["x-epoch"]
    assert [m.headers["x-seq"] for m in stream] == list(range(1, len(stream) + 1))
    assert [m.properties.message_id for m in stream] == [f"{uid}:{epoch}:{i}" for i in range(1, len(stream) + 1)]
    assert stream[0].type == "start" and stream[-1].type == "done"
    assert stream[-1].headers["x-finish-reason"] == "stop"
    if fmt == "text":
        assert all(m.properties.content_type.startswith("text/plain") for m in stream)
        assert stream[0].body == b"" and stream[-1].body == b""
        assert b"".join(m.body for m in stream).decode() == expected_text(bridge)
    else:
        chunks = [json.loads(m.body) for m in stream]
        assert all(c["object"] == "chat.completion.chunk" and c["id"] == f"chatcmpl-{uid}" for c in chunks)
        assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == expected_text(bridge)
        assert chunks[-1]["usage"]["total_tokens"] == chunks[-1]["usage"]["prompt_tokens"] + chunks[-1]["usage"]["completion_tokens"]


def test_coalescing_merges_deltas_with_exact_seq_ranges(broker: Broker, start_bridge):
    queue = queue_name()
    bridge = start_bridge({
        **amqp_config(broker, queue=queue, sinks_rabbitmq={"coalesce_window": "30ms"}),
        "llm": {"provider": "simulated", "simulated": {"tokens": 60, "rate": 400}},
    })
    wait_broker_up(bridge)
    uid = unique_uid("merge")
    connection = broker.connect()
    publish(connection, {"uid": uid, "messages": [{"role": "user", "content": PROMPT}]}, queue=queue)
    connection.close()
    stream = read_stream(broker, f"response_{uid}")
    events = [m.event for m in stream]
    deltas = [e for e in events if e["type"] == "delta"]
    assert len(deltas) < 60, "deltas 2.5 ms apart within a 30 ms window must merge"
    covered = []
    for event in deltas:
        assert event["seq"] == event["seq_to"]
        covered.extend(range(event["seq_from"], event["seq_to"] + 1))
    assert covered == list(range(2, 62)), "every seq of the 60 deltas, once, in order"
    assert events[-1]["type"] == "done" and events[-1]["seq"] == 62
    assert "".join(e["text"] for e in deltas) == expected_text(bridge, PROMPT)
