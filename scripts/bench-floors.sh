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
#   again as a caller's frame, the least per-token work of a bridge that re-frames; library-floor
#   does that same work on the bridge's own two libraries in the bridge's arrangement (lws serving
#   on one thread, libcurl's multi on another, a hand-off between them), and once more with both
#   libraries on one libev loop and thread (--one-thread). `tokenbridge bench` at FLOOR_STREAMS
#   (100) streams of 100 tokens, the mock at unlimited rate, straight to the mock, through each
#   floor and through the bridge, alternating for FLOOR_ROUNDS (3) rounds of FLOOR_DURATION (8s),
#   with each server's CPU per stream and per token. FLOOR_PIN=1 puts every server in the middle
#   on CPU 0 and the mock and the load on CPU 1; by default all share both cores.
#
# Writes a markdown report to stdout and artifacts/bench-floors.md: per fan-out row the cost of a
# send() (wall and thread CPU), the time from a round's start to its last send, the latency
# percentiles and whether every frame arrived; per HTTP round each server's share of direct
# throughput, its CPU per stream and per token, and TTFT p50/p99 against direct's. A run that failed is marked in its row. Exits
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
"$compiler" -O2 -Wall -o "$work/library-floor" scripts/floors/library-floor.c -lwebsockets -lcurl -lev -lpthread
middle_cpus=() load_cpus=()
if [[ ${FLOOR_PIN:-0} == 1 ]]; then middle_cpus=(taskset -c 0); load_cpus=(taskset -c 1); fi

parts=" ${FLOOR_PARTS:-fanout http} "
# --- fan-out ---
fanout_rows=()
if [[ $parts == *" fanout "* ]]; then
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
fi

# --- HTTP ---
if [[ $parts == *" http "* ]]; then
mock_port=$(free_port)
"${load_cpus[@]}" "$bin" mock-llm --host 127.0.0.1 --port "$mock_port" --rate 0 --tokens 100 --log-level warning \
    >"$work/mock.log" 2>&1 &
mock_pid=$!
pids+=("$mock_pid")
wait_ping "$mock_port" "$mock_pid" mock "$work/mock.log"
# start_middle NAME LABEL COMMAND...: one server in front of the mock, on the port it is given
# as its first argument (PORT in COMMAND), ready before this returns.
http_servers=()
start_middle() {
    local name=$1 label=$2 port
    shift 2
    port=$(free_port)
    local command=("${@//PORT/$port}")
    "${middle_cpus[@]}" "${command[@]}" >"$work/$name.log" 2>&1 &
    pids+=($!)
    eval "${name}_pid=$! ${name}_port=$port"
    http_servers+=("$name")
    wait_ping_post "$port" "$!" "$label" "$work/$name.log"
}
# The floors answer only the chat route, so readiness is one streamed request, not /ping.
wait_ping_post() {
    local port=$1 pid=$2 label=$3 log=$4
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || { say "$label exited at start"; cat "$log" >&2; exit 1; }
        curl -sf -m 5 -o /dev/null -X POST "http://127.0.0.1:$port/v1/chat/completions" -H 'content-type: application/json' \
            -d '{"model":"m","stream":true,"messages":[{"role":"user","content":"ready?"}]}' && return 0
        sleep 0.1
    done
    say "$label never answered on port $port"
    exit 1
}
start_middle relay "relay" "$work/relay-floor" PORT "$mock_port"
start_middle decoding "decoding relay" "$work/relay-floor" PORT "$mock_port" --decode-encode
start_middle library "library floor" "$work/library-floor" PORT "$mock_port"
start_middle onethread "library floor, one thread" "$work/library-floor" PORT "$mock_port" --one-thread
start_middle bridge "bridge" env OPENAI_URL="http://127.0.0.1:$mock_port/v1" TOKENBRIDGE_LLM_PROVIDER=openai \
    LOG_LEVEL=warning TOKENBRIDGE_SERVER_HOST=127.0.0.1 "$bin" serve --port PORT

