#!/usr/bin/env bash
# Runs the whole test suite twice: on SQLite (the embedded default) and on a throwaway
# PostgreSQL cluster this script starts and stops itself (initdb + pg_ctl in a temp dir, a
# free port, as a non-root OS user: postgres refuses to run as root). When the PostgreSQL
# server binaries are missing it installs them (as root, with apt-get) or says what to run.
#
#   bash scripts/test.sh            # both stores
#   ROSTER_TEST_STORES=sqlite bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

stores="${ROSTER_TEST_STORES:-sqlite postgres}"
phase_start=$(date +%s)
phase() { local now; now=$(date +%s); echo "== [$1] took $((now - phase_start))s"; phase_start=$now; }

cargo nextest --version >/dev/null 2>&1 || { echo "cargo-nextest is required: cargo install --locked cargo-nextest"; exit 1; }

if [[ " $stores " == *" postgres "* ]]; then
  # Before the long build: find (or install) the server binaries, or say what to run.
  # shellcheck source=scripts/lib/postgres.sh
  source scripts/lib/postgres.sh
  pg_find_binaries
fi

# Build the tests once; both runs reuse the binaries.
cargo nextest run --workspace --no-run
phase "build tests"

if [[ " $stores " == *" sqlite "* ]]; then
  echo "== test suite on SQLite"
  env -u ROSTER_TEST_DATABASE_URL cargo nextest run --workspace --no-fail-fast
  phase "tests on SQLite"
fi

if [[ " $stores " == *" postgres "* ]]; then
  pg_start
  phase "start PostgreSQL $PG_VERSION"
  echo "== test suite on PostgreSQL"
  ROSTER_TEST_DATABASE_URL="$PG_URL" cargo nextest run --workspace --no-fail-fast
  phase "tests on PostgreSQL"
fi
