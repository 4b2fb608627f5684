#!/usr/bin/env bash
# The authenticated hot path, measured from outside with wrk: requests per second of
# `GET /api/me` and `GET /api/admin/users` divided by those of `GET /healthz` on the same
# server in the same run — the demo on SQLite, then `roster serve` on a throwaway
# PostgreSQL cluster. A ratio near 1 means authentication costs little next to HTTP itself.
#
#   bash scripts/bench-auth.sh              # both stores, 10 s per endpoint
#   BENCH_SECONDS=5 BENCH_STORES=sqlite bash scripts/bench-auth.sh
#
# Release build; wrk with 2 threads and 32 connections; logs at `warn` so a log line per
# request does not dominate. Goals (issue 12): ≥ 0.5 on SQLite, ≥ 0.3 on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${BENCH_SECONDS:-10}"
stores="${BENCH_STORES:-sqlite postgres}"
connections=32

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  else
    echo "wrk is required: sudo apt-get install wrk"; exit 1
  fi
fi
cargo build -q --release -p roster-cli
roster=target/release/roster
work=$(mktemp -d)
server_pid=""
cleanup_bench() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup_bench EXIT

# Prints the requests per second wrk measured.
rps() {
  local url=$1 token=${2:-}
  local args=(-t2 -c"$connections" -d"${seconds}s" --latency)
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  wrk "${args[@]}" "$url" | awk '/Requests\/sec/ {print $2}'
}

measure() {
  local store=$1 url=$2 token=$3
  # Warm up the connection pools and caches, then measure each endpoint once.
  wrk -t2 -c"$connections" -d2s -H "Authorization: Bearer $token" "$url/api/me" >/dev/null
  local health me users
  health=$(rps "$url/healthz")
  me=$(rps "$url/api/me" "$token")
  users=$(rps "$url/api/admin/users" "$token")
  # Every request must have been answered 200: a fast 401 would be a false win.
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/api/admin/users")" = 200 ] \
    || { echo "the token does not work on $store"; exit 1; }
  python3 - "$store" "$health" "$me" "$users" <<'PY'
import sys
store, health, me, users = sys.argv[1], *map(float, sys.argv[2:])
print(f"| {store} | {health:,.0f} | {me:,.0f} ({me / health:.2f}) | {users:,.0f} ({users / health:.2f}) |")
PY
}

echo "| store | /healthz req/s | /api/me req/s (÷ healthz) | /api/admin/users req/s (÷ healthz) |"
echo "|---|---|---|---|"

if [[ " $stores " == *" sqlite "* ]]; then
  ROSTER_LOG=warn "$roster" demo --json --listen 127.0.0.1:0 --data-dir "$work/demo" >"$work/ready.json" 2>"$work/demo.log" &
  server_pid=$!
  for _ in $(seq 1 150); do [ -s "$work/ready.json" ] && break; sleep 0.2; done
  [ -s "$work/ready.json" ] || { cat "$work/demo.log"; echo "the demo did not start"; exit 1; }
  url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$work/ready.json")
  token=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(u["token"] for u in d["users"] if u["access_level"]=="executive"))' "$work/ready.json")
  measure SQLite "$url" "$token"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
fi

if [[ " $stores " == *" postgres "* ]]; then
  # shellcheck source=scripts/lib/postgres.sh
  source scripts/lib/postgres.sh
  pg_start >/dev/null
  trap 'cleanup_bench; pg_stop' EXIT
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  export ROSTER_DATABASE_URL="$PG_URL" ROSTER_LOG=warn ROSTER_LISTEN="127.0.0.1:$port"
  ROSTER_SECRET_KEY=$("$roster" admin generate-key); export ROSTER_SECRET_KEY
  "$roster" migrate >/dev/null 2>&1
  for level in executive head manager lead employee; do
    "$roster" admin create-user --email "$level@bench.example" --name "Bench ${level^}" --access-level "$level" --org bench 2>/dev/null
  done
  token=$("$roster" admin issue-token --email executive@bench.example --ttl 1h)
  "$roster" serve 2>"$work/serve.log" &
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  measure "PostgreSQL $PG_VERSION" "http://127.0.0.1:$port" "$token"
fi
