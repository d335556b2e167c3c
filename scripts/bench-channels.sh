#!/usr/bin/env bash
# Channel server benchmark: streams fanned out to WebSocket subscribers of the embedded
# Centrifugo-protocol server, and the memory an idle connection costs.
#
# Builds release and starts the bridge with the simulated model (stamping every token with its
# send time), then runs `tokenbridge bench --egress ws`:
#   fan-out     one stream to 1, 100, 1000 and 5000 subscribers, and 1000 streams with one each,
#               first as fast as the model goes (throughput), then at BENCH_RATE tokens/s per
#               stream (latency at a chat model's pace), then paced again with the subscribers'
#               thread busy-polling (--busy-poll: the client never sleeps, as if on another machine)
#   idle        on a fresh bridge each time, 2000 and then 10000 connections that connect and
#               subscribe and then sit still: the bridge's RSS growth per connection
# Writes a markdown table to stdout and artifacts/bench-channels.md (JSON reports beside it).
# Exits non-zero if a subscriber lost, duplicated or reordered a publication, was closed by the
# server, or the bridge died.
#
# Environment: BENCH_RATE (50), BENCH_TOKENS (tokens per stream at BENCH_RATE; 250), BENCH_BURST
# (tokens per stream at unlimited rate; 1000), BENCH_SCRATCH (a --scratch-path for swift build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rate=${BENCH_RATE:-50}
tokens=${BENCH_TOKENS:-250}
burst=${BENCH_BURST:-1000}
scratch=()
if [[ -n ${BENCH_SCRATCH:-} ]]; then scratch=(--scratch-path "$BENCH_SCRATCH"); fi
out_dir=artifacts
mkdir -p "$out_dir"
say() { echo "bench-channels: $*" >&2; }

# 10000 connections need 10000 descriptors in the bridge (the bench raises its own limit).
ulimit -n "$(ulimit -Hn)"
say "building (release)..."
swift build -c release "${scratch[@]}" >&2
bin="$(swift build -c release "${scratch[@]}" --show-bin-path)/tokenbridge"

work=$(mktemp -d /tmp/tokenbridge-bench-channels.XXXXXX)
bridge_pid=
stop_bridge() {
    if [[ -n $bridge_pid ]]; then kill "$bridge_pid" 2>/dev/null || true; wait "$bridge_pid" 2>/dev/null || true; fi
    bridge_pid=
}
cleanup() {
    stop_bridge
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/bridge.yaml" <<YAML
server: {host: 127.0.0.1, port: $port}
llm: {provider: simulated, model: bench}
log: {level: warning}
pipeline: {max_concurrent_streams: 2000}
channels: {max_connections: 20000}
YAML

start_bridge() {
    "$bin" serve --config "$work/bridge.yaml" >>"$out_dir/bench-channels-bridge.log" 2>&1 &
    bridge_pid=$!
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
        kill -0 "$bridge_pid" 2>/dev/null || break
        sleep 0.1
    done
    say "the bridge did not come up:"
    cat "$out_dir/bench-channels-bridge.log" >&2
    exit 1
}
: >"$out_dir/bench-channels-bridge.log"

failed=0
run() {
    local name=$1
    shift
    say "$name..."
    if ! "$bin" bench --egress ws --url "http://127.0.0.1:$port/v1" --pid "$bridge_pid" --json "$@" >"$out_dir/bench-channels-$name.json"; then
        failed=1
        say "$name: failed (see $out_dir/bench-channels-$name.json)"
    fi
    kill -0 "$bridge_pid" 2>/dev/null || { say "the bridge died during $name"; exit 1; }
}

for idle in 2000 10000; do
    start_bridge
    run "idle-$idle" --idle-connections "$idle"
    stop_bridge
done

start_bridge
for pace in burst paced busy; do
    case $pace in
    burst) args=(--tokens "$burst" --rate 0) ;;
    paced) args=(--tokens "$tokens" --rate "$rate") ;;
    busy) args=(--tokens "$tokens" --rate "$rate" --busy-poll) ;;
    esac
    for subscribers in 1 100 1000 5000; do run "$pace-1x$subscribers" --streams 1 --subscribers "$subscribers" "${args[@]}"; done
    run "$pace-1000x1" --streams 1000 --subscribers 1 "${args[@]}"
done

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
BENCH_DIR="$out_dir" BENCH_RATE="$rate" BENCH_HEADER="$(
    echo "# Channel server: fan-out to WebSocket subscribers"
    echo
    echo "- $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (uncommitted changes)')"
    echo "- machine: nproc $(nproc), CPU \"$cpu_model\"; bridge and bench share the cores, over loopback"
    echo "- burst: $burst tokens per stream as fast as the simulated model goes; paced: $tokens tokens at $rate tokens/s per stream"
    echo "- busy-polling client: the subscribers' thread spins instead of sleeping, so the bridge's sends do not pay for waking it"
    echo "- latency: from the model handing a token to the pipeline to its publication arriving at a subscriber"
)" python3 - <<'PY' | tee "$out_dir/bench-channels.md"
import json, os

def load(name):
    with open(f"{os.environ['BENCH_DIR']}/bench-channels-{name}.json") as f:
        return json.load(f)

print(os.environ["BENCH_HEADER"])
print()
print("| run | streams x subscribers | publications delivered/s | latency p50 / p99 / max | lost/dup/closed | bridge CPU | bridge RSS after |")
print("|---|---|---:|---:|---:|---:|---:|")
for pace in ["burst", "paced", "busy"]:
    for shape in ["1x1", "1x100", "1x1000", "1x5000", "1000x1"]:
        r = load(f"{pace}-{shape}")
        lat = r.get("latency_ms") or {}
        latency = f"{lat['p50']:.2f} / {lat['p99']:.2f} / {lat['max']:.2f} ms" if lat else "-"
        rate = {"burst": "unlimited", "paced": f"{os.environ['BENCH_RATE']} tok/s",
                "busy": f"{os.environ['BENCH_RATE']} tok/s, busy-polling client"}[pace]
        pace_name = "paced" if pace == "busy" else pace
        cpu = f"{r['bridge_cpu_seconds']:.2f} s" if r.get("bridge_cpu_seconds") is not None else "-"
        rss = f"{r['bridge_rss_bytes'] / 1048576:.0f} MB" if r.get("bridge_rss_bytes") else "-"
        checks = f"{r['lost']} / {r['duplicated']} / {r['closed_by_server']}"
        print(f"| {pace_name} ({rate}) | {shape.replace('x', ' x ')} | {r['delivered_per_second']:.0f} | {latency} | {checks} | {cpu} | {rss} |")
print()
print("| idle connections (fresh bridge) | bridge RSS growth per connection | bridge RSS |")
print("|---:|---:|---:|")
for idle in [2000, 10000]:
    r = load(f"idle-{idle}")
    print(f"| {idle} | {r['idle_bytes_per_connection'] / 1024:.2f} KiB | {r['bridge_rss_bytes'] / 1048576:.0f} MB |")
PY
exit "$failed"
