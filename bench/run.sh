#!/usr/bin/env bash
# The s3twin benchmark: installs the peers (full run only), builds s3twin and the load
# generator, runs the same workload against every server and writes the results.
#
#   bash bench/run.sh            # full run, all peers (about 10 minutes); updates bench/RESULTS.md
#   bash bench/run.sh --quick    # s3twin only, small sizes, well under a minute (CI)
#
# Other arguments go to the load generator: --peers s3twin,moto,s3rver,s3s-fs and
# --only start,small,big,multipart,listing,many,soak (either leaves RESULTS.md alone),
# --commit TEXT, --threads N, --soak-secs N (the soak's length: 60 s, 5 s with --quick).
# S3TWIN_BIN=path benchmarks another s3twin binary.
# Exits non-zero if any s3twin figure is broken (a non-2xx answer, a crash, a wrong result).
set -euo pipefail
bench="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
cd "$repo"

# Pinned peer versions.
MOTO_VERSION=5.2.5
S3RVER_VERSION=3.7.1
S3S_FS_VERSION=0.14.1   # s3s 0.14 era: builds with the project's rustc

quick=0
peers=""
partial=0
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; pass+=("$1") ;;
    --peers) peers="$2"; pass+=("$1" "$2"); shift ;;
    --only) partial=1; pass+=("$1" "$2"); shift ;;
    *) pass+=("$1") ;;
  esac
  shift
done
if [ "$quick" -eq 1 ]; then
  want="${peers:-s3twin}"
else
  want="${peers:-s3twin,moto,s3rver,s3s-fs}"
fi
has() { case ",$want," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

log() { echo "== $*" >&2; }

if has moto; then
  if [ ! -x "$bench/.venv/bin/moto_server" ] ||
     [ "$("$bench/.venv/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" != "$MOTO_VERSION" ]; then
    log "installing moto[server]==$MOTO_VERSION into bench/.venv"
    [ -x "$bench/.venv/bin/python" ] || python3 -m venv "$bench/.venv"
    "$bench/.venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
fi
if has s3rver; then
  if [ "$(node -p "require('$bench/.node/node_modules/s3rver/package.json').version" 2>/dev/null)" != "$S3RVER_VERSION" ]; then
    log "installing s3rver@$S3RVER_VERSION into bench/.node"
    mkdir -p "$bench/.node"
    npm install --prefix "$bench/.node" --no-audit --no-fund --save-exact --loglevel=error "s3rver@$S3RVER_VERSION"
  fi
fi
if has s3s-fs; then
  if [ "$("$bench/.tools/bin/s3s-fs" --version 2>/dev/null | awk '{print $NF}')" != "$S3S_FS_VERSION" ]; then
    log "building s3s-fs $S3S_FS_VERSION into bench/.tools (a few minutes, once)"
    CARGO_TARGET_DIR="$bench/target/s3s-fs" cargo install --quiet --locked --force \
      --root "$bench/.tools" --features binary --version "$S3S_FS_VERSION" s3s-fs
  fi
fi

if { has s3twin || has s3twin-enforce; } && [ -z "${S3TWIN_BIN:-}" ]; then
  log "building s3twin (release)"
  cargo build --release --locked --quiet --bin s3twin
fi
log "building the load generator"
CARGO_TARGET_DIR="$bench/target" cargo build --release --locked --quiet \
  --manifest-path "$bench/loadgen/Cargo.toml"

args=(--repo "$repo" --bench "$bench")
[ -n "${S3TWIN_BIN:-}" ] && args+=(--s3twin-bin "$S3TWIN_BIN")
# A full run over every peer is the committed table.
if [ "$quick" -eq 0 ] && [ -z "$peers" ] && [ "$partial" -eq 0 ]; then
  args+=(--results-md "$bench/RESULTS.md")
fi
log "running (results go to bench/results/)"
exec "$bench/target/release/loadgen" "${args[@]}" "${pass[@]+"${pass[@]}"}"
