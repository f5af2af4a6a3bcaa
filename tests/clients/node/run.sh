#!/usr/bin/env bash
# Runs the Node.js real-client suite (AWS SDK for JavaScript v3) against s3twin.
#
# With S3TWIN_ENDPOINT set, tests that server. Without it, starts
# target/release/s3twin on a free port (building it first if it is missing),
# and stops it again at the end. Exits non-zero if anything fails.
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
    echo "run.sh: building $BIN" >&2
    (cd "$ROOT" && cargo build --release)
  fi
  SERVER_LOG="$(mktemp)"
  "$BIN" --port 0 --host 127.0.0.1 >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  endpoint=""
  for _ in $(seq 1 200); do
    endpoint="$(grep -m1 -o 'listening on http://[^[:space:]]*' "$SERVER_LOG" | sed 's/^listening on //' || true)"
    if [ -n "$endpoint" ]; then
      break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "run.sh: s3twin exited before listening:" >&2
      cat "$SERVER_LOG" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [ -z "$endpoint" ]; then
    echo "run.sh: s3twin did not print its listening line within 20 s:" >&2
    cat "$SERVER_LOG" >&2
    exit 1
  fi
  export S3TWIN_ENDPOINT="$endpoint"
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
