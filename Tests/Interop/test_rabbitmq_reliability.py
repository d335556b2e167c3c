"""At-least-once from the queue: acks only after the answer is confirmed, reruns under a new epoch
after a broker outage or a crash, cancel, competing workers, graceful shutdown."""

from __future__ import annotations

import signal
import threading
import time
import uuid

import pytest

from broker import Broker, Message, assert_complete_run, last_run, messages, publish, read_stream
from conftest import amqp_config, unique_uid, wait_broker_up, wait_until
from timing import scaled

MESSAGES = [{"role": "user", "content": "Explain streaming in detail."}]


def slow_model(tokens: int = 150, rate: float = 50) -> dict:
    return {"llm": {"provider": "simulated", "simulated": {"tokens": tokens, "rate": rate}}}


def queue_name(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:10]}"


class Reader(threading.Thread):
    """Reads a response queue in the background, across broker restarts, until a `done` event
    arrives that belongs to the newest epoch."""

    def __init__(self, broker: Broker, queue: str) -> None:
        super().__init__(daemon=True)
        self.broker, self.queue = broker, queue
        self.got: list[Message] = []
        self.finished = threading.Event()
        self.errors: list[str] = []

    def run(self) -> None:
        deadline = time.monotonic() + scaled(90)
        while time.monotonic() < deadline and not self.finished.is_set():
            try:
                for message in messages(self.broker, self.queue, timeout=max(1.0, deadline - time.monotonic())):
                    self.got.append(message)
                    if message.type == "done":
                        self.finished.set()
                        return
            except Exception as error:  # the broker went away under us: reconnect when it is back
                self.errors.append(repr(error))
                time.sleep(0.2)

    def deltas(self) -> int:
        return sum(1 for m in self.got if m.type == "delta")


def stream_under_way(broker: Broker, start_bridge, stem: str, extra: dict, **rabbitmq):
    """A bridge on its own queue, one prompt published to it, and a reader that has seen three
    deltas of the answer: (bridge, queue, reader, uid)."""
    queue = queue_name(stem)
    bridge = start_bridge({**amqp_config(broker, queue=queue, **rabbitmq), **extra})
    wait_broker_up(bridge)
    uid = unique_uid(stem)
    connection = broker.connect()
    publish(connection, {"uid": uid, "messages": MESSAGES}, queue=queue, delivery_mode=2)
    connection.close()
    reader = Reader(broker, f"response_{uid}")
    reader.start()
    wait_until(lambda: reader.deltas() >= 3, 15, "the stream to be under way")
    return bridge, queue, reader, uid


def test_a_control_message_cancels_the_stream(broker: Broker, start_bridge):
    _, queue, reader, uid = stream_under_way(broker, start_bridge, "cancel", slow_model(2000, 40))
    connection = broker.connect()
    publish(connection, {"uid": uid, "action": "cancel"}, queue="", exchange="tokenbridge.control")
    connection.close()
    wait_until(lambda: any(m.type == "cancelled" for m in reader.got), 10, "the cancelled event")
    assert reader.got[-1].type == "cancelled" and reader.got[-1].event["done"] is True
    assert reader.deltas() < 200
    wait_until(lambda: broker.queue_counts(queue) == (0, 0), 10, "the prompt to be acked")


def test_two_workers_share_the_prompts_and_answer_each_once(broker: Broker, start_bridge):
    queue = queue_name("workers")
    config = {**amqp_config(broker, queue=queue, prefetch=4), **slow_model(30, 300), "log": {"level": "debug"}}
    first, second = start_bridge(config), start_bridge(config)
    wait_broker_up(first), wait_broker_up(second)
    uids = [unique_uid(f"w{i}") for i in range(24)]
    connection = broker.connect()
    for uid in uids:
        publish(connection, {"uid": uid, "messages": MESSAGES}, queue=queue)
    connection.close()
    for uid in uids:
        stream = read_stream(broker, f"response_{uid}", timeout=30)
        assert assert_complete_run(stream)
        assert [m.type for m in stream].count("start") == 1
        # Nothing after the terminal event either: a duplicate run would show up here.
        assert list(messages(broker, f"response_{uid}", timeout=0.3, idle=0.2)) == []
    def started_by(bridge) -> set[str]:
        lines = [line for line in bridge.proc.output().splitlines() if "prompt started" in line]
        return {uid for uid in uids if any(f"stream.id={uid}" in line for line in lines)}

    mine, theirs = started_by(first), started_by(second)
    assert mine and theirs, "both workers answered some prompts"
    assert not mine & theirs, "no prompt was answered by both"
    assert mine | theirs == set(uids)
    assert broker.queue_counts(queue) == (0, 0)


