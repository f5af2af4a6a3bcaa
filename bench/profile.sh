#!/usr/bin/env bash
# Profiles s3twin under one section of the benchmark.
#
#   bash bench/profile.sh cpu big      # perf: where a 1 GiB PUT and GET spend their CPU
#   bash bench/profile.sh cpu small    # perf: the 4 KiB PUT/GET phases
#   bash bench/profile.sh heap many    # valgrind massif: what the heap holds after the
#                                      # many-objects load (quick sizes: 20k objects)
#
# Builds s3twin with symbols and frame pointers into bench/target/prof (the release profile
# otherwise), then runs the section with the server started under perf or valgrind. Needs perf
# (Debian: linux-perf) or valgrind. Prints the top entries and where the full data is.
set -euo pipefail
bench="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
mode="${1:-cpu}"
section="${2:-big}"
case "$mode" in
  cpu) command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 1; } ;;
  heap) command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; } ;;
  *) echo "usage: bench/profile.sh cpu|heap SECTION (start, small, big, multipart, listing, many)" >&2; exit 2 ;;
esac

echo "== building s3twin with symbols and frame pointers (bench/target/prof)" >&2
(cd "$repo" && RUSTFLAGS="-C force-frame-pointers=yes" CARGO_PROFILE_RELEASE_STRIP=false \
  CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_TARGET_DIR="$bench/target/prof" \
  cargo build --release --locked --quiet --bin s3twin)
CARGO_TARGET_DIR="$bench/target" cargo build --release --locked --quiet \
  --manifest-path "$bench/loadgen/Cargo.toml"

out="$(mktemp -d)"
bin="$bench/target/prof/release/s3twin"
wrapper="$out/s3twin"
extra=()
if [ "$mode" = cpu ]; then
  printf '#!/bin/sh\nexec perf record -q -F 1999 -g -e cpu-clock -o "%s/perf-$$.data" -- "%s" "$@"\n' \
    "$out" "$bin" > "$wrapper"
else
  printf '#!/bin/sh\nexec valgrind -q --tool=massif --threshold=0.2 --massif-out-file="%s/massif-$$.out" "%s" "$@"\n' \
    "$out" "$bin" > "$wrapper"
  extra=(--quick)   # valgrind is slow: quick sizes
fi
chmod +x "$wrapper"

echo "== running section '$section' under $mode profiling (figures are distorted by the profiler)" >&2
"$bench/target/release/loadgen" --repo "$repo" --bench "$bench" --peers s3twin --only "$section" \
  --s3twin-bin "$wrapper" --no-results "${extra[@]}" >/dev/null || true

if [ "$mode" = cpu ]; then
  # The largest file is the server's; the smaller ones come from `s3twin --version`.
  data="$(ls -S "$out"/perf-*.data | head -n 1)"
  perf report -i "$data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -n 30
  echo "full profile: perf report -i $data" >&2
else
  data="$(ls -S "$out"/massif-*.out | head -n 1)"
  python3 - "$data" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
snaps, cur = [], None
for l in lines:
    if l.startswith("snapshot="):
        cur = {"tree": None, "nodes": []}; snaps.append(cur)
    elif cur is not None and l.startswith("mem_heap_B="):
        cur["heap"] = int(l.split("=")[1])
    elif cur is not None and l.startswith("mem_heap_extra_B="):
        cur["extra"] = int(l.split("=")[1])
    elif cur is not None and l.startswith("heap_tree="):
        cur["tree"] = l.split("=")[1]
    elif cur is not None and cur["tree"] in ("peak", "detailed") and re.match(r"\s*n\d+: \d+ ", l):
        m = re.match(r"(\s*)n\d+: (\d+) (.*)", l)
        cur["nodes"].append((len(m.group(1)), int(m.group(2)), m.group(3)))
peak = [s for s in snaps if s["tree"] == "peak"][-1]
print(f"peak heap: {peak['heap']/1e6:.2f} MB requested + {peak['extra']/1e6:.2f} MB malloc overhead")
nodes = peak["nodes"]
rows = []
for i, (d, b, fn) in enumerate(nodes):
    if d != 1:
        continue
    # What was allocated (the first frame naming an s3twin type) and the first two frames
    # of s3twin's own code that asked for it.
    what, frames, depth, j = None, [], d, i + 1
    while j < len(nodes) and nodes[j][0] > d:
        if nodes[j][0] == depth + 1:
            f = re.sub(r"0x[0-9A-F]+: ", "", nodes[j][2])
            if "s3twin" in f and "library/" not in f:
                frames.append(f[:90])
            elif what is None and "s3twin" in f and not frames:
                what = re.sub(r" \(library/.*", "", f)[:90]
            depth += 1
        j += 1
    rows.append((b, ([what] if what else []) + (frames[:2] or [re.sub(r"0x[0-9A-F]+: ", "", fn)[:100]])))
for b, fr in sorted(rows, reverse=True)[:15]:
    print(f"{b/1e6:8.2f} MB  " + "  <-  ".join(fr))
PY
  echo "full profile: ms_print $data" >&2
fi
