#!/usr/bin/env bash
# Memory soak: SOAK_STREAMS (500) concurrent streams through the bridge for SOAK_DURATION (10m),
# the bridge's RSS sampled every SOAK_EVERY seconds (10). The bar (issue 7): RSS at the end within
# 10% of RSS at minute 1, i.e. memory levels off (the channel history and the stream journal are
# bounded by their budgets) instead of growing with the number of streams served.
#
# Builds release, starts `tokenbridge mock-llm` (unlimited rate, SOAK_TOKENS tokens) and the bridge
# in front of it on free ports, runs `tokenbridge bench`, writes artifacts/soak.md (the samples and
# the verdict) and artifacts/soak.json (the bench report). Exits non-zero if the bench lost tokens
# or had errors, a server died, or RSS grew by more than 10% after minute 1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

streams=${SOAK_STREAMS:-500}
duration=${SOAK_DURATION:-10m}
every=${SOAK_EVERY:-10}
tokens=${SOAK_TOKENS:-100}
mkdir -p artifacts
say() { echo "soak: $*" >&2; }
source scripts/servers.sh
raise_open_files
say "building (release)..."
swift build -c release >&2
bin="$(swift build -c release --show-bin-path)/tokenbridge"

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

mock_port=$(free_port)
"$bin" mock-llm --host 127.0.0.1 --port "$mock_port" --rate 0 --tokens "$tokens" --log-level warning >artifacts/soak-mock.log 2>&1 &
mock_pid=$!
pids+=("$mock_pid")
wait_ping "$mock_port" "$mock_pid" mock artifacts/soak-mock.log
bridge_port=$(free_port)
OPENAI_URL="http://127.0.0.1:$mock_port/v1" TOKENBRIDGE_LLM_PROVIDER=openai LOG_LEVEL=warning \
    TOKENBRIDGE_SERVER_HOST=127.0.0.1 TOKENBRIDGE_PIPELINE_MAX_CONCURRENT_STREAMS=$((streams * 2)) \
    "$bin" serve --port "$bridge_port" >artifacts/soak-bridge.log 2>&1 &
bridge_pid=$!
pids+=("$bridge_pid")
wait_ping "$bridge_port" "$bridge_pid" bridge artifacts/soak-bridge.log

say "$streams streams for $duration, bridge pid $bridge_pid..."
"$bin" bench --url "http://127.0.0.1:$bridge_port/v1" --streams "$streams" --tokens "$tokens" --duration "$duration" \
    --pid "$bridge_pid" --json --quiet >artifacts/soak.json &
bench_pid=$!
samples=()
started=$SECONDS
while kill -0 "$bench_pid" 2>/dev/null; do
    sleep "$every"
    kill -0 "$bridge_pid" 2>/dev/null || { say "the bridge died"; exit 1; }
    samples+=("$((SECONDS - started)) $(rss_kib "$bridge_pid")")
done
bench_ok=0
wait "$bench_pid" || bench_ok=1

python3 - "$streams" "$duration" "$bench_ok" "${samples[@]}" <<'PY' | tee artifacts/soak.md
import json, sys
streams, duration, bench_failed = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
samples = [tuple(int(x) for x in s.split()) for s in sys.argv[4:]]
report = json.load(open("artifacts/soak.json"))
minute1 = next((kib for t, kib in samples if t >= 60), samples[0][1] if samples else 0)
end = samples[-1][1] if samples else 0
growth = (end - minute1) / minute1 * 100 if minute1 else 0
print(f"# Soak: {streams} streams for {duration}")
print()
print(f"- completed {report['completed']} streams, {report['tokens_per_second']:.0f} tokens/s, "
      f"errors {report['errors']}, lost {report['lost_tokens']}, extra {report['extra_tokens']}")
print(f"- bridge RSS at minute 1: {minute1 / 1024:.1f} MB; at the end: {end / 1024:.1f} MB; growth {growth:+.1f}% (bar: within 10%)")
print()
print("| s | RSS MB |")
print("|---:|---:|")
for t, kib in samples:
    print(f"| {t} | {kib / 1024:.1f} |")
sys.exit(1 if bench_failed or growth > 10 else 0)
PY