def test_a_full_pipeline_holds_prompts_back_until_a_slot_frees(broker: Broker, start_bridge):
    queue = queue_name("full")
    bridge = start_bridge({**amqp_config(broker, queue=queue), **slow_model(20, 100),
                           "pipeline": {"max_concurrent_streams": 2}})
    wait_broker_up(bridge)
    uids = [unique_uid(f"full{i}") for i in range(7)]
    connection = broker.connect()
    for uid in uids:
        publish(connection, {"uid": uid, "messages": MESSAGES}, queue=queue)
    connection.close()
    for uid in uids:
        assert assert_complete_run(read_stream(broker, f"response_{uid}", timeout=30))
    assert broker.queue_counts(queue) == (0, 0)


def test_a_redelivered_prompt_whose_answer_was_confirmed_is_not_generated_again(broker: Broker, start_bridge):
    """The ack of a fully answered prompt can be lost with a connection; its redelivery must not
    produce a second answer. A redelivery is made by hand: a second consumer takes the repeat while
    the bridge's one prefetch slot is busy, and gives it back (which marks it redelivered)."""
    queue = queue_name("again")
    bridge = start_bridge(amqp_config(broker, queue=queue, prefetch=1))
    wait_broker_up(bridge)
    uid = unique_uid("again")
    quick = {"uid": uid, "messages": MESSAGES, "mock": {"tokens": 5, "rate": 0}}
    connection = broker.connect()
    publish(connection, quick, queue=queue)
    assert read_stream(broker, f"response_{uid}")[-1].type == "done"
    wait_until(lambda: broker.queue_counts(queue) == (0, 0), 10, "the first prompt to be acked")
    long_uid = unique_uid("busy")
    # Long enough (8 s) that a stalled machine still finds it holding the slot when it looks.
    publish(connection, {"uid": long_uid, "messages": MESSAGES, "mock": {"tokens": 200, "rate": 25}}, queue=queue)
    wait_until(lambda: broker.queue_counts(queue) == (0, 1), 10, "the long prompt to hold the bridge's slot")
    publish(connection, quick, queue=queue)
    channel = connection.channel()
    method, _, _ = channel.basic_get(queue)
    assert method is not None and not method.redelivered
    channel.basic_nack(method.delivery_tag, requeue=True)
    connection.close()
    wait_until(lambda: "prompt already answered" in bridge.proc.output(), 15, "the redelivery to be recognised")
    wait_until(lambda: broker.queue_counts(queue) == (0, 0), 60, "both prompts to be acked")
    assert list(messages(broker, f"response_{uid}", timeout=0.5, idle=0.4)) == []


def test_a_new_prompt_that_reuses_an_answered_uid_is_answered_again(broker: Broker, start_bridge):
    queue = queue_name("reuse")
    bridge = start_bridge(amqp_config(broker, queue=queue))
    wait_broker_up(bridge)
    key = unique_uid("session")
    connection = broker.connect()
    publish(connection, {"key": key, "message": "first question"}, queue=queue)
    first = read_stream(broker, f"response_{key}")
    publish(connection, {"key": key, "message": "second question"}, queue=queue)
    connection.close()
    second = read_stream(broker, f"response_{key}")
    assert assert_complete_run(first) and assert_complete_run(second)
    assert first[0].event["epoch"] != second[0].event["epoch"]


