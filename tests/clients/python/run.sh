#!/usr/bin/env bash
# Runs the s3twin Python real-client suite (boto3 + aws-cli v1).
#
#   S3TWIN_ENDPOINT=http://127.0.0.1:PORT tests/clients/python/run.sh [pytest args]
#
# Without S3TWIN_ENDPOINT it starts target/release/s3twin on a free port
# (building it first if the binary is missing) and stops it afterwards. The
# HTTPS tests use S3TWIN_TLS_ENDPOINT and S3TWIN_TLS_CA, or a second server
# it starts with --tls on a temporary --tls-dir.
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
TLS_PID=""
TLS_DIR=""
cleanup() {
    for pid in "$SERVER_PID" "$TLS_PID"; do
        if [ -n "$pid" ]; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [ -n "$SERVER_LOG" ]; then
        rm -f "$SERVER_LOG"
    fi
    if [ -n "$TLS_DIR" ]; then
        rm -rf "$TLS_DIR"
    fi
}
trap cleanup EXIT

# Prints the URL of the server PID once LOG has its "listening on SCHEME://" line.
wait_listening() {
    local pid="$1" log="$2" scheme="$3" url=""
    for _ in $(seq 1 200); do
        url="$(grep -o "listening on $scheme://[^[:space:]]*" "$log" | head -n1 | sed 's/^listening on //' || true)"
        if [ -n "$url" ]; then
            echo "$url"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "s3twin exited before listening:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "s3twin did not report its address within 20s:" >&2
    cat "$log" >&2
    return 1
}

if [ -z "${S3TWIN_ENDPOINT:-}" ]; then
    BIN="$ROOT/target/release/s3twin"
    if [ ! -x "$BIN" ]; then
        (cd "$ROOT" && cargo build --release --quiet)
    fi
    SERVER_LOG="$(mktemp)"
    "$BIN" --port 0 --host 127.0.0.1 >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    URL="$(wait_listening "$SERVER_PID" "$SERVER_LOG" http)"
    export S3TWIN_ENDPOINT="$URL"
fi

# --- a second server over HTTPS, its local CA in a temporary directory -----
if [ -z "${S3TWIN_TLS_ENDPOINT:-}" ]; then
    BIN="$ROOT/target/release/s3twin"
    if [ ! -x "$BIN" ]; then
        (cd "$ROOT" && cargo build --release --quiet)
    fi
    TLS_DIR="$(mktemp -d)"
    "$BIN" --port 0 --host 127.0.0.1 --tls --tls-dir "$TLS_DIR" >"$TLS_DIR/server.log" 2>&1 &
    TLS_PID=$!
    URL="$(wait_listening "$TLS_PID" "$TLS_DIR/server.log" https)"
    export S3TWIN_TLS_ENDPOINT="$URL"
    export S3TWIN_TLS_CA="$TLS_DIR/ca.pem"
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
