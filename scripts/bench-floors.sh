#!/usr/bin/env bash
# What the least possible program achieves on this machine, beside the bridge in the same session:
# the floors under the performance targets. Two small C programs (scripts/floors/), built with cc:
#
# - fan-out: fanout-floor hands one 60-byte frame per round to FLOOR_SOCKETS (1000) loopback TCP
#   sockets, 50 rounds/s, from 1 and from 2 sender threads, to a reader that spins or sleeps; then
#   the bridge's own rows as scripts/bench-channels.sh runs them (`tokenbridge bench --egress ws`,
#   the simulated model in the bridge, one stream of 50 tokens/s to FLOOR_SOCKETS subscribers),
#   busy-polling and sleeping. Latency is from the round's start (the
#   token's hand-over) to the read.
# - HTTP: relay-floor copies bytes between each client and its own upstream connection and parses
#   nothing; a second one (--decode-encode) also unescapes each token's string and writes it out
#   again as a caller's frame, the least per-token work of a bridge that re-frames; `tokenbridge
#   bench` at FLOOR_STREAMS (100) streams of 100 tokens, the mock at unlimited rate, straight to the
#   mock, through each relay and through the bridge, alternating for
#   FLOOR_ROUNDS (3) rounds of FLOOR_DURATION (8s), with each server's CPU per token.
#
# Writes a markdown report to stdout and artifacts/bench-floors.md: per fan-out row the cost of a
# send() (wall and thread CPU), the time from a round's start to its last send, the latency
# percentiles and whether every frame arrived; per HTTP round each server's share of direct
# throughput, its CPU per token and TTFT p99. A run that failed is marked in its row. Exits
# non-zero if a run lost tokens or failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "bench-floors: $*" >&2; }
source scripts/servers.sh
raise_open_files

sockets=${FLOOR_SOCKETS:-1000}
streams=${FLOOR_STREAMS:-100}
rounds=${FLOOR_ROUNDS:-3}
duration=${FLOOR_DURATION:-8s}
work=$(mktemp -d /tmp/tokenbridge-bench-floors.XXXXXX)
trap 'cleanup; rm -rf "$work"' EXIT
mkdir -p artifacts
failed=0

say "building (release, and the C floors)..."
swift build -c release >&2
bin="$(swift build -c release --show-bin-path)/tokenbridge"
compiler=$(command -v cc || command -v gcc || command -v clang) || { say "no C compiler (cc, gcc or clang)"; exit 1; }
"$compiler" -O2 -Wall -o "$work/fanout-floor" scripts/floors/fanout-floor.c -lpthread
"$compiler" -O2 -Wall -o "$work/relay-floor" scripts/floors/relay-floor.c

# --- fan-out ---
fanout_rows=()
for senders in 1 2; do
    for busy in 1 0; do
        say "fan-out floor: $sockets sockets, $senders sender thread(s), reader $([[ $busy == 1 ]] && echo spinning || echo sleeping)"
        line=$("$work/fanout-floor" "$sockets" 250 20000 "$senders" "$busy") || failed=1
        fanout_rows+=("$line")
    done
done
sim_port=$(free_port)
env TOKENBRIDGE_LLM_PROVIDER=simulated LOG_LEVEL=warning TOKENBRIDGE_SERVER_HOST=127.0.0.1 \
    "$bin" serve --port "$sim_port" >"$work/bridge-simulated.log" 2>&1 &
sim_pid=$!
pids+=("$sim_pid")
wait_ping "$sim_port" "$sim_pid" "bridge (simulated model)" "$work/bridge-simulated.log"
for busy in 1 0; do
    flag=()
    [[ $busy == 1 ]] && flag=(--busy-poll)
    say "fan-out, the bridge: 1 stream x $sockets subscribers at 50 tokens/s$([[ $busy == 1 ]] && echo ", busy-polling")"
    "$bin" bench --egress ws --url "http://127.0.0.1:$sim_port/v1" --streams 1 --subscribers "$sockets" --rate 50 \
        --tokens 250 "${flag[@]}" --quiet --json >"$work/bridge-ws-$busy.json" || failed=1
done
kill "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true

# --- HTTP ---
mock_port=$(free_port)
"$bin" mock-llm --host 127.0.0.1 --port "$mock_port" --rate 0 --tokens 100 --log-level warning >"$work/mock.log" 2>&1 &
mock_pid=$!
pids+=("$mock_pid")
wait_ping "$mock_port" "$mock_pid" mock "$work/mock.log"
relay_port=$(free_port)
"$work/relay-floor" "$relay_port" "$mock_port" &
relay_pid=$!
pids+=("$relay_pid")
wait_ping "$relay_port" "$relay_pid" relay /dev/null
decoding_port=$(free_port)
"$work/relay-floor" "$decoding_port" "$mock_port" --decode-encode &
decoding_pid=$!
pids+=("$decoding_pid")
wait_ping "$decoding_port" "$decoding_pid" "decoding relay" /dev/null
bridge_port=$(free_port)
env OPENAI_URL="http://127.0.0.1:$mock_port/v1" TOKENBRIDGE_LLM_PROVIDER=openai LOG_LEVEL=warning \
    TOKENBRIDGE_SERVER_HOST=127.0.0.1 "$bin" serve --port "$bridge_port" >"$work/bridge.log" 2>&1 &
bridge_pid=$!
pids+=("$bridge_pid")
wait_ping "$bridge_port" "$bridge_pid" bridge "$work/bridge.log"

