#!/usr/bin/env bash
# Makes sure a PostgreSQL server is reachable for the tests and prints the URL they should use.
# Order: XINYONG_TEST_PG_URL if set; else a local cluster (installed and started if we are root).
set -euo pipefail
if [ -n "${XINYONG_TEST_PG_URL:-}" ]; then echo "$XINYONG_TEST_PG_URL"; exit 0; fi

say() { echo "test-postgres: $*" >&2; }
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -n -u postgres sh -c "$1"; fi; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian's postgresql"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  else
    say "PostgreSQL is not installed: run 'sudo apt-get install postgresql' or set XINYONG_TEST_PG_URL"; exit 1
  fi
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  cluster=$(pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 {print $1" "$2}')
  [ -n "$cluster" ] || { say "no PostgreSQL cluster found (pg_lsclusters is empty)"; exit 1; }
  say "starting cluster $cluster"
  # shellcheck disable=SC2086
  pg_ctlcluster $cluster start >&2 || { say "could not start PostgreSQL cluster $cluster"; exit 1; }
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || { say "PostgreSQL did not become ready"; exit 1; }
fi
as_postgres "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='xinyong'\" | grep -q 1 || psql -qc \"CREATE ROLE xinyong LOGIN CREATEDB PASSWORD 'xinyong'\"" >&2
# DROP DATABASE … WITH (FORCE) ends every session on the database, an autovacuum worker's too (after a
# large load one often is): that takes pg_signal_backend, or the drop fails for a role that is not superuser.
as_postgres "psql -qc 'GRANT pg_signal_backend TO xinyong'" >&2
# A bulk load stops the per-row foreign-key triggers for its own transaction and checks each frame's
# references itself (store.bulk.bulk_transaction): the role may set session_replication_role (PostgreSQL 15).
as_postgres "psql -qc 'GRANT SET ON PARAMETER session_replication_role TO xinyong'" >&2
# The benchmarks (bench/wrk.py) warm the page cache with pg_prewarm; a database the role creates from
# template1 has it without the role needing superuser. It only reads pages in.
as_postgres "psql -qd template1 -c 'CREATE EXTENSION IF NOT EXISTS pg_prewarm'" >&2 || say "pg_prewarm unavailable: benchmarks run on a cold cache"
echo "postgresql+psycopg://xinyong:xinyong@127.0.0.1:5432/postgres"
