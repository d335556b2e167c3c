#!/usr/bin/env bash
# The standard benchmark matrix, one script: HTTP SSE against the mock directly and through the
# bridge (scripts/bench-http.sh, at BENCH_LEVELS streams), channel fan-out to WebSocket subscribers
# and idle-connection memory (scripts/bench-channels.sh), and RabbitMQ prompts and answers beside
# the broker's own ceiling (scripts/bench-amqp.sh). Each part builds release, starts what it needs
# on free ports and stops it; their reports are joined into artifacts/bench.md with the machine
# described once at the top. Exits non-zero if any part reported lost, duplicated or reordered
# tokens, errors, or a process that died.
#
# Environment: BENCH_PARTS ("http channels amqp"), and each part's own variables (see the scripts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

parts=${BENCH_PARTS:-"http channels amqp"}
out=artifacts/bench.md
mkdir -p artifacts
failed=()
{
    echo "# TokenBridge benchmarks"
    echo
    echo "- $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); every process shares it, over loopback"
    echo
} >"$out"
for part in $parts; do
    script="scripts/bench-$part.sh"
    [[ -x $script ]] || { echo "bench: no $script (BENCH_PARTS: http channels amqp)" >&2; exit 2; }
    echo "bench: $part..." >&2
    if "$script" >"artifacts/bench-$part.out"; then status=ok; else status=failed; failed+=("$part"); fi
    {
        echo "## $part ($status)"
        echo
        # Each part's own header names the machine again: keep its tables and notes.
        grep -v '^# ' "artifacts/bench-$part.out" | sed '/./,$!d'
        echo
    } >>"$out"
done
cat "$out"
if ((${#failed[@]})); then
    echo "bench: failed: ${failed[*]}" >&2
    exit 1
fi
