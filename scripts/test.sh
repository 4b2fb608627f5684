#!/usr/bin/env bash
# Runs the whole test suite twice: on SQLite (the embedded default) and on a throwaway
# PostgreSQL cluster this script starts and stops itself (initdb + pg_ctl in a temp dir, a
# free port, as a non-root OS user: postgres refuses to run as root).
#
#   bash scripts/test.sh            # both stores
#   ROSTER_TEST_STORES=sqlite bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

stores="${ROSTER_TEST_STORES:-sqlite postgres}"
phase_start=$(date +%s)
phase() { local now; now=$(date +%s); echo "== [$1] took $((now - phase_start))s"; phase_start=$now; }

cargo nextest --version >/dev/null 2>&1 || { echo "cargo-nextest is required (cargo install cargo-nextest)"; exit 1; }

# Build the tests once; both runs reuse the binaries.
cargo nextest run --workspace --no-run
phase "build tests"

if [[ " $stores " == *" sqlite "* ]]; then
  echo "== test suite on SQLite"
  env -u ROSTER_TEST_DATABASE_URL cargo nextest run --workspace --no-fail-fast
  phase "tests on SQLite"
fi

if [[ " $stores " == *" postgres "* ]]; then
  pgbin=""
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && pgbin="$d"; done
  if [ -z "$pgbin" ] && command -v pg_ctl >/dev/null; then pgbin=$(dirname "$(command -v pg_ctl)"); fi
  if [ -z "$pgbin" ]; then
    echo "PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql package (.ci/run does)"; exit 1
  fi
  pguser=$(id -un)
  if [ "$(id -u)" = "0" ]; then
    pguser=roster-pg
    id -u "$pguser" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$pguser"
  fi
  as_pg() { if [ "$(id -u)" = "0" ]; then runuser -u "$pguser" -- "$@"; else "$@"; fi; }
  pgdir=$(mktemp -d /tmp/roster-pg.XXXXXX)
  chown "$pguser" "$pgdir" 2>/dev/null || true
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  cleanup() { as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
  trap cleanup EXIT
  as_pg "$pgbin/initdb" -D "$pgdir/data" -U roster --auth=trust -E UTF8 --locale=C.UTF-8 >"$pgdir/initdb.log" 2>&1 \
    || { cat "$pgdir/initdb.log"; exit 1; }
  as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
    -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
    || { cat "$pgdir/server.log"; exit 1; }
  phase "start PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on port $port"
  echo "== test suite on PostgreSQL"
  ROSTER_TEST_DATABASE_URL="postgres://roster@127.0.0.1:$port/postgres" cargo nextest run --workspace --no-fail-fast
  phase "tests on PostgreSQL"
fi
