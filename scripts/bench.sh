#!/usr/bin/env bash
# The standard benchmark matrix, one script: HTTP SSE against the mock directly and through the
# bridge (scripts/bench-http.sh, at BENCH_LEVELS streams), channel fan-out to WebSocket subscribers
# and idle-connection memory (scripts/bench-channels.sh), RabbitMQ prompts and answers beside the
# broker's own ceiling (scripts/bench-amqp.sh), every egress at once (the `egress` part, below:
# each stream read on its SSE, by channel subscribers and from its response queue), and the floors
# (scripts/bench-floors.sh: the least possible program for fan-out and for HTTP, beside the
# bridge). Each part
# builds release, starts what it needs on free ports and stops it; their reports are joined into
# artifacts/bench.md with the machine described once at the top. Exits non-zero if any part
# reported lost, duplicated or reordered tokens, errors, or a process that died.
#
# Environment: BENCH_PARTS ("http channels amqp egress floors"), and each part's own variables (see the
# scripts; the egress part's are BENCH_EGRESS_STREAMS (100), BENCH_EGRESS_SUBSCRIBERS (2),
# BENCH_EGRESS_RATE (50 tokens/s per stream), BENCH_TOKENS (100), BENCH_DURATION (10s) and
# BENCH_SCRATCH, a --scratch-path for swift build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The egress part: `tokenbridge bench --spawn --egress all` (a mock-llm and a bridge on free ports)
# against a private RabbitMQ node, as a markdown table of one row per egress. A subshell, so its
# cleanup trap stops only its own node.
bench_egress() (
    streams=${BENCH_EGRESS_STREAMS:-100}
    subscribers=${BENCH_EGRESS_SUBSCRIBERS:-2}
    rate=${BENCH_EGRESS_RATE:-50}
    tokens=${BENCH_TOKENS:-100}
    duration=${BENCH_DURATION:-10s}
    scratch=()
    if [[ -n ${BENCH_SCRATCH:-} ]]; then scratch=(--scratch-path "$BENCH_SCRATCH"); fi
    say() { echo "bench-egress: $*" >&2; }
    say "building (release)..."
    swift build -c release "${scratch[@]}" >&2
    bin="$(swift build -c release "${scratch[@]}" --show-bin-path)/tokenbridge"
    # A node port and its distribution port (port + 20000) that nothing listens on.
    port=
    for candidate in $(seq 25700 25798); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null \
            && ! (exec 3<>"/dev/tcp/127.0.0.1/$((candidate + 20000))") 2>/dev/null; then port=$candidate; break; fi
    done
    [[ -n $port ]] || { say "no free port for a RabbitMQ node"; exit 1; }
    node_dir=$(mktemp -d /tmp/tokenbridge-bench-egress.XXXXXX)
    trap 'scripts/rabbitmq-local.sh stop "$node_dir" >&2 || true; rm -rf "$node_dir"' EXIT
    say "starting a RabbitMQ node on port $port"
    scripts/rabbitmq-local.sh start "$node_dir" "$port" >&2
    say "$streams streams x $subscribers subscribers, $tokens tokens at $rate tokens/s, $duration..."
    status=0
    "$bin" bench --spawn --egress all --streams "$streams" --subscribers "$subscribers" --tokens "$tokens" \
        --rate "$rate" --duration "$duration" --amqp-url "amqp://guest:guest@127.0.0.1:$port/" --queue bench_egress \
        --json >artifacts/bench-egress.json || status=$?
    BENCH_HEADER="- $streams concurrent streams of $tokens tokens at $rate tokens/s, each read at once on its SSE response, by $subscribers channel subscribers and from its response queue, for $duration (\`tokenbridge bench --spawn --egress all\`)" \
        python3 - <<'PY'
import json, os
r = json.load(open("artifacts/bench-egress.json"))
print(os.environ["BENCH_HEADER"])
print(f"- streams: {r['completed']} completed, {r['errors']} errors, {r['streams_per_second']:.1f}/s; bridge peak RSS "
      f"{(r.get('target') or {}).get('peak_rss_bytes', 0) / 1048576:.1f} MB, CPU {(r.get('target') or {}).get('cpu_percent') or 0:.0f}% of one core")
print()
print("| egress | readers | tokens delivered/s | TTFT p50 / p99 / p99.9 | per token p50 / p99 / p99.9 / max | lost / dup / out of order |")
print("|---|---:|---:|---:|---:|---:|")
ms = lambda p, keys: " / ".join(f"{p[k]:.2f}" for k in keys) + " ms" if p else "-"
for name in r["egresses"]:
    e = r["egress"][name]
    print(f"| {name} | {e['readers']} | {e['tokens_per_second']:.0f} | {ms(e['ttft_ms'], ['p50', 'p99', 'p999'])} "
          f"| {ms(e['token_latency_ms'], ['p50', 'p99', 'p999', 'max'])} "
          f"| {e['lost_tokens']} / {e['duplicated_tokens']} / {e['out_of_order_tokens']} |")
PY
    exit "$status"
)

parts=${BENCH_PARTS:-"http channels amqp egress floors"}
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
    runner="scripts/bench-$part.sh"
    if [[ $part == egress ]]; then
        runner=bench_egress
    elif [[ ! -x $runner ]]; then
        echo "bench: no $runner (BENCH_PARTS: http channels amqp egress floors)" >&2
        exit 2
    fi
    echo "bench: $part..." >&2
    if "$runner" >"artifacts/bench-$part.out"; then status=ok; else status=failed; failed+=("$part"); fi
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