def test_a_stream_longer_than_the_consumer_timeout_ends_before_the_broker_takes_the_prompt_back(
    broker: Broker, start_bridge
):
    queue = queue_name("deadline")
    bridge = start_bridge({**amqp_config(broker, queue=queue, consumer_timeout="10s"), **slow_model(1000, 20)})
    wait_broker_up(bridge)
    uid = unique_uid("deadline")
    connection = broker.connect()
    started = time.monotonic()
    publish(connection, {"uid": uid, "messages": MESSAGES}, queue=queue)
    connection.close()
    stream = read_stream(broker, f"response_{uid}", timeout=20)
    elapsed = time.monotonic() - started
    assert stream[-1].type == "error"
    assert stream[-1].event["error"]["code"] == "deadline_exceeded"
    assert 8.0 <= elapsed < 10.0, f"ended {elapsed:.1f}s after the prompt: a margin before the 10s timeout"
    wait_until(lambda: broker.queue_counts(queue) == (0, 0), 5, "the prompt to be acked")


def test_a_broker_restart_mid_stream_reruns_the_prompt_under_a_new_epoch(private_broker: Broker, start_bridge):
    queue = queue_name("outage")
    bridge = start_bridge({**amqp_config(private_broker, queue=queue, heartbeat="2s"), **slow_model(120, 40)})
    wait_broker_up(bridge)
    uid = unique_uid("outage")
    connection = private_broker.connect()
    publish(connection, {"uid": uid, "messages": MESSAGES}, queue=queue, delivery_mode=2)
    connection.close()
    reader = Reader(private_broker, f"response_{uid}")
    reader.start()
    wait_until(lambda: reader.deltas() >= 10, 20, "the stream to be under way")
    private_broker.stop()
    wait_until(lambda: bridge.health()["checks"]["rabbitmq"]["status"] == "down", 10, "/health to see the broker gone")
    with bridge.client() as client:
        assert client.get("/health").status_code == 503
    private_broker.start()
    health = wait_broker_up(bridge, timeout=30)
    assert health["sessions"] == 2
    assert reader.finished.wait(scaled(60)), f"no done event; got {[m.type for m in reader.got]}, reader errors {reader.errors}"
    epochs = [m.event["epoch"] for m in reader.got if m.type == "start"]
    assert len(epochs) >= 2 and epochs[-1] != epochs[0], epochs
    assert assert_complete_run(last_run(reader.got))
    assert "answering it again under a new epoch" in bridge.proc.output()
    wait_until(lambda: private_broker.queue_counts(queue) == (0, 0), 10, "the rerun prompt to be acked")


def test_a_bridge_killed_mid_stream_answers_the_prompt_after_restart(broker: Broker, procs, tmp_path, start_bridge):
    queue = queue_name("crash")
    config = {**amqp_config(broker, queue=queue), **slow_model(120, 40)}
    bridge = start_bridge(config)
    wait_broker_up(bridge)
    uid = unique_uid("crash")
    connection = broker.connect()
    publish(connection, {"uid": uid, "messages": MESSAGES}, queue=queue, delivery_mode=2)
    connection.close()
    reader = Reader(broker, f"response_{uid}")
    reader.start()
    wait_until(lambda: reader.deltas() >= 10, 20, "the stream to be under way")
    bridge.proc.signal(signal.SIGKILL)
    bridge.proc.wait(10)
    # The broker has the prompt back as soon as the connection is gone.
    wait_until(lambda: broker.queue_counts(queue) == (1, 0), 10, "the prompt to be back in the queue")
    again = start_bridge(config)
    wait_broker_up(again)
    assert reader.finished.wait(scaled(60)), f"no done event; got {[m.type for m in reader.got]}"
    epochs = [m.event["epoch"] for m in reader.got if m.type == "start"]
    assert len(epochs) == 2 and epochs[0] != epochs[1]
    assert assert_complete_run(last_run(reader.got))
    wait_until(lambda: broker.queue_counts(queue) == (0, 0), 10, "the prompt to be acked")


