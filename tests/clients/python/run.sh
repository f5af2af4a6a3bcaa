#!/usr/bin/env bash
# Runs the s3twin Python real-client suite (boto3 + aws-cli v1).
#
#   S3TWIN_ENDPOINT=http://127.0.0.1:PORT tests/clients/python/run.sh [pytest args]
#
# Without S3TWIN_ENDPOINT it starts target/release/s3twin on a free port
# (building it first if the binary is missing) and stops it afterwards.
# Exits non-zero if any test fails.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="$HERE/.venv"

# --- virtualenv with pinned clients ----------------------------------------
bash "$HERE/venv.sh" >/dev/null

# --- server ----------------------------------------------------------------
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
    BIN="$ROOT/target/release/s3twin"
    if [ ! -x "$BIN" ]; then
        (cd "$ROOT" && cargo build --release --quiet)
    fi
    SERVER_LOG="$(mktemp)"
    "$BIN" --port 0 --host 127.0.0.1 >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    URL=""
    for _ in $(seq 1 200); do
        URL="$(grep -o 'listening on http://[^[:space:]]*' "$SERVER_LOG" | head -n1 | sed 's/^listening on //' || true)"
        if [ -n "$URL" ]; then
            break
        fi
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

# --- tests -----------------------------------------------------------------
ARGS=(-q -p no:cacheprovider)
WORKERS="${S3TWIN_PY_WORKERS:-4}"
if [ "$WORKERS" != "0" ] && "$VENV/bin/python" -c "import xdist" 2>/dev/null; then
    ARGS+=(-n "$WORKERS")
fi

cd "$ROOT"
set +e
"$VENV/bin/python" -m pytest "${ARGS[@]}" "$@" tests/clients/python
RC=$?
set -e
exit "$RC"