# http_run NAME PORT SERVER_PID ROUND: one bench run and the CPU its server and the mock used.
http_run() {
    local name=$1 port=$2 server=$3 round=$4 server_before mock_before
    server_before=$(cpu_seconds "$server")
    mock_before=$(cpu_seconds "$mock_pid")
    "$bin" bench --url "http://127.0.0.1:$port/v1" --streams "$streams" --tokens 100 --duration "$duration" \
        --quiet --json >"$work/http-$name-$round.json" || failed=1
    echo "$(cpu_since "$server" "$server_before") $(cpu_since "$mock_pid" "$mock_before")" >"$work/http-$name-$round.cpu"
}
for round in $(seq "$rounds"); do
    say "HTTP round $round of $rounds: direct, relay, decoding relay, bridge ($streams streams, $duration each)"
    http_run direct "$mock_port" "$mock_pid" "$round"
    http_run relay "$relay_port" "$relay_pid" "$round"
    http_run decoding "$decoding_port" "$decoding_pid" "$round"
    http_run bridge "$bridge_port" "$bridge_pid" "$round"
done

FLOOR_DIR=$work FLOOR_ROUNDS=$rounds FLOOR_SOCKETS=$sockets FLOOR_STREAMS=$streams \
    FLOOR_FANOUT="$(printf '%s\n' "${fanout_rows[@]}")" FLOOR_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    python3 - <<'PY' | tee artifacts/bench-floors.md || failed=1
import json, os
d = os.environ["FLOOR_DIR"]
sockets, streams, rounds = os.environ["FLOOR_SOCKETS"], os.environ["FLOOR_STREAMS"], int(os.environ["FLOOR_ROUNDS"])

def load(path):
    """A run's JSON report, or None when the run left none (it failed: the table says so)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

print("# Floors: the least possible program, beside the bridge")
print()
print(f"- commit {os.environ['FLOOR_COMMIT']}; {os.cpu_count()} cores; every process shares them, over loopback")
print()
print(f"Fan-out, one 60-byte frame to {sockets} loopback TCP sockets 50 times a second (latency: hand-over to read):")
print()
print("| sender | reader | one send(): wall / thread CPU | round start to last send | latency p50 / p99 / max | frames read |")
print("|---|---|---:|---:|---:|---:|")
for line in os.environ["FLOOR_FANOUT"].splitlines():
    try:
        f = dict(part.split("=") for part in line.split())
        who = "C, 1 thread" if f["senders"] == "1" else f"C, {f['senders']} threads"
        reader = "spinning" if f["busy"] == "1" else "sleeping"
        frames = "all" if f["frames"] == f["expected"] and f["short_sends"] == "0" else f"**{f['frames']} of {f['expected']}**"
        print(f"| {who} | {reader} | {float(f['send_us']):.2f} / {float(f['send_cpu_us']):.2f} µs | {f['span_ms']} ms "
              f"| {f['p50_ms']} / {f['p99_ms']} / {f['max_ms']} ms | {frames} |")
    except (KeyError, ValueError):
        print(f"| C | - | **failed**: {line or 'no output'} | | | |")
for busy, reader in [("1", "spinning (--busy-poll)"), ("0", "sleeping")]:
    r = load(f"{d}/bridge-ws-{busy}.json")
    p = (r or {}).get("latency_ms")
    if not p:
        print(f"| the bridge (lws, 1 thread) | {reader} | **failed** | | | |")
        continue
    cells = " / ".join(f"{p[k]:.2f}" for k in ("p50", "p99", "max"))
    frames = "all" if r["lost"] == 0 and r["duplicated"] == 0 and r["closed_by_server"] == 0 else \
        f"**lost {r['lost']}, duplicated {r['duplicated']}, closed {r['closed_by_server']}**"
    print(f"| the bridge (lws, 1 thread) | {reader} | - | - | {cells} ms | {frames} |")
print()
print(f"HTTP, {streams} streams of 100 tokens, the mock at unlimited rate, {rounds} alternating rounds:")
print()
print("| round | direct streams/s | relay streams/s (of direct) | decoding relay streams/s (of direct) | bridge streams/s (of direct) | relay / decoding relay / bridge CPU per token | TTFT p99 direct / relay / decoding relay / bridge | lost tokens + errors |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
servers = ("relay", "decoding", "bridge")
for n in range(1, rounds + 1):
    runs = {name: load(f"{d}/http-{name}-{n}.json") for name in ("direct",) + servers}
    if None in runs.values():
        print(f"| {n} | **failed**: {', '.join(k for k, v in runs.items() if v is None)} left no report | | | | | | |")
        continue
    cpu = {name: [float(x) for x in open(f"{d}/http-{name}-{n}.cpu").read().split()] for name in servers}
    def per_token(name):
        tokens = max(1, runs[name]["completed"] * runs[name]["tokens"])
        return 1e6 * cpu[name][0] / tokens
    direct = runs["direct"]["streams_per_second"]
    share = lambda name: f"{runs[name]['streams_per_second']:.0f} ({100 * runs[name]['streams_per_second'] / direct:.0f}%)"
    ttft = " / ".join(f"{runs[name]['ttft_ms']['p99']:.1f}" for name in ("direct",) + servers)
    lost = sum(r["lost_tokens"] + r["errors"] for r in runs.values())
    cpus = " / ".join(f"{per_token(name):.2f}" for name in servers)
    print(f"| {n} | {direct:.0f} | {share('relay')} | {share('decoding')} | {share('bridge')} | {cpus} µs | {ttft} ms | {lost} |")
PY
exit "$failed"
