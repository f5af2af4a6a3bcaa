#!/usr/bin/env bash
# Runs the s3twin MCP suite: the Python MCP SDK over stdio (`s3twin mcp`) and streamable HTTP
# (`/_s3twin/mcp`), checked with boto3.
#
#   S3TWIN_ENDPOINT=http://127.0.0.1:PORT tests/clients/mcp/run.sh [pytest args]
#
# S3TWIN_BIN names the binary (default target/release/s3twin, built if missing). Without
# S3TWIN_ENDPOINT it starts that binary on a free port and stops it afterwards.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3}"

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
STAMP="$VENV/.requirements.sha256"
WANT="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    "$VENV/bin/python" -m pip install -q -r "$HERE/requirements.txt"
    echo "$WANT" > "$STAMP"
fi

export S3TWIN_BIN="${S3TWIN_BIN:-$ROOT/target/release/s3twin}"
if [ ! -x "$S3TWIN_BIN" ]; then
    (cd "$ROOT" && cargo build --release --quiet)
fi

SERVER_PID=""
SERVER_LOG=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "$SERVER_LOG" ]; then
        rm -f "$SERVER_LOG"
    fi
}
trap cleanup EXIT

if [ -z "${S3TWIN_ENDPOINT:-}" ]; then
    SERVER_LOG="$(mktemp)"
    "$S3TWIN_BIN" --port 0 --host 127.0.0.1 >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    URL=""
    for _ in $(seq 1 200); do
        URL="$(grep -o 'listening on http://[^[:space:]]*' "$SERVER_LOG" | head -n1 | sed 's/^listening on //' || true)"
        [ -n "$URL" ] && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "s3twin exited before listening:" >&2
            cat "$SERVER_LOG" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [ -z "$URL" ]; then
        echo "s3twin did not report its address within 20s:" >&2
        cat "$SERVER_LOG" >&2
        exit 1
    fi
    export S3TWIN_ENDPOINT="$URL"
fi

cd "$ROOT"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@" tests/clients/mcp
