#!/usr/bin/env bash
# test-env.sh - the servers the tests need, on this machine. Idempotent: parts already in place cost
# a few milliseconds. One summary line per part with its time (MOOR_ENV_QUIET=1: none); errors go
# to stderr with what to do. Needs root only to install or start something.
#
#   scripts/test-env.sh [PART...]    PART: docker fixtures postgres nats engine-b engine-current sshd
#                                    (none: docker fixtures postgres nats sshd)
#   scripts/test-env.sh start-engine-b | stop-engine-b | status-engine-b | purge-engine-b
#   scripts/test-env.sh start-engine-current | stop-engine-current | status-engine-current | purge-engine-current
#   scripts/test-env.sh stop-postgres | stop-nats
#
#   docker    a Docker engine answers (installs docker.io / starts dockerd if needed)
#   fixtures  moor-fixture/app:1, app:2, crashy:1 built offline from busybox-static (scripts/fixtures/)
#   postgres  PostgreSQL 15 on 127.0.0.1:55432, user/password/database moor (data /var/tmp/moor-test-pg)
#   nats      nats-server on 127.0.0.1:54222 (pid file /var/tmp/moor-test-nats.pid)
#   engine-b  a second engine standing for a second host: unix:///run/moor-engine-b.sock and
#             tcp://10.213.255.2:2376 (mutual TLS, certs /var/lib/moor-engine-b/tls/client),
#             with a copy of the fixture images; implies docker and fixtures
#   sshd      OpenSSH's sshd and client tools (Debian's openssh-server) for the ssh:// tests, which
#             start their own throwaway sshd on 127.0.0.1; nothing is left running
#   engine-current  a current engine (Debian trixie's Docker 26, API 1.45, unpacked once into
#             /opt/moor-docker-current) beside engine A's 20.10: unix:///run/moor-engine-current.sock,
#             published ports on 10.213.254.2, with a copy of the fixture images; implies docker and fixtures
#
# Tests find these endpoints through test/support/env.ts. Details and env vars: scripts/env/*.sh.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
commands=(start-engine-b stop-engine-b status-engine-b purge-engine-b
  start-engine-current stop-engine-current status-engine-current purge-engine-current stop-postgres stop-nats)
parts=(docker fixtures postgres nats engine-b engine-current sshd)

usage() {
  echo "usage: scripts/test-env.sh [${parts[*]}]...$(printf ' | %s' "${commands[@]}")" >&2
  exit 2
}

# run_part <part> [args...]: runs scripts/env/<part>.sh, prints "test-env: <part>: <summary> (<time>)".
run_part() {
  local p=$1 t0 out d
  shift
  t0=${EPOCHREALTIME//[.,]/}
  if ! out=$(bash "$here/env/$p.sh" "$@"); then
    [[ -z $out ]] || echo "$out" >&2
    echo "test-env: $p: FAILED (see the error above)" >&2
    exit 1
  fi
  d=$((${EPOCHREALTIME//[.,]/} - t0))
  [[ ${MOOR_ENV_QUIET:-0} == 1 ]] || printf 'test-env: %s: %s (%d.%02ds)\n' "$p" "$out" $((d / 1000000)) $((d % 1000000 / 10000))
}

if [[ " ${commands[*]} " == *" ${1:-} "* ]]; then
  for c in "$@"; do
    [[ " ${commands[*]} " == *" $c "* ]] || { echo "test-env: '$c' cannot follow '$1' (commands and parts do not mix)" >&2; usage; }
  done
  for c in "$@"; do
    case "$c" in
      start-engine-* | stop-engine-* | purge-engine-*) run_part "${c#*-}" "${c%%-*}" ;;
      status-engine-*) bash "$here/env/${c#*-}.sh" status ;;
      stop-postgres) run_part postgres stop ;;
      stop-nats) run_part nats stop ;;
    esac
  done
  exit 0
fi
case "${1:-}" in
  -h | --help | help) sed -n '2,/^set /{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

want=("$@")
((${#want[@]})) || want=(docker fixtures postgres nats sshd)
declare -A asked=()
for w in "${want[@]}"; do
  [[ " ${parts[*]} " == *" $w "* ]] || { echo "test-env: unknown part '$w'" >&2; usage; }
  asked[$w]=1
done
# Dependencies: the fixtures are built in engine A; engines B and current get copies of them.
[[ -z ${asked[engine-b]:-}${asked[engine-current]:-} ]] || asked[fixtures]=1
[[ -z ${asked[fixtures]:-} ]] || asked[docker]=1

for p in "${parts[@]}"; do
  [[ -z ${asked[$p]:-} ]] || run_part "$p"
done
