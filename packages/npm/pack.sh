#!/usr/bin/env bash
# Builds the platform package for this machine (@s3twin/<triple>) from the cargo release
# binary, and packs it and the s3twin package into a directory of .tgz files.
#
#   packages/npm/pack.sh [OUT_DIR]      (default packages/npm/dist)
#
# Needs target/release/s3twin (cargo build --release) or S3TWIN_BINARY.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$(mkdir -p "${1:-$HERE/dist}" && cd "${1:-$HERE/dist}" && pwd)"
BIN="${S3TWIN_BINARY:-$ROOT/target/release/s3twin}"
[ -x "$BIN" ] || { echo "pack.sh: $BIN is missing: cargo build --release first" >&2; exit 1; }

VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1)"
PKG_VERSION="$(node -p 'require(process.argv[1]).version' "$HERE/s3twin/package.json")"
if [ "$VERSION" != "$PKG_VERSION" ]; then
  echo "pack.sh: Cargo.toml is $VERSION but packages/npm/s3twin/package.json is $PKG_VERSION" >&2
  exit 1
fi

# The triple as the s3twin package computes it (index.cjs platformTriple).
TRIPLE="$(node -p 'require(process.argv[1]).platformTriple()' "$HERE/s3twin/index.cjs")"
OS="${TRIPLE%%-*}"
CPU="$(echo "$TRIPLE" | cut -d- -f2)"
case "$TRIPLE" in
  *-gnu) LIBC='"libc": ["glibc"],' ;;
  *-musl) LIBC='"libc": ["musl"],' ;;
  *) LIBC='' ;;
esac
if ! node -e 'const d=require(process.argv[1]).optionalDependencies; process.exit(d["@s3twin/"+process.argv[2]]?0:1)' \
  "$HERE/s3twin/package.json" "$TRIPLE"; then
  echo "pack.sh: @s3twin/$TRIPLE is not among s3twin's optionalDependencies" >&2
  exit 1
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/platform/bin"
for f in package.json README.md; do
  sed -e "s/@TRIPLE@/$TRIPLE/g" -e "s/@VERSION@/$VERSION/g" -e "s/@OS@/$OS/g" \
    -e "s/@CPU@/$CPU/g" -e "s/@LIBC@/$LIBC/g" "$HERE/platform/$f.in" >"$WORK/platform/$f"
done
cp "$BIN" "$WORK/platform/bin/s3twin"
chmod 755 "$WORK/platform/bin/s3twin"

rm -f "$OUT"/s3twin-*.tgz
(cd "$WORK/platform" && npm pack --silent --pack-destination "$OUT" >/dev/null)
(cd "$HERE/s3twin" && npm pack --silent --pack-destination "$OUT" >/dev/null)
ls "$OUT"/*.tgz
