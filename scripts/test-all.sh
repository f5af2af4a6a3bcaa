#!/usr/bin/env bash
# Runs every test suite: Rust unit tests and the aws-sdk-s3 suite (cargo test), then the
# boto3 / aws-cli, @aws-sdk/client-s3, MCP and headless-Chromium suites against the release
# binary, and the npm and Python packages' acceptance tests. Installs what the client suites
# need (a Python venv, npm packages, Debian's chromium) on first use.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
record() { # name, exit code
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "== $1: ok"; else failed=$((failed + 1)); echo "== $1: FAILED ($2)"; fi
}

echo "== building the release binary"
cargo build --release --locked || { echo "suites: 0 passed, 1 failed"; exit 1; }

echo "== cargo test (unit + aws-sdk-s3 integration)"
cargo test --locked
record "cargo test" $?

# --data-dir under SIGKILL: concurrent PUTs and multipart uploads killed at a random moment,
# restarted, every acknowledged object checked; 20 rounds, 90 s at most (the seed is printed).
timeout 120 python3 tests/crash/crash_test.py --rounds 20 --seed "${S3TWIN_CRASH_SEED:-$RANDOM}" --budget 90
record "crash test (--data-dir, kill -9)" $?

log=$(mktemp)
./target/release/s3twin --port 0 >"$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 200); do
  endpoint=$(sed -n 's/^s3twin listening on \(http[^ ]*\).*/\1/p' "$log" | head -n 1)
  [ -n "$endpoint" ] && break
  sleep 0.05
done
if [ -z "${endpoint:-}" ]; then
  echo "server did not start:"; cat "$log"
  echo "suites: $passed passed, $((failed + 1)) failed"; exit 1
fi
export S3TWIN_ENDPOINT="$endpoint"
echo "== client suites against $S3TWIN_ENDPOINT"

bash tests/clients/python/run.sh
record "boto3 + aws-cli" $?
bash tests/clients/node/run.sh
record "@aws-sdk/client-s3" $?
# Headless Chromium (installs Debian's chromium on first use); a time budget of its own.
S3TWIN_BROWSER_BUDGET="${S3TWIN_BROWSER_BUDGET:-240}" bash tests/browser/run.sh
record "headless Chromium" $?
# MCP: the Python MCP SDK over stdio (`s3twin mcp`) and streamable HTTP; 5 minutes at most.
S3TWIN_BIN="$PWD/target/release/s3twin" timeout 300 bash tests/clients/mcp/run.sh
record "MCP (stdio + streamable HTTP)" $?
# The npm and Python packages, installed fresh from their tarballs and wheel; 5 minutes at most.
timeout 300 bash packages/test.sh
record "npm + Python packages" $?

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "== the server died during the client suites:"; cat "$log"
  failed=$((failed + 1))
fi
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
