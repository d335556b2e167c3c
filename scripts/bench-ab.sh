#!/usr/bin/env bash
# Before/after of one change: two tokenbridge binaries through the same load, alternating, in one
# session. On this noisy 2-core VM a single run of each differs by 5-10%; alternating A, B, A, B...
# against the same mock spreads the machine's drift over both.
#
# Usage: scripts/bench-ab.sh BIN_A BIN_B [ROUNDS]   (ROUNDS, default 3)
#   e.g. git worktree add /tmp/before HEAD~1 && (cd /tmp/before && swift build -c release)
#        scripts/bench-ab.sh /tmp/before/.build/release/tokenbridge .build/release/tokenbridge
#
# Starts `BIN_A mock-llm` (unlimited rate) once, then for each round a bridge from A and one from B
# in front of it, each driven by `BIN_A bench` for AB_DURATION at AB_STREAMS streams of AB_TOKENS tokens,
# and prints per run: streams/s, the bridge's and the mock's CPU per token (from /proc), TTFT
# p50/p99, lost tokens, errors, peak RSS and the share of that round's direct run (each round
# starts with one run straight against the mock); then a summary per build.
#
# Environment: AB_STREAMS (100), AB_TOKENS (100 per answer; 2 shows the per-answer cost), AB_DURATION (6s), AB_PIN=1 (bridge on CPU 0, mock and client on
# CPU 1), AB_ENV_A / AB_ENV_B (extra environment for that bridge, e.g. "MALLOC_CONF=...").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "bench-ab: $*" >&2; }
source scripts/servers.sh
raise_open_files

