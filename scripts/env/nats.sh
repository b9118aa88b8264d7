#!/usr/bin/env bash
# nats part of scripts/test-env.sh: Debian's nats-server (installed with apt if missing) on
# 127.0.0.1:54222 with JetStream, started in the background and left running.
# Pid file /var/tmp/moor-test-nats.pid, log /var/tmp/moor-test-nats.log, JetStream store
# /var/tmp/moor-test-nats/.
#
#   nats.sh [start]   start (idempotent)
#   nats.sh stop      stop our server
#
# Env: MOOR_TEST_NATS_URL (use that server instead: only checked, nothing started).
set -euo pipefail
part=nats
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port=54222
pidfile=/var/tmp/moor-test-nats.pid
log=/var/tmp/moor-test-nats.log
store=/var/tmp/moor-test-nats

# nats_info <host> <port>: prints the server version when a NATS server greets us there.
# shellcheck disable=SC2016 # $1/$2 expand in the inner shell
nats_info() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r -t 2 line <&3 && printf "%s\n" "$line"' _ "$1" "$2" \
    2>/dev/null | sed -nE 's/^INFO .*"version":"([^"]+)".*/\1/p' | grep .
}
our_pid() { # prints the pid of our server if it runs
  local pid
  [[ -s $pidfile ]] && pid=$(cat "$pidfile") && [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "-P $pidfile" || return 1
  echo "$pid"
}

if [[ -n "${MOOR_TEST_NATS_URL:-}" ]]; then
  hostport=$(sed -E 's#^[a-z]+://([^@/]*@)?([^/?,]*).*#\2#' <<<"$MOOR_TEST_NATS_URL")
  host=${hostport%:*} p=${hostport##*:}
  [[ $hostport == *:* ]] || p=4222
  v=$(nats_info "$host" "$p") || die "MOOR_TEST_NATS_URL is set but no NATS server answers at $host:$p: start it or unset MOOR_TEST_NATS_URL"
  echo "using MOOR_TEST_NATS_URL (nats-server $v at $host:$p); not starting a server"
  exit 0
fi

case "${1:-start}" in
  start) ;;
  stop)
    if pid=$(our_pid); then
      kill -TERM "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      ! kill -0 "$pid" 2>/dev/null || die "nats-server (pid $pid) did not stop within 5 s"
      echo "stopped nats-server (pid $pid)"
    else
      echo "not running"
    fi
    exit 0
    ;;
  *) die "unknown command '$1' (start|stop)" ;;
esac

if v=$(nats_info 127.0.0.1 "$port"); then
  echo "nats-server $v answering at 127.0.0.1:$port"
  exit 0
fi

lock nats 600
did=""
if ! command -v nats-server >/dev/null 2>&1; then
  apt_install nats-server
  command -v nats-server >/dev/null 2>&1 || die "nats-server installed but not on PATH ($PATH)"
  did="installed nats-server, "
fi
if pid=$(our_pid); then
  note "nats-server (pid $pid) runs but does not answer yet; waiting"
else
  tcp_open 127.0.0.1 "$port" &&
    die "something else listens on 127.0.0.1:$port and does not speak NATS: stop it, or point the tests elsewhere with MOOR_TEST_NATS_URL"
  mkdir -p "$store"
  echo "=== $(date -Is) test-env: starting nats-server" >>"$log"
  setsid nohup nats-server -a 127.0.0.1 -p "$port" -P "$pidfile" -js -sd "$store" >>"$log" 2>&1 </dev/null 9>&- &
  pid=$!
  did+="started (pid $pid)"
fi
for _ in $(seq 100); do
  if v=$(nats_info 127.0.0.1 "$port"); then
    echo "nats-server $v ${did:-came up}; answering at 127.0.0.1:$port (log $log)"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || { tail_log "$log"; die "nats-server exited during startup (log: $log)"; }
  sleep 0.1
done
tail_log "$log"
die "nats-server (pid $pid) did not answer on 127.0.0.1:$port within 10 s (log: $log)"
