"""`tokenbridge bench` against a running bridge: the instrument itself must count right, or every
number in the README is wrong. Small loads only; speed is the benchmark scripts' business."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import BIN, REPO, bridge_env


def bench(bridge, *args: str) -> dict:
    result = subprocess.run(
        [str(BIN), "bench", "--url", f"{bridge.base_url}/v1", "--pid", str(bridge.proc.pid), "--json", "--quiet", *args],
        capture_output=True, text=True, timeout=120, cwd=REPO, env=bridge_env(),
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
        capture_output=True, text=True, timeout=120, cwd=REPO, env=bridge_env(),
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
    result = subprocess.run([str(BIN), "bench", "--baseline", "--quiet"], capture_output=True, text=True, timeout=30,
                            cwd=REPO, env=bridge_env())
    assert result.returncode != 0 and "--baseline needs --spawn" in result.stderr
