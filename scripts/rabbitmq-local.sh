#!/usr/bin/env bash
# A private RabbitMQ node for tests and benchmarks: started as root from Debian's rabbitmq-server
# package with everything (data, logs, Erlang cookie) in one directory, on a port of its own, so it
# never touches a system broker. Safe to start and stop repeatedly on the same directory (that is
# how a test simulates a broker outage).
#
#   scripts/rabbitmq-local.sh start DIR PORT [TLS_PORT CERT_DIR]   # returns once the node is ready
#   scripts/rabbitmq-local.sh stop DIR                              # returns once the node is gone
#   scripts/rabbitmq-local.sh ctl DIR ARGS...                       # rabbitmqctl against the node
#
# CERT_DIR must hold ca.pem, server.pem and server-key.pem; the node then also listens for
# amqps:// on TLS_PORT. The node name is tb-PORT@localhost, its distribution port PORT+20000.
# RABBITMQ_START_TIMEOUT (seconds, default 120) bounds the wait for the node to boot.
set -euo pipefail

die() { printf 'rabbitmq-local: error: %s\n' "$*" >&2; exit 1; }

node_env() {
    local dir=$1 port=$2
    export RABBITMQ_NODENAME="tb-$port@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT=$((port + 20000)) \
        RABBITMQ_BASE="$dir" RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
        RABBITMQ_PID_FILE="$dir/rabbit.pid" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
        RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" HOME="$dir" PATH="/usr/lib/rabbitmq/bin:$PATH"
}

start() {
    local dir=$1 port=$2 tls_port=${3:-} cert_dir=${4:-}
    [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || die "rabbitmq-server is not installed (scripts/install-deps.sh installs it)"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    echo "$port" >"$dir/port"
    node_env "$dir" "$port"
    echo '[].' >"$dir/enabled_plugins"
    {
        if [[ -n $tls_port ]]; then
            # Two loopback addresses: the certificate names only the first, so a client can be
            # shown a certificate that does not match the host it dialled.
            echo "listeners.ssl.1 = 127.0.0.1:$tls_port"
            echo "listeners.ssl.2 = 127.0.0.2:$tls_port"
            echo "ssl_options.cacertfile = $cert_dir/ca.pem"
            echo "ssl_options.certfile = $cert_dir/server.pem"
            echo "ssl_options.keyfile = $cert_dir/server-key.pem"
            echo "ssl_options.verify = verify_none"
            echo "ssl_options.fail_if_no_peer_cert = false"
        fi
        # Extra settings for this node (a test's consumer_timeout, say), one per line.
        if [[ -f "$dir/extra.conf" ]]; then cat "$dir/extra.conf"; fi
    } >"$dir/rabbitmq.conf"
    if [[ -f "$dir/rabbit.pid" ]] && kill -0 "$(cat "$dir/rabbit.pid")" 2>/dev/null; then
        die "a node already runs from $dir (pid $(cat "$dir/rabbit.pid"))"
    fi
    rabbitmq-server -detached >"$dir/start.log" 2>&1
    # `await_startup` right after -detached fails at once; `wait` on the pid file does not.
    if ! rabbitmqctl -n "$RABBITMQ_NODENAME" wait "$RABBITMQ_PID_FILE" --timeout "${RABBITMQ_START_TIMEOUT:-120}" \
        >>"$dir/start.log" 2>&1; then
        cat "$dir/start.log" >&2
        die "the node in $dir did not start (logs in $dir/log)"
    fi
}

stop() {
    local dir=$1
    [[ -f "$dir/rabbit.pid" ]] || return 0
    local pid
    pid=$(cat "$dir/rabbit.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$dir/rabbit.pid"; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/rabbit.pid"
}

ctl() {
    local dir=$1; shift
    node_env "$dir" "$(cat "$dir/port")"
    rabbitmqctl -n "$RABBITMQ_NODENAME" "$@"
}

command=${1:-}
shift || true
case $command in
    start) (($# >= 2)) || die "usage: start DIR PORT [TLS_PORT CERT_DIR]"; start "$@" ;;
    stop) (($# == 1)) || die "usage: stop DIR"; stop "$1" ;;
    ctl) (($# >= 2)) || die "usage: ctl DIR ARGS..."; ctl "$@" ;;
    *) die "usage: $0 start|stop|ctl ..." ;;
esac
