#!/usr/bin/env bash
# Finds jq or installs it; parse_flatten.sh, its tests and the benchmark need it.
# Never skips silently: if jq cannot be had, this exits 1 with the reason.
#
# Order: jq already on PATH or in .venv/bin; the system package manager (with root or
# passwordless sudo); otherwise the official static jq 1.7.1 binary from GitHub, checked
# against the SHA-256 published with the release, into .venv/bin/ (no root needed;
# parse_flatten.sh and the Makefile look there).
set -euo pipefail
cd "$(dirname "$0")/.."
LOCAL_JQ=".venv/bin/jq"
if command -v jq >/dev/null 2>&1 || [ -x "$LOCAL_JQ" ]; then
    exit 0
fi
echo "ensure_jq: jq not found on PATH; installing it" >&2

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo "$@"
    else
        return 1
    fi
}

if command -v apt-get >/dev/null 2>&1; then
    as_root apt-get update -qq >/dev/null 2>&1 \
        && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null 2>&1 || true
elif command -v brew >/dev/null 2>&1; then
    brew install jq || true
elif command -v dnf >/dev/null 2>&1; then
    as_root dnf install -y -q jq || true
elif command -v apk >/dev/null 2>&1; then
    as_root apk add --quiet jq || true
fi
if command -v jq >/dev/null 2>&1; then
    echo "ensure_jq: installed $(jq --version)" >&2
    exit 0
fi

# The release's own sha256sum.txt values for jq 1.7.1.
case "$(uname -s)/$(uname -m)" in
    Linux/x86_64)            asset=jq-linux-amd64; sum=5942c9b0934e510ee61eb3e30273f1b3fe2590df93933a93d7c58b81d19c8ff5 ;;
    Linux/aarch64|Linux/arm64) asset=jq-linux-arm64; sum=4dd2d8a0661df0b22f1bb9a1f9830f06b6f3b8f7d91211a1ef5d7c4f06a8b4a5 ;;
    Darwin/x86_64)           asset=jq-macos-amd64; sum=4155822bbf5ea90f5c79cf254665975eb4274d426d0709770c21774de5407443 ;;
    Darwin/arm64)            asset=jq-macos-arm64; sum=0bbe619e663e0de2c550be2fe0d240d076799d6f8a652b70fa04aea8a8362e8a ;;
    *) echo "ensure_jq: could not install jq: no package manager with root, and no jq release binary for $(uname -s)/$(uname -m) - install jq 1.6 or later and rerun" >&2
       exit 1 ;;
esac
url="${JQ_DOWNLOAD_URL:-https://github.com/jqlang/jq/releases/download/jq-1.7.1/$asset}"   # overridable for a mirror
mkdir -p "$(dirname "$LOCAL_JQ")"
download="$LOCAL_JQ.download.$$"
trap 'rm -f "$download"' EXIT
if command -v curl >/dev/null 2>&1; then
    fetch=(curl -fsSL --retry 3 -o "$download" "$url")
elif command -v wget >/dev/null 2>&1; then
    fetch=(wget -q -O "$download" "$url")
else
    fetch=(python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$url" "$download")
fi
if ! "${fetch[@]}"; then
    echo "ensure_jq: could not install jq: no package manager with root, and downloading $url failed - install jq 1.6 or later and rerun" >&2
    exit 1
fi
if command -v sha256sum >/dev/null 2>&1; then
    got=$(sha256sum "$download" | cut -d' ' -f1)
else
    got=$(shasum -a 256 "$download" | cut -d' ' -f1)
fi
if [ "$got" != "$sum" ]; then
    echo "ensure_jq: the downloaded $asset has SHA-256 $got, not the published $sum - not installed" >&2
    exit 1
fi
chmod +x "$download"
mv "$download" "$LOCAL_JQ"
echo "ensure_jq: installed $("$LOCAL_JQ" --version) into $LOCAL_JQ" >&2
