#!/usr/bin/env bash
# RabbitMQ benchmark: prompts from a queue to answer messages, through the bridge, beside what the
# broker carries without the bridge, in the same run on the same private broker node.
#
# Builds release, starts a RabbitMQ node (scripts/rabbitmq-local.sh) and the bridge with the
# simulated model at unlimited rate, then runs `tokenbridge bench --ingress amqp` four ways, each
# for BENCH_DURATION with BENCH_STREAMS prompts of BENCH_TOKENS tokens in flight:
#   broker-ceiling   raw publish with pipelined confirms into one queue, and a reader: the ceiling
#   reply-to         prompts with reply_to one queue (RPC style) through the bridge
#   queue-ceiling    the response_<uid> pattern without the bridge: a queue declared, read and
#                    deleted per answer, its messages published by the bench itself
#   response-queues  chatgpt-queue's pattern through the bridge: answers in response_<uid>
# Writes a markdown table to stdout and artifacts/bench-amqp.md (JSON reports beside it). Exits
# non-zero if any run lost, duplicated or reordered a token, or a process died.
#
# Environment: BENCH_STREAMS (100), BENCH_TOKENS (100), BENCH_DURATION (10s), BENCH_CONNECTIONS
# (connections the bench reads answers on, 8), BENCH_SCRATCH (a --scratch-path for swift build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

streams=${BENCH_STREAMS:-100}
tokens=${BENCH_TOKENS:-100}
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-8}
scratch=()
if [[ -n ${BENCH_SCRATCH:-} ]]; then scratch=(--scratch-path "$BENCH_SCRATCH"); fi
out_dir=artifacts
mkdir -p "$out_dir"
say() { echo "bench-amqp: $*" >&2; }

say "building (release)..."
swift build -c release "${scratch[@]}" >&2
bin="$(swift build -c release "${scratch[@]}" --show-bin-path)/tokenbridge"

node_dir=$(mktemp -d /tmp/tokenbridge-bench-rabbitmq.XXXXXX)
port=25799
bridge_pid=
cleanup() {
    if [[ -n $bridge_pid ]]; then kill "$bridge_pid" 2>/dev/null || true; wait "$bridge_pid" 2>/dev/null || true; fi
    scripts/rabbitmq-local.sh stop "$node_dir" || true
    rm -rf "$node_dir"
}
trap cleanup EXIT
say "starting a RabbitMQ node on port $port"
scripts/rabbitmq-local.sh start "$node_dir" "$port"
url="amqp://guest:guest@127.0.0.1:$port/"

bridge_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
config="$node_dir/bridge.yaml"
cat >"$config" <<YAML
server: {host: 127.0.0.1, port: $bridge_port}
llm: {provider: simulated, model: bench, simulated: {tokens: $tokens, rate: 0}}
log: {level: warning}
ingress: {rabbitmq: {enabled: true, url: "$url", queue: bench_prompts}}
YAML
"$bin" serve --config "$config" >"$out_dir/bench-amqp-bridge.log" 2>&1 &
bridge_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$bridge_port/health" 2>/dev/null | grep -q '"rabbitmq":{"status":"up"' && break
    kill -0 "$bridge_pid" 2>/dev/null || { say "the bridge exited:"; cat "$out_dir/bench-amqp-bridge.log" >&2; exit 1; }
    sleep 0.1
done

failed=0
run() {
    local mode=$1
    say "$mode, $duration..."
    local pid_args=()
    if [[ $mode == reply-to || $mode == response-queues ]]; then pid_args=(--pid "$bridge_pid"); fi
    if ! "$bin" bench --ingress amqp --amqp-url "$url" --queue bench_prompts --amqp-mode "$mode" --streams "$streams" \
        --tokens "$tokens" --duration "$duration" --amqp-connections "$connections" "${pid_args[@]}" --json --quiet \
        >"$out_dir/bench-amqp-$mode.json"; then
        failed=1
        say "$mode: failures or lost tokens (see $out_dir/bench-amqp-$mode.json)"
    fi
}
for mode in broker-ceiling reply-to queue-ceiling response-queues; do run "$mode"; done
kill -0 "$bridge_pid" 2>/dev/null || { say "the bridge died during the runs"; exit 1; }

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
BENCH_DIR="$out_dir" BENCH_HEADER="$(
    echo "# RabbitMQ: prompts from a queue to answer messages"
    echo
    echo "- $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (uncommitted changes)')"
    echo "- machine: nproc $(nproc), CPU \"$cpu_model\"; broker, bridge and bench share the cores"
    echo "- $streams prompts in flight, $tokens tokens each (simulated model, unlimited rate), persistent messages, $duration per row"
)" python3 - <<'PY' | tee "$out_dir/bench-amqp.md"
import json, os

def load(mode):
    with open(f"{os.environ['BENCH_DIR']}/bench-amqp-{mode}.json") as f:
        return json.load(f)

rows = {m: load(m) for m in ["broker-ceiling", "reply-to", "queue-ceiling", "response-queues"]}
print(os.environ["BENCH_HEADER"])
print()
print("| run | prompts/s | answer messages/s | of its ceiling | first token p50/p99 | lost/dup/out of order | bridge CPU | bridge peak RSS |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
ceilings = {"reply-to": "broker-ceiling", "response-queues": "queue-ceiling"}
for mode, r in rows.items():
    ceiling = rows.get(ceilings.get(mode, ""))
    ratio = f"{r['messages_per_second'] / ceiling['messages_per_second']:.0%}" if ceiling else "(ceiling)"
    first = r.get("first_token_ms")
    first_text = f"{first['p50']:.1f} / {first['p99']:.1f} ms" if first else "-"
    checks = f"{r['lost_tokens']} / {r['duplicates']} / {r['out_of_order']}" if mode != "broker-ceiling" else "-"
    cpu = f"{r['target_cpu_percent']:.0f}%" if r.get("target_cpu_percent") is not None else "-"
    rss = f"{r['target_peak_rss_bytes'] / 1048576:.1f} MB" if r.get("target_peak_rss_bytes") else "-"
    prompts = f"{r['prompts_per_second']:.0f}" if mode != "broker-ceiling" else "-"
    print(f"| {mode} | {prompts} | {r['messages_per_second']:.0f} | {ratio} | {first_text} | {checks} | {cpu} | {rss} |")
PY
exit "$failed"
