#!/usr/bin/env bash
# Installs everything building and testing TokenBridge needs on Debian 12, idempotently:
# the apt packages (C libraries, pkg-config, python3-venv) and a Python venv at .venv with the
# interop test clients. Safe to run on every build: it does nothing when all is in place.
#
# Environment:
#   TB_SKIP_APT=1   do not touch apt (packages are managed elsewhere)
#   PYTHON=...      interpreter for the venv (default: Debian's /usr/bin/python3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# MARK: - What is needed
# One group per purpose; a later feature adds its own group here and to APT_PACKAGES, e.g.
# APT_BROKER=(rabbitmq-server) or APT_BROWSER=(chromium chromium-driver).
# git and ca-certificates: `swift build` clones the package dependencies over HTTPS.
APT_BUILD=(libwebsockets-dev librabbitmq-dev libcurl4-openssl-dev libjemalloc-dev pkg-config git ca-certificates)
APT_TEST=(python3-venv curl)
# The interop suite runs its own broker nodes (scripts/rabbitmq-local.sh); openssl makes their TLS certificates.
APT_BROKER=(rabbitmq-server openssl)
# Tests/Interop/test_web_browser.py drives the pages in web/ with a headless Chromium (selenium).
APT_BROWSER=(chromium chromium-driver)
APT_PACKAGES=("${APT_BUILD[@]}" "${APT_TEST[@]}" "${APT_BROKER[@]}" "${APT_BROWSER[@]}")

VENV=.venv
REQUIREMENTS=Tests/Interop/requirements.txt

log() { printf 'install-deps: %s\n' "$*" >&2; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

# MARK: - apt
missing_packages() {
    local pkg status
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || printf '%s\n' "$pkg"
    done
}

install_apt() {
    [[ "${TB_SKIP_APT:-0}" == 1 ]] && return 0
    command -v dpkg-query >/dev/null || die "dpkg-query not found: this script expects Debian 12"
    local missing
    mapfile -t missing < <(missing_packages "${APT_PACKAGES[@]}")
    ((${#missing[@]} == 0)) && return 0

    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
        sudo=(sudo)
    fi
    log "installing apt packages: ${missing[*]}"
    local out policy=/usr/sbin/policy-rc.d added_policy=0
    out=$(mktemp)
    # Installing rabbitmq-server would start a system broker on 5672 where the machine runs
    # services; the tests run their own nodes instead. policy-rc.d (exit 101) stops package
    # scripts from starting services, for this install only.
    if [[ ! -e $policy ]]; then
        "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy" && added_policy=1
    fi
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$out" 2>&1; then
        cat "$out" >&2; rm -f "$out"; die "apt-get update failed"
    fi
    local status=0
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$out" 2>&1 || status=$?
    if ((added_policy)); then "${sudo[@]}" rm -f "$policy"; fi
    if ((status != 0)); then
        cat "$out" >&2; rm -f "$out"; die "apt-get install failed for: ${missing[*]}"
    fi
    rm -f "$out"
}

# MARK: - Python venv
pick_python() {
    if [[ -n "${PYTHON:-}" ]]; then printf '%s\n' "$PYTHON"
    elif [[ -x /usr/bin/python3 ]]; then printf '%s\n' /usr/bin/python3
    elif command -v python3 >/dev/null; then command -v python3
    else die "python3 not found (apt-get install python3)"
    fi
}

install_venv() {
    local python stamp want
    python=$(pick_python)
    if [[ -d "$VENV" ]] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        log "recreating broken venv $VENV"
        rm -rf "$VENV"
    fi
    if [[ ! -d "$VENV" ]]; then
        log "creating venv $VENV with $python"
        "$python" -m venv "$VENV" || die "'$python -m venv' failed (is python3-venv installed?)"
    fi
    stamp="$VENV/.requirements.sha256"
    want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
    [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && return 0

    log "installing Python packages from $REQUIREMENTS"
    local out
    out=$(mktemp)
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS" >"$out" 2>&1; then
        cat "$out" >&2; rm -f "$out"; die "pip install failed (PyPI reachable?)"
    fi
    rm -f "$out"
    printf '%s\n' "$want" >"$stamp"
}

install_apt
install_venv
