#!/usr/bin/env bash
# Runs the Node.js real-client suite (AWS SDK for JavaScript v3) against s3twin.
#
# With S3TWIN_ENDPOINT set, tests that server. Without it, starts
# target/release/s3twin on a free port (building it first if it is missing),
# and stops it again at the end. The HTTPS tests use S3TWIN_TLS_ENDPOINT and
# S3TWIN_TLS_CA, or a second server started with --tls on a temporary
# --tls-dir. Exits non-zero if anything fails.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
cd "$HERE"

if ! command -v node >/dev/null 2>&1; then
  echo "run.sh: node is not installed" >&2
  exit 1
fi

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

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
    url="$(grep -m1 -o "listening on $scheme://[^[:space:]]*" "$log" | sed 's/^listening on //' || true)"
    if [ -n "$url" ]; then
      echo "$url"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: s3twin exited before listening:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "run.sh: s3twin did not print its listening line within 20 s:" >&2
  cat "$log" >&2
  return 1
}

if [ -z "${S3TWIN_ENDPOINT:-}" ]; then
  BIN="$ROOT/target/release/s3twin"
  if [ ! -x "$BIN" ]; then
    echo "run.sh: building $BIN" >&2
    (cd "$ROOT" && cargo build --release)
  fi
  SERVER_LOG="$(mktemp)"
  "$BIN" --port 0 --host 127.0.0.1 >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  endpoint="$(wait_listening "$SERVER_PID" "$SERVER_LOG" http)"
  export S3TWIN_ENDPOINT="$endpoint"
fi

# A second server over HTTPS, its local CA in a temporary directory (tls.test.mjs).
if [ -z "${S3TWIN_TLS_ENDPOINT:-}" ]; then
  BIN="$ROOT/target/release/s3twin"
  if [ ! -x "$BIN" ]; then
    (cd "$ROOT" && cargo build --release)
  fi
  TLS_DIR="$(mktemp -d)"
  "$BIN" --port 0 --host 127.0.0.1 --tls --tls-dir "$TLS_DIR" >"$TLS_DIR/server.log" 2>&1 &
  TLS_PID=$!
  S3TWIN_TLS_ENDPOINT="$(wait_listening "$TLS_PID" "$TLS_DIR/server.log" https)"
  export S3TWIN_TLS_ENDPOINT
  export S3TWIN_TLS_CA="$TLS_DIR/ca.pem"
fi

# The suite configures its clients explicitly; keep ambient AWS settings that
# change what the SDK puts on the wire out of it.
unset AWS_REQUEST_CHECKSUM_CALCULATION AWS_RESPONSE_CHECKSUM_VALIDATION \
  AWS_USE_DUALSTACK_ENDPOINT AWS_USE_FIPS_ENDPOINT AWS_S3_DISABLE_MULTIREGION_ACCESS_POINTS
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

echo "run.sh: testing $S3TWIN_ENDPOINT with node $(node --version)" >&2

# Node 20's --test does not expand globs itself: the shell does.
shopt -s nullglob
files=(*.test.mjs)
if [ "${#files[@]}" -eq 0 ]; then
  echo "run.sh: no *.test.mjs files found" >&2
  exit 1
fi

status=0
node --test "${files[@]}" || status=$?

if [ "$status" -ne 0 ] && [ -n "$SERVER_LOG" ]; then
  echo "run.sh: tests failed; last lines of the server log:" >&2
  tail -n 40 "$SERVER_LOG" >&2 || true
fi
exit "$status"
