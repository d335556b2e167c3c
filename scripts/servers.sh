# Sourced by the benchmark scripts that start their own servers: remembers what they started and
# stops it on exit, finds free ports, waits for a server to answer. The caller defines `say`.

pids=()

cleanup() {
    # Only the servers this script started, by pid.
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# Thousands of streams need thousands of sockets in the client, the bridge and the mock.
raise_open_files() {
    local hard
    hard=$(ulimit -Hn)
    if [[ $hard == unlimited || $hard -ge 65536 ]]; then ulimit -n 65536; else ulimit -n "$hard"; fi
}

# A port nobody listens on: a connect to it is refused. (Racy in theory; the servers fail loudly.)
# Picked below the kernel's ephemeral range: thousands of benchmark connections hold ports there,
# and a port one of them holds as its local end cannot be listened on.
free_port() {
    local port low
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    ((low > 12000)) || low=32768
    while :; do
        port=$((10000 + RANDOM % (low - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
}

# wait_ping PORT PID NAME LOG: polls /ping until it answers pong; fails (showing LOG) if the
# process died, or after 30 s.
wait_ping() {
    local port=$1 pid=$2 name=$3 log=$4 deadline=$((SECONDS + 30))
    until [[ $(curl -fsS --max-time 1 "http://127.0.0.1:$port/ping" 2>/dev/null) == pong ]]; do
        if ! kill -0 "$pid" 2>/dev/null; then say "$name exited:"; cat "$log" >&2; exit 1; fi
        if ((SECONDS > deadline)); then say "$name did not answer /ping within 30 s"; exit 1; fi
        sleep 0.05
    done
}

# CPU seconds (user + system) process PID has used so far, 0 once it is gone; its name has no
# spaces, so the fields of /proc/PID/stat count plainly.
clock_ticks=$(getconf CLK_TCK)
cpu_seconds() { [[ -r /proc/$1/stat ]] || { echo 0; return; }; awk -v hz="$clock_ticks" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
difference() { awk -v now="$1" -v then="$2" 'BEGIN { printf "%.3f", now - then }'; }
# cpu_since PID BEFORE: CPU seconds PID used since cpu_seconds said BEFORE.
cpu_since() { difference "$(cpu_seconds "$1")" "$2"; }