def test_sigterm_returns_a_stream_longer_than_the_grace_period_to_the_queue(broker: Broker, start_bridge):
    bridge, queue, reader, uid = stream_under_way(
        broker, start_bridge, "drain", {**slow_model(2000, 50), "pipeline": {"shutdown_grace": "1s"}})
    bridge.proc.signal(signal.SIGTERM)
    assert bridge.proc.wait(20) == 0
    # Back in the queue, ready for another worker; that run published no terminal event (the
    # next run's start tells the reader to discard what it has).
    assert broker.queue_counts(queue) == (1, 0)
    wait_until(lambda: broker.queue_counts(f"response_{uid}")[0] == 0, 10, "the reader to read what was published")
    assert not any(m.type in ("done", "error", "cancelled") for m in reader.got), [m.type for m in reader.got[-3:]]
    assert "returning unfinished prompts to the queue" in bridge.proc.output()


def test_sigterm_lets_a_stream_that_fits_the_grace_period_finish(broker: Broker, start_bridge):
    bridge, queue, reader, _ = stream_under_way(
        broker, start_bridge, "finish", {**slow_model(60, 40), "pipeline": {"shutdown_grace": "10s"}})
    bridge.proc.signal(signal.SIGTERM)
    assert bridge.proc.wait(20) == 0
    assert reader.finished.wait(scaled(10))
    assert assert_complete_run(reader.got)
    assert broker.queue_counts(queue) == (0, 0), "acked before the bridge exited"


@pytest.mark.timeout(150)
def test_a_broker_resource_alarm_bounds_memory_and_every_answer_completes_after_it(private_broker: Broker, start_bridge):
    """The broker stops reading publishers (a memory alarm): the bridge says so in /health, keeps at
    most sinks.rabbitmq.max_pending_bytes of answers waiting, gives back the prompts whose answers
    did not fit and holds new ones; once the alarm clears, every prompt is answered in full."""
    queue = queue_name("alarm")
    bridge = start_bridge({
        **amqp_config(private_broker, queue=queue, sinks_rabbitmq={"max_pending_bytes": "4MiB"}),
        **slow_model(3000, 0),
    })
    wait_broker_up(bridge)
    uids = [unique_uid(f"alarm{i}") for i in range(4)]
    # The prompts wait in the queue while no bridge consumes it; then the alarm goes on (publishers,
    # this client included, are blocked) and the bridge starts taking them.
    bridge.proc.signal(signal.SIGSTOP)
    connection = private_broker.connect()
    for uid in uids:
        publish(connection, {"uid": uid, "messages": MESSAGES}, queue=queue)
    connection.close()
    private_broker.ctl("set_vm_memory_high_watermark", "0.000001")
    bridge.proc.signal(signal.SIGCONT)
    bridge.proc.expect_exit = False
    try:
        wait_until(lambda: "the broker is not keeping up" in bridge.proc.output(), 20, "the backlog bound to be reached")
        health = bridge.health()["checks"]["rabbitmq"]
        assert health["prompts_running"] + health["prompts_waiting"] <= len(uids)
        rss = int(next(line.split()[1] for line in open(f"/proc/{bridge.proc.pid}/status") if line.startswith("VmRSS")))
        assert rss < 200_000, f"{rss} kB resident while the broker reads nothing"
    finally:
        private_broker.ctl("set_vm_memory_high_watermark", "0.4")
    for uid in uids:
        stream = read_stream_of_last_run(private_broker, f"response_{uid}", timeout=90)
        assert assert_complete_run(stream)
    wait_until(lambda: private_broker.queue_counts(queue) == (0, 0), 30, "every prompt to be acked")
    assert private_broker.queue_counts(f"{queue}.dead") == (0, 0)


def read_stream_of_last_run(broker: Broker, queue: str, timeout: float = 60.0) -> list[Message]:
    """Reads until a `done` event, returning the run it belongs to (earlier runs are dropped)."""
    got: list[Message] = []
    for message in messages(broker, queue, timeout):
        got.append(message)
        if message.type == "done":
            return last_run(got)
    raise AssertionError(f"no done on {queue!r}; types {[m.type for m in got][-5:]}")
