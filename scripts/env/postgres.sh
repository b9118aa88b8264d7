#!/usr/bin/env bash
# postgres part of scripts/test-env.sh: a PostgreSQL 15 server for the tests on 127.0.0.1:55432
# (user moor, password moor, database moor; md5 over TCP, loopback only), from Debian's postgresql-15
# (installed with apt if missing), data in /var/tmp/moor-test-pg, started with pg_ctl and left running.
# Runs as the `postgres` user when started by root (initdb refuses root). A system PostgreSQL on
# 5432 is never touched.
#
#   postgres.sh [start]   start (idempotent)
#   postgres.sh stop      stop our server (data is kept)
#
# Env: MOOR_TEST_PG_URL (use that server instead: only checked, nothing started),
#      MOOR_TEST_PG_DIR (/var/tmp/moor-test-pg), MOOR_PG_BINDIR (where pg_ctl/initdb/postgres are).
set -euo pipefail
part=postgres
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port=55432
base=${MOOR_TEST_PG_DIR:-/var/tmp/moor-test-pg}
data=$base/data
sockdir=$base/run
log=$base/postgres.log
user=moor password=moor db=moor

find_bindir() { # prints a directory holding PostgreSQL 15 server binaries
  local d c
  for d in "${MOOR_PG_BINDIR:-}" /usr/lib/postgresql/15/bin; do
    [[ -n $d && -x $d/pg_ctl && -x $d/initdb && -x $d/postgres ]] && echo "$d" && return 0
  done
  if c=$(command -v pg_ctl 2>/dev/null); then
    d=$(dirname "$(readlink -f "$c")")
    [[ -x $d/initdb && -x $d/postgres ]] && "$d/postgres" --version | grep -q ' 15\.' && echo "$d" && return 0
  fi
  return 1
}

# run_as <cmd...>: runs a server command as the owner of the data (postgres when we are root).
run_as() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi
}

# query <sql> [database]: runs one statement over TCP with the test credentials; prints the result.
query() {
  PGPASSWORD=$password PGCONNECT_TIMEOUT=3 "$bindir/psql" -X -q -At -h 127.0.0.1 -p "$port" -U "$user" -d "${2:-$db}" -c "$1"
}

if [[ -n "${MOOR_TEST_PG_URL:-}" ]]; then
  hostport=$(sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*).*#\2#' <<<"$MOOR_TEST_PG_URL")
  host=${hostport%:*} p=${hostport##*:}
  [[ $hostport == *:* ]] || p=5432
  tcp_open "$host" "$p" || die "MOOR_TEST_PG_URL is set but nothing answers at $host:$p: start that server or unset MOOR_TEST_PG_URL"
  echo "using MOOR_TEST_PG_URL ($host:$p answers); not starting a server"
  exit 0
fi

stop() {
  local b
  if b=$(find_bindir) && [[ -f $data/postmaster.pid ]]; then
    run_as "$b/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null || die "pg_ctl stop failed (log: $log)"
    echo "stopped PostgreSQL on 127.0.0.1:$port (data kept in $data)"
  else
    echo "not running"
  fi
}
case "${1:-start}" in
  start) ;;
  stop) stop && exit 0 ;;
  *) die "unknown command '$1' (start|stop)" ;;
esac

# Fast path: our server answers with the test credentials.
if bindir=$(find_bindir) && v=$(query 'show server_version' 2>/dev/null); then
  echo "PostgreSQL $v answering at 127.0.0.1:$port (data $data)"
  exit 0
fi

lock postgres 600
did=()
if ! bindir=$(find_bindir); then
  apt_install postgresql-15
  bindir=$(find_bindir) || die "postgresql-15 installed but pg_ctl/initdb/postgres 15 not found (set MOOR_PG_BINDIR)"
  did+=("installed postgresql-15")
fi
if is_root; then
  id postgres >/dev/null 2>&1 || die "user 'postgres' does not exist (initdb refuses root): apt-get install postgresql-15, or create it (useradd --system postgres)"
  owner=postgres
else
  owner=$(id -un)
fi

if tcp_open 127.0.0.1 "$port" && [[ ! -f $data/postmaster.pid ]]; then
  die "something else listens on 127.0.0.1:$port and does not accept $user/$password: stop it, or point the tests elsewhere with MOOR_TEST_PG_URL"
fi

if [[ ! -f $data/PG_VERSION ]]; then
  mkdir -p "$base"
  chmod 700 "$base"
  [[ $owner == "$(id -un)" ]] || chown "$owner:" "$base"
  rm -rf "$base/data.new" "$sockdir"
  run_as mkdir -p "$sockdir"
  pwfile=$base/pwfile
  run_as sh -c "umask 077 && echo '$password' >'$pwfile'"
  # Superuser `moor`: tests may create databases and roles.
  if ! out=$(run_as "$bindir/initdb" -D "$base/data.new" -U "$user" --pwfile="$pwfile" -E UTF8 --no-locale \
    --auth-local=trust --auth-host=md5 2>&1); then
    rm -f "$pwfile"
    echo "$out" >&2
    die "initdb failed in $base/data.new"
  fi
  rm -f "$pwfile"
  mv "$base/data.new" "$data"
  did+=("initialised $data")
fi
[[ $(cat "$data/PG_VERSION") == 15 ]] || die "$data holds a PostgreSQL $(cat "$data/PG_VERSION") cluster, not 15: remove $base and run this again"

# Only moor.conf and pg_hba.conf are ours; the rest stays as initdb wrote it.
grep -qx "include = 'moor.conf'" "$data/postgresql.conf" ||
  echo "include = 'moor.conf'" | run_as tee -a "$data/postgresql.conf" >/dev/null

# Rewritten on every start so that changes here take effect. Throwaway test data: no fsync.
run_as tee "$data/moor.conf" >/dev/null <<CONF
# written by scripts/env/postgres.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
jit = off
timezone = 'UTC'
log_min_messages = warning
CONF
run_as tee "$data/pg_hba.conf" >/dev/null <<HBA
# written by scripts/env/postgres.sh: socket in $sockdir, TCP on loopback only
local all all trust
host  all all 127.0.0.1/32 md5
HBA
run_as mkdir -p "$sockdir"

if ! run_as "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -s status >/dev/null 2>&1; then
  run_as "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null 2>&1 9>&- || {
    tail_log "$log"
    die "pg_ctl start failed (log: $log; data: $data)"
  }
  did+=("started")
else
  run_as "$bindir/pg_ctl" -D "$data" reload >/dev/null
  did+=("reloaded")
fi

exists=$(query "select 1 from pg_database where datname = '$db'" postgres) ||
  die "the server runs but $user/$password cannot log in over TCP (pg_hba: $data/pg_hba.conf; log: $log)"
[[ $exists == 1 ]] || query "create database $db" postgres >/dev/null || die "creating database $db failed"
v=$(query 'show server_version')
summary=$(printf '%s, ' "${did[@]}")
echo "PostgreSQL $v ${summary%, }; answering at 127.0.0.1:$port (data $data)"
