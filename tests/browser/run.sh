#!/usr/bin/env bash
# Runs the headless-Chromium suite against s3twin.
#
#   S3TWIN_ENDPOINT=http://127.0.0.1:PORT tests/browser/run.sh
#
# Installs what it needs on first use: Debian's chromium (apt-get, as root) and the npm
# packages of package-lock.json. Without S3TWIN_ENDPOINT it starts target/release/s3twin on
# a free port (building it if missing) and stops it afterwards. The whole suite runs under a
# time budget (S3TWIN_BROWSER_BUDGET seconds, default 240). The dashboard test reads objects
# back with boto3, from the Python suite's virtualenv (created here when missing).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export CHROMIUM

if [ ! -x "$CHROMIUM" ]; then
    echo "browser suite: installing Debian's chromium"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

cd "$HERE"
STAMP="node_modules/.package-lock.sha256"
WANT="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    echo "$WANT" > "$STAMP"
fi

S3TWIN_PYTHON="$(bash "$ROOT/tests/clients/python/venv.sh")"
export S3TWIN_PYTHON

SERVER_PID=""
SERVER_LOG=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "$SERVER_LOG" ]; then rm -f "$SERVER_LOG"; fi
}
trap cleanup EXIT

if [ -z "${S3TWIN_ENDPOINT:-}" ]; then
    BIN="$ROOT/target/release/s3twin"
    if [ ! -x "$BIN" ]; then
        (cd "$ROOT" && cargo build --release --quiet)
    fi
    SERVER_LOG="$(mktemp)"
    "$BIN" --port 0 --host 127.0.0.1 >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 200); do
        URL="$(sed -n 's/^s3twin listening on \(http[^ ]*\).*/\1/p' "$SERVER_LOG" | head -n1)"
        [ -n "$URL" ] && break
        sleep 0.1
    done
    if [ -z "${URL:-}" ]; then
        echo "s3twin did not start:" >&2
        cat "$SERVER_LOG" >&2
        exit 1
    fi
    export S3TWIN_ENDPOINT="$URL"
fi

timeout --kill-after=10 "${S3TWIN_BROWSER_BUDGET:-240}" node --test --test-concurrency=1 browser.test.mjs dashboard.test.mjs
