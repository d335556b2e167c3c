#!/usr/bin/env bash
# `swift test` with a private RabbitMQ node for the AMQP connection tests (TB_RABBITMQ_URL); the
# node is stopped however the tests end. Extra arguments go to `swift test` (e.g. --filter AMQPTests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A port pair (node, node + 20000 for Erlang distribution) nothing listens on.
free_node_port() {
    local port
    for port in $(seq 25700 25799); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null \
            && ! (exec 3<>"/dev/tcp/127.0.0.1/$((port + 20000))") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

dir=.build/test-rabbitmq
port=$(free_node_port) || { echo "swift-test: no free port for the test broker" >&2; exit 1; }
rm -rf "$dir"
trap 'scripts/rabbitmq-local.sh stop "$dir" || true' EXIT
trap 'exit 143' TERM INT
scripts/rabbitmq-local.sh start "$dir" "$port"
TB_RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$port/" swift test "$@"
