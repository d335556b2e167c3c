"""`tokenbridge bench` against a running bridge: the instrument itself must count right, or every
number in the README is wrong. Small loads only; speed is the benchmark scripts' business."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest

from broker import Broker
from conftest import BIN, REPO, bridge_env, free_port
from timing import scaled


def bench(bridge, *args: str) -> dict:
    result = subprocess.run(
        [str(BIN), "bench", "--url", f"{bridge.base_url}/v1", "--pid", str(bridge.proc.pid), "--json", "--quiet", *args],
        capture_output=True, text=True, timeout=scaled(120), cwd=REPO, env=bridge_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("client", ["sleeping", "busy-polling"])
def test_the_fan_out_bench_sees_every_publication_once(client, start_bridge):
    bridge = start_bridge({"llm": {"provider": "simulated"}})
    extra = ("--busy-poll",) if client == "busy-polling" else ()
    report = bench(bridge, "--egress", "ws", "--streams", "2", "--subscribers", "3", "--tokens", "40", "--rate", "0", *extra)
    assert report["busy_poll"] is (client == "busy-polling")
    assert report["connections"] == 6
    assert (report["lost"], report["duplicated"], report["closed_by_server"]) == (0, 0, 0)
    # Every subscriber of a stream sees that stream's 40 text tokens at least (plus start and done).
    assert report["delivered"] >= 6 * 40 and report["delivered"] % 3 == 0, report
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"] < 10_000
    assert report["bridge_rss_bytes"] > 0


def test_the_idle_connection_bench_reports_memory_per_connection(start_bridge):
    bridge = start_bridge({})
    report = bench(bridge, "--egress", "ws", "--idle-connections", "200")
    assert report["connections"] == 200 and report["closed_by_server"] == 0
    # The bridge's RSS growth over 200 connections: a number, and not an absurd one (the allocator
    # may serve some from memory it already held, so it is not always above zero).
    assert isinstance(report["idle_bytes_per_connection"], (int, float)) and report["idle_bytes_per_connection"] < 1 << 20


def test_spawn_and_baseline_measure_the_bridges_cost_and_clean_up() -> None:
    result = subprocess.run(
        [str(BIN), "bench", "--spawn", "--baseline", "--streams", "4", "--tokens", "20", "--duration", "1s", "--json", "--quiet"],
        capture_output=True, text=True, timeout=scaled(120), cwd=REPO, env=bridge_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    for side in ("bridge", "baseline"):
        run = report[side]
        assert run["completed"] > 0 and run["errors"] == 0 and run["lost_tokens"] == 0 and run["extra_tokens"] == 0, run
        # --spawn stamps the tokens: every one timed from the model to this client, none out of order.
        assert run["token_latency_ms"]["count"] == run["completed"] * 20 and run["out_of_order_tokens"] == 0, run
        assert 0 <= run["token_latency_ms"]["p50"] <= run["token_latency_ms"]["p99"]
    assert report["bridge"]["url"] != report["baseline"]["url"]
    assert 0 < report["streams_ratio"] and 0 < report["tokens_ratio"]
    assert report["ttft_added_ms"] is not None
    # Both spawned servers are gone: nothing listens on their ports any more.
    import socket
    from urllib.parse import urlparse
    for side in ("bridge", "baseline"):
        port = urlparse(report[side]["url"]).port
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"something still listens on {port}"


def test_baseline_needs_somewhere_to_compare_with() -> None:
    result = subprocess.run([str(BIN), "bench", "--baseline", "--quiet"], capture_output=True, text=True, timeout=scaled(30),
                            cwd=REPO, env=bridge_env())
    assert result.returncode != 0 and "--baseline needs --spawn" in result.stderr


# MARK: - Every egress at once (--egress all, --egress amqp)


def spawned_bench(*args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run([str(BIN), "bench", "--spawn", "--json", "--quiet", *args], capture_output=True, text=True,
                            timeout=scaled(timeout), cwd=REPO, env=bridge_env())
    return result, time.monotonic() - started


def assert_every_token_once(report: dict, egress: str, readers: int, tokens: int) -> None:
    line = report["egress"][egress]
    assert (line["lost_tokens"], line["duplicated_tokens"], line["out_of_order_tokens"], line["failed"]) == (0, 0, 0, 0), line
    assert line["readers"] == readers and line["completed"] == readers, line
    assert line["tokens"] == line["expected_tokens"] == readers * tokens, line
    # Stamped by the model: every token timed here, every stream's first token too.
    latency, ttft = line["token_latency_ms"], line["ttft_ms"]
    assert latency["count"] == readers * tokens and ttft["count"] == readers, line
    for percentiles in (latency, ttft):
        assert 0 <= percentiles["p50"] <= percentiles["p90"] <= percentiles["p99"] <= percentiles["p999"] <= percentiles["max"] < 30_000
        assert percentiles["out_of_range"] == 0


def test_every_stream_is_read_once_in_order_on_every_egress_at_once(broker: Broker) -> None:
    result, _ = spawned_bench("--egress", "all", "--streams", "3", "--subscribers", "2", "--tokens", "30", "--rounds", "2",
                              "--amqp-url", broker.url, "--queue", f"bench-{uuid.uuid4().hex[:8]}")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["clean"] is True and report["fatal"] is None
    assert report["egresses"] == ["sse", "ws", "amqp"]
    assert (report["started"], report["completed"], report["errors"], report["unfinished"]) == (6, 6, 0, 0), report
    assert_every_token_once(report, "sse", readers=6, tokens=30)
    assert_every_token_once(report, "ws", readers=12, tokens=30)
    assert_every_token_once(report, "amqp", readers=6, tokens=30)
    # The top level keeps the SSE bench's names: the first egress's numbers.
    assert report["ttft_ms"] == report["egress"]["sse"]["ttft_ms"]
    assert report["target"]["peak_rss_bytes"] > 0


def test_the_queue_egress_reads_each_answer_from_its_response_queue_and_leaves_none(broker: Broker) -> None:
    result, _ = spawned_bench("--egress", "amqp", "--streams", "4", "--tokens", "25", "--duration", "2s",
                              "--amqp-url", broker.url, "--queue", f"bench-{uuid.uuid4().hex[:8]}")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["egresses"] == ["amqp"] and report["completed"] >= 4 and report["errors"] == 0, report
    assert_every_token_once(report, "amqp", readers=report["completed"], tokens=25)
    assert report["streams_per_second"] > 0 and report["tokens_per_second"] > 0
    # The bench deletes each response queue once its answer is read.
    leftovers = [name for name in broker.ctl("list_queues", "name").split() if name.startswith("response_bench-")]
    assert leftovers == []


def test_a_bridge_without_rabbitmq_is_refused_at_once_with_the_reason(broker: Broker, start_bridge) -> None:
    bridge = start_bridge({"llm": {"provider": "simulated"}})
    started = time.monotonic()
    result = subprocess.run(
        [str(BIN), "bench", "--url", f"{bridge.base_url}/v1", "--egress", "all", "--amqp-url", broker.url,
         "--streams", "3", "--duration", "20s", "--json", "--quiet"],
        capture_output=True, text=True, timeout=scaled(60), cwd=REPO, env=bridge_env())
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    # The first refusal stops the run: the same request would be refused for all of --duration.
    assert "sink_unavailable" in report["fatal"] and report["clean"] is False and report["completed"] == 0, report
    assert elapsed < min(scaled(10), 18), f"took {elapsed:.1f} s of the 20 s run"


def test_an_unreachable_broker_is_a_clear_error_not_a_hang() -> None:
    url = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    result, elapsed = spawned_bench("--egress", "amqp", "--amqp-url", url, "--duration", "20s", timeout=60)
    assert result.returncode != 0 and result.stdout == ""
    assert f"RabbitMQ at {url} is not reachable" in result.stderr, result.stderr
    assert elapsed < min(scaled(10), 18), f"took {elapsed:.1f} s of the 20 s run"
