#!/usr/bin/env bash
# billkey's whole test suite, on a fresh Debian machine with Go:
#   - installs what it needs when missing (Debian postgresql, chromium);
#   - starts a throwaway PostgreSQL cluster on loopback (removed at exit);
#   - runs gofmt, go vet, and go test on SQLite and PostgreSQL, including the
#     browser tests (headless Chromium) and a short run of every benchmark.
# Usage: scripts/test.sh [extra go test flags, e.g. -run TestX]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

missing=()
[ -n "$(pg_bin)" ] || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} (Debian packages)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PG_BIN=$(pg_bin)

log "starting a throwaway PostgreSQL cluster ($PG_BIN)"
PG_DIR=$(mktemp -d /tmp/billkey-pg.XXXXXX)
chmod 755 "$PG_DIR"
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
cleanup() {
  run_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap cleanup EXIT
run_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
PG_PORT=$(( 20000 + RANDOM % 20000 ))
while (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; do PG_PORT=$(( PG_PORT + 1 )); done
run_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -o \
  "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c full_page_writes=off" \
  start >/dev/null
export BILLKEY_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
export BILLKEY_TEST_CHROMIUM=/usr/bin/chromium
echo "PostgreSQL on 127.0.0.1:$PG_PORT"

log "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi

log "go vet ./..."
go vet ./...

log "store conformance suite (each test on sqlite and postgres)"
go test -count=1 -v -run 'TestStore' ./sqlstore/ | grep -E '^\s*--- (PASS|FAIL|SKIP)|^(ok|FAIL)' 

log "go test ./... (SQLite and PostgreSQL, browser tests in headless Chromium)"
go test -count=1 -timeout 20m "$@" ./...

log "fuzzing the payment window's parameters briefly (seeds in window/testdata/fuzz replay in go test too)"
go test -count=1 -run '^$' -fuzz '^FuzzOpenParams$' -fuzztime 10s ./window/

log "benchmarks, briefly (they must keep compiling and working; no timing is asserted)"
go test -count=1 -run '^$' -bench . -benchtime 20x ./... > "$PG_DIR/bench.txt" || { cat "$PG_DIR/bench.txt"; exit 1; }
grep -E '^(Benchmark|ok|FAIL)' "$PG_DIR/bench.txt"

log "fuzzing the REST parameter binder briefly (seeds in api/testdata/fuzz also run in go test)"
go test -run '^$' -fuzz '^FuzzReadParams$' -fuzztime 10s ./api/
