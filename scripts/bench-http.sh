#!/usr/bin/env bash
# HTTP SSE streaming benchmark: the bridge vs. `tokenbridge mock-llm` directly, in the same run.
#
# Builds release, starts the mock (unlimited rate by default) and the bridge pointed at it on free
# ports, then for each concurrency runs `tokenbridge bench` straight against the mock and then
# through the bridge, and writes a markdown table to stdout and artifacts/bench-http.md (raw JSON
# reports and server logs next to it). Exits non-zero if any run lost tokens or had errors, or a server died.
#
# Environment: BENCH_LEVELS ("1 100 1000"), BENCH_TOKENS (100), BENCH_DURATION (10s),
# BENCH_RATE (the mock's tokens/s per stream; 0 = unlimited, the default), BENCH_OUT (report file;
# artifacts/bench-http.md), BENCH_SCRATCH (a --scratch-path for swift build; default .build),
# BENCH_PIN=1 (the bridge on CPU 0, the mock and the client on CPU 1, as in a deployment where the
# bridge does not share its cores with the model server and the clients).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

levels=${BENCH_LEVELS:-"1 100 1000"}
tokens=${BENCH_TOKENS:-100}
duration=${BENCH_DURATION:-10s}
rate=${BENCH_RATE:-0}
bridge_cpus=()
load_cpus=()
if [[ ${BENCH_PIN:-0} == 1 ]]; then bridge_cpus=(taskset -c 0); load_cpus=(taskset -c 1); fi
scratch=()
if [[ -n ${BENCH_SCRATCH:-} ]]; then scratch=(--scratch-path "$BENCH_SCRATCH"); fi
report=${BENCH_OUT:-artifacts/bench-http.md}
out_dir=$(dirname "$report")
mkdir -p "$out_dir"
say() { echo "bench-http: $*" >&2; }
source scripts/servers.sh
raise_open_files
say "open files limit $(ulimit -n)"

say "building (release)..."
swift build -c release "${scratch[@]}" >&2
bin="$(swift build -c release "${scratch[@]}" --show-bin-path)/tokenbridge"

mock_port=$(free_port)
"${load_cpus[@]}" "$bin" mock-llm --host 127.0.0.1 --port "$mock_port" --rate "$rate" --tokens "$tokens" --log-level warning \
    >"$out_dir/bench-http-mock.log" 2>&1 &
mock_pid=$!
pids+=("$mock_pid")
wait_ping "$mock_port" "$mock_pid" mock "$out_dir/bench-http-mock.log"

bridge_port=$(free_port)
OPENAI_URL="http://127.0.0.1:$mock_port/v1" TOKENBRIDGE_LLM_PROVIDER=openai LOG_LEVEL=warning \
    TOKENBRIDGE_SERVER_HOST=127.0.0.1 TOKENBRIDGE_PIPELINE_MAX_CONCURRENT_STREAMS=6000 \
    "${bridge_cpus[@]}" "$bin" serve --port "$bridge_port" >"$out_dir/bench-http-bridge.log" 2>&1 &
bridge_pid=$!
pids+=("$bridge_pid")
wait_ping "$bridge_port" "$bridge_pid" bridge "$out_dir/bench-http-bridge.log"
say "mock pid $mock_pid on :$mock_port, bridge pid $bridge_pid on :$bridge_port"

