#!/usr/bin/env bash
# Finds jq or installs it; parse_flatten.sh and its tests need it.
# Never skips silently: if jq cannot be had, this exits 1 with the reason.
set -euo pipefail
if command -v jq >/dev/null 2>&1; then
    exit 0
fi
echo "ensure_jq: jq not found on PATH; installing it" >&2
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null
    fi
elif command -v brew >/dev/null 2>&1; then
    brew install jq
elif command -v dnf >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    dnf install -y -q jq
elif command -v apk >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apk add --quiet jq
fi
if ! command -v jq >/dev/null 2>&1; then
    echo "ensure_jq: could not install jq (no root, sudo or known package manager) - install jq 1.6 or later and rerun" >&2
    exit 1
fi
echo "ensure_jq: installed $(jq --version)" >&2
