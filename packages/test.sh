#!/usr/bin/env bash
# Acceptance tests of the npm and Python packages, each installed fresh from what it ships:
#
#  - npm: pack the platform package (from target/release/s3twin) and s3twin, install both
#    tarballs into a new temporary project (with @aws-sdk/client-s3 at the version the Node
#    suite pins), run packages/npm/test/*.test.mjs with node:test, two files at a time;
#  - Python: build the wheel with maturin (it reuses cargo's release build), pip install it
#    into a new virtualenv, check `s3twin --version` from PATH, run the sample pytest suite with
#    pytest-xdist -n 2.
#
# Needs target/release/s3twin (cargo build --release). Exits non-zero if anything fails.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BIN="$ROOT/target/release/s3twin"
[ -x "$BIN" ] || { echo "test.sh: $BIN is missing: cargo build --release first" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# Ambient AWS settings would change what the clients do; the packages configure their own.
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
  S3TWIN_BINARY S3TWIN_ALLOW_PRODUCTION

fail() { echo "test.sh: $*" >&2; exit 1; }
# No s3twin started from $1 may be left running.
no_leftovers() {
  sleep 0.2
  if pgrep -f "$1" >/dev/null; then
    pgrep -af "$1" >&2
    fail "s3twin processes outlived their $2 process"
  fi
}

# --- npm ---------------------------------------------------------------------------------------
echo "== npm: packing"
bash "$HERE/npm/pack.sh" "$WORK/dist" >/dev/null
SDK_VERSION="$(node -p 'require(process.argv[1]).packages["node_modules/@aws-sdk/client-s3"].version' \
  "$ROOT/tests/clients/node/package-lock.json")"
mkdir "$WORK/npm"
cd "$WORK/npm"
echo '{"name":"s3twin-acceptance","version":"0.0.0","private":true,"type":"module"}' >package.json
echo "== npm: installing the tarballs and @aws-sdk/client-s3@$SDK_VERSION"
npm install --no-audit --no-fund --prefer-offline --loglevel=error \
  "$WORK"/dist/*.tgz "@aws-sdk/client-s3@$SDK_VERSION"
[ -x node_modules/@s3twin/*/bin/s3twin ] || fail "the platform package did not install its binary"
cp "$HERE"/npm/test/*.test.mjs .
echo "== npm: node --test"
shopt -s extglob
node --test --test-concurrency=2 ./!(parallel-*).test.mjs
echo "== npm: two test files in parallel"
S3TWIN_PARALLEL_LOG="$WORK/parallel.log" node --test --test-concurrency=2 ./parallel-a.test.mjs ./parallel-b.test.mjs
no_leftovers "$WORK/npm/node_modules" Node
# parallel-a and parallel-b: overlapping in time, on two servers.
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" ").map(Number));
  if (lines.length !== 2) throw new Error("expected 2 parallel entries, got " + lines.length);
  const [[s1, e1, p1], [s2, e2, p2]] = lines;
  if (!(s1 < e2 && s2 < e1)) throw new Error("the two parallel files did not overlap in time");
  if (p1 === p2) throw new Error("the two parallel files shared a server process");
  console.log("== npm: parallel files overlapped, servers " + p1 + " and " + p2);
' "$WORK/parallel.log"

# --- Python ------------------------------------------------------------------------------------
PY="${PYTHON:-python3}"
BUILD_VENV="$HERE/python/.venv-build"
if [ ! -x "$BUILD_VENV/bin/maturin" ] ||
  ! cmp -s "$HERE/python/build-requirements.txt" "$BUILD_VENV/.requirements"; then
  "$PY" -m venv "$BUILD_VENV"
  "$BUILD_VENV/bin/pip" install -q -r "$HERE/python/build-requirements.txt"
  cp "$HERE/python/build-requirements.txt" "$BUILD_VENV/.requirements"
fi
echo "== Python: maturin build (reusing target/release)"
(cd "$HERE/python" && "$BUILD_VENV/bin/maturin" build --release --locked --quiet --out "$WORK/wheels")
WHEEL="$(ls "$WORK"/wheels/s3twin-*.whl)"
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q "$WHEEL" -r "$HERE/python/sample_tests/requirements.txt"
echo "== Python: s3twin --version from PATH"
got="$(PATH="$WORK/venv/bin:$PATH" s3twin --version)"
want="s3twin $(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1)"
[ "$got" = "$want" ] || fail "s3twin --version printed '$got', not '$want'"
[ "$(PATH="$WORK/venv/bin:$PATH" command -v s3twin)" = "$WORK/venv/bin/s3twin" ] ||
  fail "s3twin on PATH is not the wheel's"
echo "== Python: pytest -n 2 (sample suite)"
cd "$HERE/python/sample_tests"
S3TWIN_WORKER_LOG="$WORK/workers.log" "$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider -n 2 .
no_leftovers "$WORK/venv" Python
workers="$(sort -u "$WORK/workers.log" | wc -l)"
servers="$(cut -d' ' -f2 "$WORK/workers.log" | sort -u | wc -l)"
[ "$workers" -eq 2 ] && [ "$servers" -eq 2 ] ||
  fail "expected 2 xdist workers on 2 servers: $(sort -u "$WORK/workers.log" | tr '\n' ' ')"
echo "== Python: 2 workers, one server each"
echo "packages: ok"
