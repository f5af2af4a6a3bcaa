#!/usr/bin/env bash
# Profiles s3twin under one section of the benchmark.
#
#   bash bench/profile.sh big          # where a 1 GiB PUT and GET spend their CPU
#   bash bench/profile.sh small        # the 4 KiB PUT/GET phases (also: start, multipart,
#                                      # listing, many)
#
# Builds s3twin with symbols and frame pointers into bench/target/prof (the release profile
# otherwise), runs the section with the server started under `perf record` (cpu-clock, call
# graphs), and prints the hottest functions and where the full profile is. Needs perf
# (Debian: linux-perf).
set -euo pipefail
bench="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
section="${1:-big}"
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 1; }

echo "== building s3twin with symbols and frame pointers (bench/target/prof)" >&2
(cd "$repo" && RUSTFLAGS="-C force-frame-pointers=yes" CARGO_PROFILE_RELEASE_STRIP=false \
  CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_TARGET_DIR="$bench/target/prof" \
  cargo build --release --locked --quiet --bin s3twin)
CARGO_TARGET_DIR="$bench/target" cargo build --release --locked --quiet \
  --manifest-path "$bench/loadgen/Cargo.toml"

out="$(mktemp -d)"
bin="$bench/target/prof/release/s3twin"
wrapper="$out/s3twin"
printf '#!/bin/sh\nexec perf record -q -F 1999 -g -e cpu-clock -o "%s/perf-$$.data" -- "%s" "$@"\n' \
  "$out" "$bin" > "$wrapper"
chmod +x "$wrapper"

echo "== running section '$section' under perf (figures are distorted by the profiler)" >&2
"$bench/target/release/loadgen" --repo "$repo" --bench "$bench" --peers s3twin --only "$section" \
  --s3twin-bin "$wrapper" --no-results >/dev/null || true

# The largest file is the server's; the smaller ones come from `s3twin --version`.
data="$(ls -S "$out"/perf-*.data | head -n 1)"
perf report -i "$data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -n 30
echo "full profile: perf report -i $data" >&2
