"""How slow this machine runs right now, so the suite's time bounds stretch with it.

Every wait and every test here is bounded in seconds, and the bounds fit a normal 2-core host. A CI
runner that shares its CPUs can run several times slower for minutes at a time (a RabbitMQ node
that boots in 5 s took 30 s of wall time and 22 s of CPU on such a host); fixed bounds then fail
tests whose only fault is the host. So the suite times a fixed piece of Python work, compares it
with the time it takes on a normal host, and stretches its bounds by that factor:

- `scaled(seconds)` for a wait or an upper bound on wall time;
- the per-test timeout (conftest.py) is scaled the same way.

The factor is at least 1 (a fast host keeps every bound as written, so a slow bridge still fails
there) and at most MAX_SCALE. It is measured again when older than REMEASURE_AFTER seconds,
because a shared host's speed drifts within a run. TB_TEST_TIME_SCALE fixes it instead.
"""

from __future__ import annotations

import os
import threading
import time

# Seconds the probe takes on a normal host: the factor is the probe's time now over this. It is an
# estimate, not a measurement of a quiet host (none was to be had the day this was written): the probe
# took 109 ms in a spell when a plain Python loop ran ten times slower than usual here, so about 11 ms
# when fast; 15 ms leaves a margin, so a fast host reads 1. The report's header prints the probe.
REFERENCE_SECONDS = 0.015
MAX_SCALE = 10.0
REMEASURE_AFTER = 30.0
_PROBE_ROUNDS = 200_000

_lock = threading.Lock()
_measured_at = float("-inf")
_scale = 1.0
_history: list[float] = []  # every factor measured in this run, for the report


def _probe_seconds() -> float:
    """The best of three runs of a fixed mix of interpreter work (arithmetic, dict and str)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        table: dict[int, str] = {}
        total = 0
        for i in range(_PROBE_ROUNDS):
            total += i * 7 % 13
            if i % 64 == 0:
                table[i] = str(i)
        best = min(best, time.perf_counter() - started)
    return best


def _fixed_scale() -> float | None:
    text = os.environ.get("TB_TEST_TIME_SCALE")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SystemExit(f"TB_TEST_TIME_SCALE must be a number, got {text!r}") from None
    if not 1.0 <= value <= 100.0:
        raise SystemExit(f"TB_TEST_TIME_SCALE must be between 1 and 100, got {value}")
    return value


def time_scale() -> float:
    """How many times slower than a normal host this one runs now (1 to MAX_SCALE)."""
    global _measured_at, _scale
    fixed = _fixed_scale()
    if fixed is not None:
        return fixed
    with _lock:
        now = time.monotonic()
        if now - _measured_at >= REMEASURE_AFTER:
            _scale = min(MAX_SCALE, max(1.0, _probe_seconds() / REFERENCE_SECONDS))
            _measured_at = now
            _history.append(_scale)
        return _scale


def scaled(seconds: float) -> float:
    """`seconds` stretched by how slow the host runs now."""
    return seconds * time_scale()


def describe() -> str:
    """One line for the test report: the factors this run used."""
    fixed = _fixed_scale()
    if fixed is not None:
        return f"time scale {fixed:.2f} (TB_TEST_TIME_SCALE)"
    if not _history:
        time_scale()
    low, high = min(_history), max(_history)
    return (f"time scale {low:.2f} to {high:.2f} in {len(_history)} probes "
            f"(a speed probe that takes {REFERENCE_SECONDS * 1000:.0f} ms on a normal host)")
