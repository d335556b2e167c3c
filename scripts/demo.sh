#!/usr/bin/env bash
# The README's first command: installs dependencies, builds a release binary and runs the bridge
# with the simulated model (config/demo.yaml, port 8080). Extra arguments go to `tokenbridge serve`,
# e.g. `scripts/demo.sh --port 9000`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
command -v swift >/dev/null || { echo "demo.sh: error: swift not found on PATH (Swift 6.3 toolchain required)" >&2; exit 1; }
echo "demo.sh: building (release)..." >&2
swift build -c release
exec .build/release/tokenbridge serve --config config/demo.yaml "$@"
