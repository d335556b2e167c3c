#!/usr/bin/env bash
# The one command that runs every test (the README's test command; .ci/run calls it):
#   1. installs the apt packages and the Python test clients (scripts/install-deps.sh),
#   2. builds the package (debug) and runs every Swift test (the AMQP connection tests against a
#      private RabbitMQ node it starts, TB_RABBITMQ_URL),
#   3. runs the interop suite (Tests/Interop, pytest) against the built binary; it starts its own
#      RabbitMQ nodes.
# Exits non-zero if any step fails. Extra arguments go to pytest (e.g. `scripts/test.sh -k sdk -x`).
#
# Environment:
#   TOKENBRIDGE_BIN   binary for the interop suite (default .build/debug/tokenbridge)
#   TB_SKIP_SWIFT=1   skip `swift build` and `swift test` (interop suite only, existing binary)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { printf 'test.sh: error: %s\n' "$*" >&2; exit 1; }
banner() { printf '\n=== %s\n' "$*" >&2; }

FAILED=()

# Runs one step, bounded so a hang fails the run instead of eating the CI budget. The limits are
# about twice what a slow shared 2-core host needs (the interop suite's own bounds stretch with the
# host's speed, Tests/Interop/timing.py); a normal host needs under half of each. At the limit the
# step gets SIGINT first, so pytest still prints which tests failed, then SIGKILL a minute later.
# Returns non-zero on failure; the caller decides whether later steps still make sense.
run_step() {
    local limit=$1 name=$2; shift 2
    banner "$name"
    local started=$SECONDS rc=0
    timeout --foreground --signal=INT --kill-after=60s "$limit" "$@" || rc=$?
    if ((rc == 0)); then
        printf '=== %s: ok (%ds)\n' "$name" $((SECONDS - started)) >&2
        return 0
    fi
    if ((rc == 124 || rc == 137)); then
        printf '=== %s: TIMED OUT after %s\n' "$name" "$limit" >&2
    else
        printf '=== %s: FAILED (exit %d, %ds)\n' "$name" "$rc" $((SECONDS - started)) >&2
    fi
    FAILED+=("$name")
    return 1
}

finish() {
    if ((${#FAILED[@]})); then
        printf '\ntest.sh: FAILED: %s\n' "$(IFS=,; echo "${FAILED[*]}" | sed 's/,/, /g')" >&2
        exit 1
    fi
    printf '\ntest.sh: all tests passed\n' >&2
}

run_step 10m "install dependencies" scripts/install-deps.sh || finish

if [[ "${TB_SKIP_SWIFT:-0}" != 1 ]]; then
    command -v swift >/dev/null || die "swift not found on PATH (Swift 6.3 toolchain required)"
    run_step 20m "swift build" swift build || finish
    # A unit-test failure does not stop the interop suite: one run reports everything.
    run_step 20m "swift test" scripts/swift-test.sh || true
fi

export TOKENBRIDGE_BIN="${TOKENBRIDGE_BIN:-.build/debug/tokenbridge}"
[[ -x "$TOKENBRIDGE_BIN" ]] || die "no executable at $TOKENBRIDGE_BIN"
mkdir -p .build/test-results
# --tb=native: pytest's own traceback renderer re-parses test sources, and on Python 3.11 that
# once crashed the run ("AST constructor recursion depth mismatch"), skipping every test after it.
# --durations: the slowest tests in the log, to see where a slow run spent its time.
run_step 30m "interop tests (pytest)" .venv/bin/python -m pytest Tests/Interop -q --tb=native --durations=15 \
    --junitxml=.build/test-results/interop.xml "$@" || true
finish
