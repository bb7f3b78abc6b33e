#!/usr/bin/env bash
# Release build of billkey, without make: static binaries (CGO_ENABLED=0,
# pure-Go SQLite) for linux/amd64, linux/arm64 and darwin/arm64, stamped with
# version, commit and build date (billkey version prints them), packed as
# tar.gz archives with a SHA256SUMS file.
#
# Usage:
#   scripts/release.sh [VERSION]        # default VERSION: git describe --tags --always --dirty
#   scripts/release.sh --self-check     # build linux/amd64 only into a temporary folder and
#                                       # check the stamped "billkey version" (when it can run here)
# Environment:
#   OUT=dist                            # output folder
#   TARGETS="linux/amd64 linux/arm64 darwin/arm64"
set -euo pipefail
cd "$(dirname "$0")/.."

self_check=false
if [ "${1:-}" = "--self-check" ]; then
  self_check=true
  shift
fi
version=${1:-${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}}
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit-dirty"; fi
# SOURCE_DATE_EPOCH makes the date reproducible (reproducible-builds.org).
build_date=$(date -u ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"} +%Y-%m-%dT%H:%M:%SZ)
targets=${TARGETS:-"linux/amd64 linux/arm64 darwin/arm64"}
out=${OUT:-dist}
if $self_check; then
  targets=linux/amd64
  out=${OUT:-$(mktemp -d)}
fi

pkg=github.com/billkey/billkey/internal/cli
ldflags="-s -w -X $pkg.Version=$version -X $pkg.Commit=$commit -X $pkg.BuildDate=$build_date"
mkdir -p "$out"
echo "billkey $version ($commit, $build_date) -> $out"
for target in $targets; do
  os=${target%/*}
  arch=${target#*/}
  name="billkey_${version}_${os}_${arch}"
  dir="$out/$name"
  mkdir -p "$dir"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "$dir/billkey" ./cmd/billkey
  cp LICENSE README.md CHANGELOG.md "$dir/"
  tar -C "$out" -czf "$out/$name.tar.gz" "$name"
  echo "  $out/$name.tar.gz"
done
(cd "$out" && sha256sum ./*.tar.gz > SHA256SUMS)

if $self_check; then
  bin="$out/billkey_${version}_linux_amd64/billkey"
  if [ "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" = linux/amd64 ]; then
    got=$("$bin" version)
    echo "$got"
    grep -q "^billkey $version\$" <<<"$got" || { echo "self-check: version not stamped" >&2; exit 1; }
    grep -q "commit: *$commit" <<<"$got" || { echo "self-check: commit not stamped" >&2; exit 1; }
    grep -q "built: *$build_date" <<<"$got" || { echo "self-check: build date not stamped" >&2; exit 1; }
    if command -v file >/dev/null && ! file "$bin" | grep -q "statically linked"; then
      echo "self-check: the binary is not static" >&2; exit 1
    fi
  fi
  echo "self-check ok"
fi
