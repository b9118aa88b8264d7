#!/usr/bin/env bash
# docker part of scripts/test-env.sh: make sure a Docker engine answers. Never stops or restarts one.
#
#  1. `docker version` answers (local dockerd, Docker Desktop, DOCKER_HOST, a context): nothing to do.
#  2. DOCKER_HOST or a non-default context is set but does not answer: error (a local daemon would not help).
#  3. Otherwise (root only): install docker.io + iptables with apt if dockerd is missing, then start it
#     (`systemctl start docker` under systemd, else dockerd in the background) and wait for it.
#
# Env: MOOR_DOCKERD_LOG (/var/log/moor-dockerd.log), MOOR_DOCKER_UP_TIMEOUT (60 s),
#      MOOR_DOCKERD_ARGS (extra dockerd flags, e.g. "--iptables=false").
set -euo pipefail
part=docker
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

log=${MOOR_DOCKERD_LOG:-/var/log/moor-dockerd.log}
wait_s=${MOOR_DOCKER_UP_TIMEOUT:-60}
pidfile=/var/run/docker.pid

server_version() { # prints the server version when an engine answers
  command -v docker >/dev/null 2>&1 || return 1
  timeout 20 docker version -f '{{.Server.Version}}' 2>/dev/null
}
endpoint() {
  if [[ -n "${DOCKER_HOST:-}" ]]; then echo "$DOCKER_HOST"; else
    docker context inspect -f '{{.Endpoints.docker.Host}}' 2>/dev/null || echo unix:///var/run/docker.sock
  fi
}
wait_up() { # wait_up <seconds> [pid to watch]; prints the server version once it answers
  local deadline=$((SECONDS + $1)) v
  while ((SECONDS < deadline)); do
    if v=$(server_version); then
      echo "$v"
      return 0
    fi
    if [[ -n "${2:-}" ]] && ! kill -0 "$2" 2>/dev/null; then return 1; fi
    sleep 0.3
  done
  return 1
}

if v=$(server_version); then
  echo "engine $v answering at $(endpoint)"
  exit 0
fi

why=""
if command -v docker >/dev/null 2>&1; then
  why=$(timeout 20 docker version 2>&1 >/dev/null | grep -v '^\s*$' | tail -n 1 || true)
  why=${why:+ ($why)}
  if [[ -n "${DOCKER_HOST:-}" ]]; then
    die "DOCKER_HOST=$DOCKER_HOST is set but no engine answers there$why; start that engine or unset DOCKER_HOST"
  fi
  ctx=${DOCKER_CONTEXT:-$(docker context show 2>/dev/null || echo default)}
  [[ "$ctx" == default ]] ||
    die "docker context '$ctx' ($(endpoint)) does not answer$why; start that engine or run 'docker context use default'"
fi

is_root || die "no Docker engine answers$why and this is not root: start Docker, join the docker group, or run this as root"

lock docker $((wait_s + 300))
if v=$(server_version); then
  echo "engine $v came up meanwhile at $(endpoint)"
  exit 0
fi

did=""
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  t0=$SECONDS
  apt_install docker.io iptables
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is still not on PATH ($PATH)"
  did="installed docker.io in $((SECONDS - t0))s, "
  # Under systemd the package starts the daemon itself.
  if v=$(wait_up 5); then
    echo "${did}engine $v answering at $(endpoint)"
    exit 0
  fi
fi

# A daemon that is still starting: wait for it, never restart it.
if [[ -s $pidfile ]] && pid=$(cat "$pidfile") && kill -0 "$pid" 2>/dev/null; then
  if v=$(wait_up "$wait_s"); then
    echo "${did}dockerd (pid $pid) was starting; engine $v now answering"
    exit 0
  fi
  tail_log "$log"
  die "dockerd (pid $pid, $pidfile) runs but $(endpoint) did not answer within ${wait_s}s; look at its log, this script leaves it alone"
fi

t0=$SECONDS
pid=""
if [[ -d /run/systemd/system ]] && systemctl cat docker.service >/dev/null 2>&1; then
  systemctl start docker.service 9>&- || {
    journalctl -u docker.service -n 25 --no-pager >&2 || true
    die "systemctl start docker failed (see journalctl -u docker.service)"
  }
  how="started docker.service"
else
  mkdir -p "$(dirname "$log")"
  echo "=== $(date -Is) test-env: starting dockerd" >>"$log"
  # shellcheck disable=SC2086 # MOOR_DOCKERD_ARGS is a list of flags
  setsid nohup dockerd ${MOOR_DOCKERD_ARGS:-} >>"$log" 2>&1 </dev/null 9>&- &
  pid=$!
  how="started dockerd (pid $pid, log $log)"
fi
if ! v=$(wait_up "$wait_s" "$pid"); then
  tail_log "$log"
  if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then die "dockerd exited during startup (log: $log)"; fi
  die "$how but the engine did not answer within ${wait_s}s (log: $log)"
fi
echo "${did}${how}; engine $v answering after $((SECONDS - t0))s"
