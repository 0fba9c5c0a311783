#!/usr/bin/env bash
# Makes sure a streaming-replication standby of the test PostgreSQL cluster runs on this machine and prints
# the URL the read-replica tests should use (tests/store/test_read_replica.py, XINYONG_TEST_PG_REPLICA_URL).
#
# Order: XINYONG_TEST_PG_REPLICA_URL if set; else a standby in $XINYONG_TEST_REPLICA_DIR (default
# /var/lib/postgresql/xinyong-replica-15) on port $XINYONG_TEST_REPLICA_PORT (default 5433): reused when it is
# already up and streaming, else made afresh with pg_basebackup from the main cluster (127.0.0.1:5432), which
# the script first prepares: a replication role `xinyong_replica` and a pg_hba entry that lets it in.
# Needs root (or sudo to postgres), like scripts/test-postgres.sh. Exits non-zero with the reason otherwise:
# the tests then fail and say why, they never skip.
set -euo pipefail
if [ -n "${XINYONG_TEST_PG_REPLICA_URL:-}" ]; then echo "$XINYONG_TEST_PG_REPLICA_URL"; exit 0; fi

say() { echo "test-replica: $*" >&2; }
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -n -u postgres sh -c "$1"; fi; }

version=15
bin=/usr/lib/postgresql/$version/bin
dir=${XINYONG_TEST_REPLICA_DIR:-/var/lib/postgresql/xinyong-replica-$version}
port=${XINYONG_TEST_REPLICA_PORT:-5433}
role=xinyong_replica
secret=xinyong_replica
url="postgresql+psycopg://xinyong:xinyong@127.0.0.1:$port/postgres"

[ -x "$bin/pg_basebackup" ] || { say "PostgreSQL $version's binaries are not in $bin"; exit 1; }
pg_isready -q -h 127.0.0.1 -p 5432 || { say "the main cluster is not up on 127.0.0.1:5432 (run scripts/test-postgres.sh)"; exit 1; }

# The primary: a role that may replicate, and the host-based entry that admits it over 127.0.0.1.
as_postgres "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$role'\" | grep -q 1 || psql -qc \"CREATE ROLE $role REPLICATION LOGIN PASSWORD '$secret'\"" >&2
# The tests pause and resume replay on the standby to show which server answered. Granted in template1, from
# which each test database is created (function grants are per database; catalog changes replicate).
as_postgres "psql -d template1 -qc 'GRANT EXECUTE ON FUNCTION pg_wal_replay_pause(), pg_wal_replay_resume() TO xinyong'" >&2
hba=$(as_postgres "psql -qtAc 'SHOW hba_file'")
if ! as_postgres "grep -Eq '^host[[:space:]]+replication[[:space:]]+(all|$role)[[:space:]]+127\.0\.0\.1/32' '$hba'"; then
  say "admitting $role for replication in $hba"
  as_postgres "echo 'host replication $role 127.0.0.1/32 scram-sha-256' >> '$hba'"
  as_postgres "psql -qc 'SELECT pg_reload_conf()'" >/dev/null
fi

# Streaming, not merely up: a standby left stopped while the primary recycled its WAL cannot catch up.
streaming() {
  for _ in $(seq 1 20); do
    [ "$(as_postgres "psql -h '$dir' -p $port -d postgres -qtAc 'SELECT status FROM pg_stat_wal_receiver'" 2>/dev/null)" = streaming ] && return 0
    sleep 1
  done
  return 1
}
in_recovery() { PGPASSWORD=xinyong psql -h 127.0.0.1 -p "$port" -U xinyong -d postgres -qtAc "SELECT pg_is_in_recovery()" 2>/dev/null; }
if pg_isready -q -h 127.0.0.1 -p "$port"; then
  if [ "$(in_recovery)" = t ] && streaming; then say "reusing the standby on port $port ($dir)"; echo "$url"; exit 0; fi
  if [ "$(in_recovery)" = t ] && [ -f "$dir/standby.signal" ]; then
    say "the standby on port $port does not stream; making it again"
    as_postgres "'$bin/pg_ctl' -D '$dir' -m fast stop && rm -f '$dir/standby.signal'" >/dev/null 2>&1 || true
  else
    say "port $port is taken by a server that is not our standby: set XINYONG_TEST_REPLICA_PORT"; exit 1
  fi
fi

# A standby made before (the machine restarted): start it again; if it cannot catch up, make it afresh.
if [ -f "$dir/standby.signal" ]; then
  say "starting the standby in $dir"
  if as_postgres "'$bin/pg_ctl' -D '$dir' -l '$dir/server.log' -w -t 60 start" >&2 && [ "$(in_recovery)" = t ] && streaming; then
    echo "$url"; exit 0
  fi
  as_postgres "'$bin/pg_ctl' -D '$dir' -m immediate stop" >/dev/null 2>&1 || true
  say "the old standby did not come up; making it again"
fi

say "copying the main cluster into $dir (pg_basebackup, WAL streamed)"
as_postgres "rm -rf '$dir' && mkdir -p '$dir' && chmod 700 '$dir'"
as_postgres "PGPASSWORD=$secret '$bin/pg_basebackup' -h 127.0.0.1 -p 5432 -U $role -D '$dir' -X stream -c fast -R" >&2 \
  || { say "pg_basebackup failed (is wal_level at least replica, max_wal_senders > 0?)"; exit 1; }
# Debian keeps a cluster's configuration in /etc: the copy needs its own (port, sockets, access).
as_postgres "cat > '$dir/postgresql.conf'" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
hot_standby = on
max_connections = 100
shared_buffers = 128MB
EOF
as_postgres "cat > '$dir/pg_hba.conf'" <<EOF
local all postgres peer
host all all 127.0.0.1/32 scram-sha-256
EOF
as_postgres "'$bin/pg_ctl' -D '$dir' -l '$dir/server.log' -w -t 120 start" >&2 \
  || { say "the standby did not start: $(tail -5 "$dir/server.log" 2>/dev/null)"; exit 1; }
for _ in $(seq 1 60); do [ "$(in_recovery)" = t ] && break; sleep 1; done
[ "$(in_recovery)" = t ] || { say "the standby on port $port does not answer as a hot standby"; exit 1; }
streaming || { say "the standby on port $port does not stream from the primary: $(tail -5 "$dir/server.log")"; exit 1; }
say "standby streaming from 127.0.0.1:5432 on port $port"
echo "$url"
