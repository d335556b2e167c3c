"""Graceful stop: SIGTERM/SIGINT stop accepting, end in-flight streams with a terminal event within
`pipeline.shutdown_grace`, and exit 0."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from conftest import Bridge, chat_body, wait_until
from sse import SSEResult, assert_clean_finish, assert_error_json, assert_error_terminal, iter_sse
from timing import scaled

CHAT = "/v1/chat/completions"


def slack() -> float:
    """Seconds beyond the grace period for the process to wind down (2 on a normal host)."""
    return scaled(2.0)


def assert_not_accepting(bridge: Bridge) -> None:
    """A new chat request after the signal is refused (connection refused/closed or 503), never served."""
    try:
        with bridge.client(timeout=3.0) as client:
            response = client.post(CHAT, json=chat_body())
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
        return
    except httpx.TimeoutException:
        pytest.fail("a request during shutdown hung instead of being refused")
    assert_error_json(response, 503)


def read_until_content(events) -> list[str]:
    payloads = []
    for kind, value in events:
        if kind == "data":
            payloads.append(value)
            if value != "[DONE]" and SSEResult(200, httpx.Headers(), [value]).content:
                return payloads
    raise AssertionError(f"the stream ended before any content: {payloads}")


def read_rest(events, deadline: float) -> list[str]:
    """The remaining `data:` payloads; fails if the stream is still going at `deadline`."""
    payloads = []
    for kind, value in events:
        if kind == "data":
            payloads.append(value)
        if time.monotonic() > deadline:
            pytest.fail(f"the stream was still running {len(payloads)} events after the signal: {payloads[-2:]}")
    return payloads


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_ends_active_stream_and_exits_0(start_bridge, uid: str, sig: int) -> None:
    grace = 2.0
    bridge = start_bridge(
        {"pipeline": {"shutdown_grace": "2s"}, "llm": {"simulated": {"tokens": 5000, "rate": 10}}}
    )
    with bridge.client(timeout=15.0) as client:
        with client.stream("POST", CHAT, json=chat_body(uid=uid, stream=True)) as response:
            assert response.status_code == 200
            events = iter_sse(response)
            payloads = read_until_content(events)
            signalled = time.monotonic()
            bridge.proc.signal(sig)
            assert_not_accepting(bridge)
            try:
                payloads += read_rest(events, deadline=signalled + grace + slack() + 1)
            except httpx.TransportError as error:
                pytest.fail(f"the stream was cut without a terminal event: {error!r}; got {payloads[-3:]}")
            stream_ended = time.monotonic() - signalled
    code = bridge.proc.wait(grace + slack() + 3)
    exited = time.monotonic() - signalled
    result = SSEResult(200, response.headers, payloads)
    error = assert_error_terminal(result, ("shutdown", "cancelled", "server_shutdown", "unavailable"))
    assert stream_ended <= grace + slack(), f"the stream ended {stream_ended:.2f}s after the signal ({error})"
    assert code == 0, f"exit code {code}"
    assert exited <= grace + slack(), f"the process exited {exited:.2f}s after the signal (grace {grace}s)"


def test_short_stream_finishes_or_ends_cleanly_within_grace(start_bridge, uid: str) -> None:
    bridge = start_bridge({"pipeline": {"shutdown_grace": "10s"}, "llm": {"simulated": {"tokens": 20, "rate": 20}}})
    with bridge.client(timeout=15.0) as client:
        expected = client.post(CHAT, json=chat_body(uid=uid + "-ref")).json()["choices"][0]["message"]["content"]
        with client.stream("POST", CHAT, json=chat_body(uid=uid, stream=True)) as response:
            events = iter_sse(response)
            payloads = read_until_content(events)
            signalled = time.monotonic()
            bridge.proc.signal(signal.SIGTERM)
            payloads += read_rest(events, deadline=signalled + 10 + slack())
            ended = time.monotonic()
    code = bridge.proc.wait(10 + slack())
    exited = time.monotonic()
    result = SSEResult(200, response.headers, payloads)
    if result.errors:
        assert_error_terminal(result, ("shutdown", "cancelled", "server_shutdown", "unavailable"))
    else:
        assert_clean_finish(result)
        assert result.content == expected, "a stream allowed to finish must be complete"
    assert code == 0
    assert ended - signalled <= 10 + slack()
    assert exited - ended <= slack(), f"the process lingered {exited - ended:.2f}s after its last stream ended"


def test_idle_bridge_exits_promptly(start_bridge) -> None:
    bridge = start_bridge({"pipeline": {"shutdown_grace": "10s"}})
    bridge.ping()
    started = time.monotonic()
    bridge.proc.signal(signal.SIGTERM)
    assert bridge.proc.wait(10) == 0
    assert time.monotonic() - started < scaled(3.0), "with nothing in flight the bridge need not wait for the grace period"


def test_non_streaming_request_in_flight_gets_an_answer(start_bridge, uid: str) -> None:
    bridge = start_bridge(
        {"pipeline": {"shutdown_grace": "1s"}, "llm": {"simulated": {"tokens": 5000, "rate": 10}}}
    )
    outcome: dict = {}

    def call() -> None:
        try:
            with bridge.client(timeout=15.0) as client:
                outcome["response"] = client.post(CHAT, json=chat_body(uid=uid))
        except Exception as error:  # noqa: BLE001 - reported below
            outcome["error"] = error

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    wait_until(lambda: bridge.health().get("checks", {}).get("pipeline", {}).get("active_streams") == 1,
               5.0, "the request to be in flight")
    bridge.proc.signal(signal.SIGTERM)
    thread.join(1 + slack() + scaled(3))
    assert not thread.is_alive(), "the in-flight request got no answer"
    assert "error" not in outcome, f"the in-flight request failed at the transport level: {outcome.get('error')!r}"
    error = assert_error_json(outcome["response"], 503)
    assert error["code"] in ("shutdown", "unavailable"), error
    assert bridge.proc.wait(slack() + 3) == 0