[[ $# -ge 2 ]] || { say "usage: scripts/bench-ab.sh BIN_A BIN_B [ROUNDS]"; exit 2; }
bin_a=$1 bin_b=$2 rounds=${3:-3}
for bin in "$bin_a" "$bin_b"; do [[ -x $bin ]] || { say "not an executable: $bin"; exit 2; }; done
streams=${AB_STREAMS:-100}
tokens=${AB_TOKENS:-100}
duration=${AB_DURATION:-6s}
bridge_cpus=() load_cpus=()
if [[ ${AB_PIN:-0} == 1 ]]; then bridge_cpus=(taskset -c 0); load_cpus=(taskset -c 1); fi
work=$(mktemp -d /tmp/tokenbridge-bench-ab.XXXXXX)
trap 'cleanup; rm -rf "$work"' EXIT


mock_port=$(free_port)
"${load_cpus[@]}" "$bin_a" mock-llm --host 127.0.0.1 --port "$mock_port" --rate 0 --tokens "$tokens" --log-level warning \
    >"$work/mock.log" 2>&1 &
mock_pid=$!
pids+=("$mock_pid")
wait_ping "$mock_port" "$mock_pid" mock "$work/mock.log"

# report LABEL JSON BRIDGE_CPU MOCK_CPU [DIRECT_JSON]: one line from a bench report and the CPU
# the run used; with DIRECT_JSON, its streams/s as a share of that direct run's. Each line is also
# kept in $work/summary.tsv for the summary at the end.
report() {
    python3 - "$@" "$work/summary.tsv" <<'PY'
import json, sys
label, path, bridge_cpu, mock_cpu = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
direct_path = sys.argv[5] if len(sys.argv) > 6 else None
summary = sys.argv[-1]
r = json.load(open(path))
tokens = max(1, r["completed"] * r["tokens"])
line = f"{label:>8}: {r['streams_per_second']:7.0f} streams/s"
share = None
if direct_path:
    direct = json.load(open(direct_path))["streams_per_second"]
    share = r["streams_per_second"] / direct if direct else 0
    line += f" ({100 * share:.0f}% of direct)"
if bridge_cpu >= 0:
    line += f", bridge {1e6 * bridge_cpu / tokens:.2f} us/token"
line += f", mock {1e6 * mock_cpu / tokens:.2f} us/token, TTFT p50/p99 {r['ttft_ms']['p50']:.1f}/{r['ttft_ms']['p99']:.1f} ms"
line += f", lost {r['lost_tokens']}, errors {r['errors']}"
if r.get("target"):
    line += f", peak RSS {r['target']['peak_rss_bytes'] / 1048576:.0f} MB"
print(line)
if bridge_cpu >= 0 and share is not None:
    with open(summary, "a") as out:
        out.write(f"{label[0]}\t{1e6 * bridge_cpu / tokens}\t{1e6 * mock_cpu / tokens}\t{share}\n")
PY
}

failed=0
bench() { # URL JSON [PID]
    local pid_args=()
    [[ -n ${3:-} ]] && pid_args=(--pid "$3")
    "${load_cpus[@]}" "$bin_a" bench --url "$1" --streams "$streams" --tokens "$tokens" --duration "$duration" \
        "${pid_args[@]}" --quiet --json >"$2" || failed=1
}

# A direct run at the start of every round: the machine drifts by more than a change moves, so
# each bridge run is set against the direct run next to it.
run_direct() { # LABEL
    local mock_before
    mock_before=$(cpu_seconds "$mock_pid")
    bench "http://127.0.0.1:$mock_port/v1" "$work/$1.json"
    report "$1" "$work/$1.json" -1 "$(cpu_since "$mock_pid" "$mock_before")"
}

run_bridge() { # LABEL BIN EXTRA_ENV DIRECT_LABEL
    local label=$1 bin=$2 extra=$3 direct=$4 port pid bridge_before mock_start
    port=$(free_port)
    # shellcheck disable=SC2086 # the extra environment is words on purpose
    env OPENAI_URL="http://127.0.0.1:$mock_port/v1" TOKENBRIDGE_LLM_PROVIDER=openai LOG_LEVEL=warning \
        TOKENBRIDGE_SERVER_HOST=127.0.0.1 TOKENBRIDGE_PIPELINE_MAX_CONCURRENT_STREAMS=6000 $extra \
        "${bridge_cpus[@]}" "$bin" serve --port "$port" >"$work/bridge-$label.log" 2>&1 &
    pid=$!
    wait_ping "$port" "$pid" "bridge $label" "$work/bridge-$label.log"
    bridge_before=$(cpu_seconds "$pid")
    mock_start=$(cpu_seconds "$mock_pid")
    bench "http://127.0.0.1:$port/v1" "$work/$label.json" "$pid"
    report "$label" "$work/$label.json" \
        "$(cpu_since "$pid" "$bridge_before")" "$(cpu_since "$mock_pid" "$mock_start")" "$work/$direct.json"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}

for round in $(seq "$rounds"); do
    run_direct "direct$round"
    run_bridge "A$round" "$bin_a" "${AB_ENV_A:-}" "direct$round"
    run_bridge "B$round" "$bin_b" "${AB_ENV_B:-}" "direct$round"
done

# Per build, over the rounds: the bridge's CPU per token, the same divided by the mock's in that
# run (steadier than either when the machine's speed drifts), and the share of the round's direct.
python3 - "$work/summary.tsv" <<'PY'
import sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    build, bridge, mock, share = line.split("\t")
    rows[build].append((float(bridge), float(mock), float(share)))
for build in sorted(rows):
    values = rows[build]
    ratios = sorted(b / m for b, m, _ in values if m > 0)
    bridge = sorted(b for b, _, _ in values)
    shares = sorted(s for _, _, s in values)
    print(f"{build}: bridge {bridge[0]:.2f}-{bridge[-1]:.2f} us/token, bridge/mock CPU median {ratios[len(ratios) // 2]:.3f}"
          f" ({ratios[0]:.3f}-{ratios[-1]:.3f}), {100 * shares[0]:.0f}-{100 * shares[-1]:.0f}% of direct")
PY
exit "$failed"