# CPU seconds the whole machine has been busy (every core, every process): user, nice, system, irq, softirq, steal.
machine_busy() { awk -v hz="$clock_ticks" '/^cpu / { printf "%.3f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat; }

failed=0
run_bench() {
    local name=$1 port=$2 pid=$3 level=$4 mock_cpu bridge_cpu busy
    say "$level streams, $name, $duration..."
    busy=$(machine_busy)
    mock_cpu=$(cpu_seconds "$mock_pid")
    bridge_cpu=$(cpu_seconds "$bridge_pid")
    # bench exits 1 when streams broke or lost tokens: record it, keep going, fail at the end.
    if ! "${load_cpus[@]}" "$bin" bench --url "http://127.0.0.1:$port/v1" --streams "$level" --tokens "$tokens" \
        --duration "$duration" --drain-timeout 15s --pid "$pid" --json >"$out_dir/bench-http-$level-$name.json"; then
        failed=1
        say "$level streams, $name: errors or lost tokens (see $out_dir/bench-http-$level-$name.json)"
    fi
    # The servers' CPU over the run, to explain the ratios on a machine they share with the client.
    printf '{"mock_cpu_seconds": %s, "bridge_cpu_seconds": %s, "machine_busy_seconds": %s}\n' \
        "$(cpu_since "$mock_pid" "$mock_cpu")" "$(cpu_since "$bridge_pid" "$bridge_cpu")" \
        "$(difference "$(machine_busy)" "$busy")" >"$out_dir/bench-http-$level-$name.cpu.json"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# A server that died makes every later number meaningless: say how it ended and stop.
check_alive() {
    local name pid status
    for name in mock bridge; do
        pid=$mock_pid
        if [[ $name == bridge ]]; then pid=$bridge_pid; fi
        if ! kill -0 "$pid" 2>/dev/null; then
            status=0
            wait "$pid" || status=$?
            say "the $name (pid $pid) died: exit status $status$( ((status > 128)) && echo " (signal $((status - 128)))")"
            say "its log: $out_dir/bench-http-$name.log"
            exit 1
        fi
    done
}

for level in $levels; do
    check_alive
    run_bench direct "$mock_port" "$mock_pid" "$level"
    check_alive
    run_bench bridge "$bridge_port" "$bridge_pid" "$level"
done
check_alive
if [[ -s $out_dir/bench-http-bridge.log ]]; then
    say "bridge log (warnings and errors):"
    tail -n 40 "$out_dir/bench-http-bridge.log" >&2
fi

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
BENCH_LEVELS="$levels" BENCH_TOKENS="$tokens" BENCH_DIR="$out_dir" BENCH_HEADER="$(
    echo "# HTTP SSE streaming: bridge vs. mock-llm directly"
    echo
    echo "- $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (uncommitted changes)')"
    echo "- machine: nproc $(nproc), CPU \"$cpu_model\"; load average before the runs: $load_before"
    if [[ ${BENCH_PIN:-0} == 1 ]]; then
    echo "- pinned: the bridge on CPU 0, the mock and the bench client on CPU 1"
    else
    echo "- the bench client, the mock and the bridge all share these $(nproc) cores (and anything else running),"
    echo "  so the bridge competes with its own load generator: read the ratios, not the absolute numbers"
    fi
    echo "- each cell: $duration of N concurrent streams of $tokens tokens (mock at $(if [[ $rate == 0 ]]; then echo "unlimited rate"; else echo "$rate tokens/s per stream"; fi)), a new stream"
    echo "  started as soon as one ends; TTFT = request start to first content delta, as the client sees it"
)" python3 - <<'EOF' | tee "$report"
import json, os

def load(level, name, suffix=""):
    with open(f"{os.environ['BENCH_DIR']}/bench-http-{level}-{name}{suffix}.json") as f:
        return json.load(f)

def cpu_ms_per_stream(level, name):
    """CPU of client, mock and bridge per completed stream (ms), and the cores other processes used."""
    r, c = load(level, name), load(level, name, ".cpu")
    n = max(1, r["completed"])
    client = (r["bench_cpu_percent"] or 0) * r["run_seconds"] / 100
    ours = client + c["mock_cpu_seconds"] + c["bridge_cpu_seconds"]
    others = max(0.0, c["machine_busy_seconds"] - ours) / r["run_seconds"]
    return [1000 * x / n for x in (client, c["mock_cpu_seconds"], c["bridge_cpu_seconds"])], others

def rate(value):
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"

def ttft(r, key):
    t = r["ttft_ms"]
    return t[key] if t else float("nan")

print(os.environ["BENCH_HEADER"])
print()
print("| concurrency | direct streams/s | bridge streams/s | ratio (tok/s) | direct tok/s | bridge tok/s "
      "| TTFT p50/p99 direct (ms) | TTFT p50/p99 bridge (ms) | added TTFT p50/p99 (ms) "
      "| errors direct/bridge | lost direct/bridge | bridge peak RSS |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for level in os.environ["BENCH_LEVELS"].split():
    d, b = load(level, "direct"), load(level, "bridge")
    # Tokens/s, not streams/s: it counts streams still running at the end of the window, so it does
    # not jump with how many happened to finish inside it (streams are long at a limited rate).
    ratio = b["tokens_per_second"] / d["tokens_per_second"] if d["tokens_per_second"] else float("nan")
    peak = (b.get("target") or {}).get("peak_rss_bytes")
    peak_text = f"{peak / 1048576:.1f} MB" if peak else "?"
    print(f"| {level} | {rate(d['streams_per_second'])} | {rate(b['streams_per_second'])} | {ratio:.0%} "
          f"| {d['tokens_per_second']:.0f} | {b['tokens_per_second']:.0f} "
          f"| {ttft(d, 'p50'):.2f} / {ttft(d, 'p99'):.2f} | {ttft(b, 'p50'):.2f} / {ttft(b, 'p99'):.2f} "
          f"| {ttft(b, 'p50') - ttft(d, 'p50'):+.2f} / {ttft(b, 'p99') - ttft(d, 'p99'):+.2f} "
          f"| {d['errors']} / {b['errors']} | {d['lost_tokens']} / {b['lost_tokens']} "
          f"| {peak_text} |")
print()
print("Added TTFT is the bridge's percentile minus the direct one. Bridge peak RSS is the process's")
print("VmHWM after that row (levels run in increasing order, so it is the peak up to that level).")
print()
print("CPU per completed stream (ms of CPU, whole run including the drain), and the cores that other")
print("processes on the machine used meanwhile (noise: the runs are only comparable when this is near 0):")
print()
print("| concurrency | direct: client / mock | bridge: client / mock / bridge | bridge CPU per token (us) | other processes, cores: direct / bridge |")
print("|---:|---:|---:|---:|---:|")
for level in os.environ["BENCH_LEVELS"].split():
    (dc, dm, _), dl = cpu_ms_per_stream(level, "direct")
    (bc, bm, bb), bl = cpu_ms_per_stream(level, "bridge")
    per_token = 1000 * bb / int(os.environ["BENCH_TOKENS"])
    print(f"| {level} | {dc:.2f} / {dm:.2f} | {bc:.2f} / {bm:.2f} / {bb:.2f} | {per_token:.1f} | {dl:.2f} / {bl:.2f} |")
print()
print("Incomplete streams, stalls, CPU and failure messages are in the JSON reports next to this file.")
EOF
exit "$failed"
