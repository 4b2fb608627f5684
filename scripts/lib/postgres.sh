#!/usr/bin/env bash
# Sourced by scripts/test.sh and scripts/bench-auth.sh: finds (or installs) the PostgreSQL
# server binaries and starts a throwaway cluster in a temporary directory, on a free port,
# as a non-root OS user (postgres refuses to run as root). After `pg_start`, PG_URL points
# at the cluster's `postgres` database and an EXIT trap stops the cluster and removes it.

# Sets PG_BIN to a directory holding initdb and pg_ctl, installing the server package with
# apt-get when it is missing and this shell may (root with apt-get); otherwise says what to
# run and fails.
pg_find_binaries() {
  PG_BIN=""
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && PG_BIN="$d"; done
  if [ -z "$PG_BIN" ] && command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
    PG_BIN=$(dirname "$(command -v pg_ctl)")
  fi
  [ -n "$PG_BIN" ] && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== the PostgreSQL server binaries are missing: installing the postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null || {
      echo "apt-get could not install postgresql"; return 1; }
    for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && PG_BIN="$d"; done
    [ -n "$PG_BIN" ] && return 0
  fi
  echo "The PostgreSQL server binaries (initdb, pg_ctl) are not installed. Install them with:"
  echo "    sudo apt-get install postgresql      # Debian/Ubuntu"
  echo "or run only the SQLite half:  ROSTER_TEST_STORES=sqlite bash scripts/test.sh"
  return 1
}

pg_start() {
  pg_find_binaries || return 1
  PG_USER=$(id -un)
  if [ "$(id -u)" = "0" ]; then
    PG_USER=roster-pg
    id -u "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
  fi
  PG_DIR=$(mktemp -d /tmp/roster-pg.XXXXXX)
  chown "$PG_USER" "$PG_DIR" 2>/dev/null || true
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  trap pg_stop EXIT
  pg_as_user "$PG_BIN/initdb" -D "$PG_DIR/data" -U roster --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; return 1; }
  pg_as_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
    || { cat "$PG_DIR/server.log"; return 1; }
  PG_URL="postgres://roster@127.0.0.1:$port/postgres"
  PG_VERSION=$("$PG_BIN/postgres" --version | awk '{print $3}')
  export PG_URL PG_VERSION
}

pg_as_user() { if [ "$(id -u)" = "0" ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi; }

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  pg_as_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