# http_run NAME PORT SERVER_PID ROUND: one bench run and the CPU its server and the mock used.
http_run() {
    local name=$1 port=$2 server=$3 round=$4 server_before mock_before
    server_before=$(cpu_seconds "$server")
    mock_before=$(cpu_seconds "$mock_pid")
    "${load_cpus[@]}" "$bin" bench --url "http://127.0.0.1:$port/v1" --streams "$streams" --tokens 100 --duration "$duration" \
        --quiet --json >"$work/http-$name-$round.json" || failed=1
    echo "$(cpu_since "$server" "$server_before") $(cpu_since "$mock_pid" "$mock_before")" >"$work/http-$name-$round.cpu"
}
for round in $(seq "$rounds"); do
    say "HTTP round $round of $rounds: direct, ${http_servers[*]} ($streams streams, $duration each)"
    http_run direct "$mock_port" "$mock_pid" "$round"
    for name in "${http_servers[@]}"; do
        port_var=${name}_port pid_var=${name}_pid
        http_run "$name" "${!port_var}" "${!pid_var}" "$round"
    done
done
fi

FLOOR_DIR=$work FLOOR_ROUNDS=$rounds FLOOR_SOCKETS=$sockets FLOOR_STREAMS=$streams FLOOR_PINNED=${FLOOR_PIN:-0} \
    FLOOR_PARTS="$parts" FLOOR_FANOUT="$(printf '%s\n' "${fanout_rows[@]}")" FLOOR_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
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

def fanout():
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


def http():
    pinned = os.environ["FLOOR_PINNED"] == "1"
    where = "the server in the middle on CPU 0, the mock and the load on CPU 1" if pinned else "every process on both cores"
    print(f"HTTP, {streams} streams of 100 tokens, the mock at unlimited rate, {rounds} alternating rounds, {where}:")
    print()
    print("| round | server | streams/s (of direct) | CPU per stream | CPU per token | TTFT p50 / p99 (added) | lost tokens + errors |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    servers = [("relay", "relay (copies bytes)"), ("decoding", "decoding relay"), ("library", "library floor (lws + libcurl, 2 threads)"),
               ("onethread", "library floor, 1 thread"), ("bridge", "the bridge")]
    for n in range(1, rounds + 1):
        direct = load(f"{d}/http-direct-{n}.json")
        if direct is None:
            print(f"| {n} | direct | **failed**: no report | | | | |")
            continue
        rate = direct["streams_per_second"]
        dt = direct["ttft_ms"]
        print(f"| {n} | direct | {rate:.0f} | | | {dt['p50']:.1f} / {dt['p99']:.1f} ms | {direct['lost_tokens'] + direct['errors']} |")
        for name, label in servers:
            r = load(f"{d}/http-{name}-{n}.json")
            if r is None:
                print(f"| {n} | {label} | **failed**: no report | | | | |")
                continue
            cpu = float(open(f"{d}/http-{name}-{n}.cpu").read().split()[0])
            completed = max(1, r["completed"])
            t = r["ttft_ms"]
            share = 100 * r["streams_per_second"] / rate if rate else 0
            print(f"| {n} | {label} | {r['streams_per_second']:.0f} ({share:.0f}%) | {1e3 * cpu / completed:.3f} ms "
                  f"| {1e6 * cpu / (completed * r['tokens']):.2f} µs | {t['p50']:.1f} / {t['p99']:.1f} ms "
                  f"({t['p50'] - dt['p50']:+.1f} / {t['p99'] - dt['p99']:+.1f}) | {r['lost_tokens'] + r['errors']} |")


print("# Floors: the least possible program, beside the bridge")
print()
print(f"- commit {os.environ['FLOOR_COMMIT']}; {os.cpu_count()} cores, over loopback")
print()
parts = os.environ["FLOOR_PARTS"].split()
if "fanout" in parts:
    fanout()
if "http" in parts:
    http()
PY
exit "$failed"
