#!/usr/bin/env bash
# engine-current part of scripts/test-env.sh: a current Docker engine (Debian trixie's docker.io,
# Docker 26, API 1.45, with trixie's containerd) beside bookworm's Docker 20.10, so that the tests
# run on the engines people use (Docker 26 to 29) as well as on engine A's 20.10 (API 1.41).
#
# The engine is unpacked, never installed: `apt-get download docker.io containerd` from Debian's
# trixie suite with a private package list (the system's apt sources and lists are not touched),
# `dpkg -x` into /opt/moor-docker-current. runc and docker-init stay bookworm's (trixie's runc
# needs a newer glibc). Nothing comes from Docker Hub.
#
# Like engine B it runs in a network namespace of its own ("moor-engine-current", veth pair:
# this machine 10.213.254.1, the engine 10.213.254.2) with its own containerd, data root, exec
# root, pid files, socket, config files, docker0 and iptables: engine A (docker0, its iptables
# chains) is never touched (see engine-b.sh for why that needs a namespace). Its networks come
# from 10.214.0.0/16 (docker0 10.214.0.1/24), routed from this machine through the veth, so this
# machine reaches its containers' own addresses as it reaches engine A's (a DOCKER-USER rule in
# the namespace lets connections from this machine in).
#
#   engine-current.sh [start]  unpack the engine (once), start it (idempotent), then copy the
#                              moor-fixture images from engine A (only changed ones)
#   engine-current.sh stop     stop it and remove its network namespace (data is kept)
#   engine-current.sh status   print its state; exit 0 when it answers, 3 when not
#   engine-current.sh env      exports for it over its unix socket
#   engine-current.sh purge    stop it and delete its data and state (the unpacked engine stays)
#
# Published ports of its containers are on 10.213.254.2:<port>, not on 127.0.0.1. Its containers
# reach this machine (and engine A's published ports) at 10.213.254.1; nothing beyond it (no DNS, no
# registry: a pull fails at once).
#
# Env: MOOR_ENGINE_CURRENT_SOCK (/run/moor-engine-current.sock), MOOR_ENGINE_CURRENT_BASE
#      (/var/lib/moor-engine-current), MOOR_ENGINE_CURRENT_LOG (/var/log/moor-engine-current.log),
#      MOOR_ENGINE_CURRENT_SUBNET (10.213.254), MOOR_ENGINE_CURRENT_POOL (10.214: its networks are
#      in 10.214.0.0/16), MOOR_ENGINE_CURRENT_PREFIX (/opt/moor-docker-current),
#      MOOR_ENGINE_CURRENT_SUITE (trixie), MOOR_DEBIAN_MIRROR (http://deb.debian.org/debian),
#      MOOR_ENGINE_CURRENT_SYNC (1; 0 = no image copy), MOOR_ENGINE_CURRENT_TIMEOUT (60 s).
set -euo pipefail
part=engine-current
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

name=moor-engine-current
netns=$name
sock=${MOOR_ENGINE_CURRENT_SOCK:-/run/$name.sock}
base=${MOOR_ENGINE_CURRENT_BASE:-/var/lib/$name}
exec_root=/run/$name
pidfile=/run/$name.pid
ctr_state=/run/$name-containerd
ctr_sock=$ctr_state/containerd.sock
ctr_pidfile=/run/$name-containerd.pid
log=${MOOR_ENGINE_CURRENT_LOG:-/var/log/$name.log}
subnet=${MOOR_ENGINE_CURRENT_SUBNET:-10.213.254}
pool=${MOOR_ENGINE_CURRENT_POOL:-10.214}
ip_addr=$subnet.2
veth=moorc-host # this machine's side; the engine's side is eth0 inside the namespace
prefix=${MOOR_ENGINE_CURRENT_PREFIX:-/opt/moor-docker-current}
suite=${MOOR_ENGINE_CURRENT_SUITE:-trixie}
mirror=${MOOR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
wait_s=${MOOR_ENGINE_CURRENT_TIMEOUT:-60}
dockerd=$prefix/usr/sbin/dockerd
containerd=$prefix/usr/bin/containerd

c_up() { engine_version "$sock"; } # prints the engine's server version when it answers
our_pid() { pid_of "$pidfile" "--pidfile $pidfile"; }
ctr_pid() { pid_of "$ctr_pidfile" "$base/containerd.toml"; }
endpoints() { echo -n "unix://$sock; published ports on $ip_addr; networks in $pool.0.0/16"; }
in_ns() { nsenter --net="/run/netns/$netns" "$@"; }

# Downloads trixie's docker.io and containerd packages and unpacks them into $prefix (once).
unpack() {
  [[ -x $dockerd && -x $containerd ]] && return 0
  is_root || die "unpacking the current engine into $prefix needs root"
  command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 ||
    die "apt-get and dpkg are needed to fetch Debian $suite's docker.io"
  local work t0
  t0=$(now_us)
  work=$(mktemp -d "/var/tmp/$name.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
  echo "deb $mirror $suite main" >"$work/sources.list"
  local o=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
  note "downloading Debian $suite's docker.io and containerd (one time)"
  apt-get "${o[@]}" -q update >"$work/apt.log" 2>&1 || {
    tail -n 5 "$work/apt.log" >&2
    die "apt-get update for $suite from $mirror failed (log above)"
  }
  (cd "$work/debs" && apt-get "${o[@]}" -q download docker.io containerd) >>"$work/apt.log" 2>&1 || {
    tail -n 5 "$work/apt.log" >&2
    die "apt-get download docker.io containerd ($suite) failed (log above)"
  }
  rm -rf "$prefix.new"
  mkdir -p "$prefix.new"
  for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$prefix.new"; done
  "$prefix.new/usr/sbin/dockerd" --version >/dev/null 2>&1 || die "the unpacked dockerd ($suite) does not run on this machine"
  rm -rf "$prefix"
  mv "$prefix.new" "$prefix"
  note "unpacked $("$dockerd" --version) into $prefix in $(secs_since "$t0")"
}

write_configs() { # never read /etc/docker/daemon.json or /etc/containerd/config.toml
  mkdir -p "$base/docker" "$base/containerd" "$exec_root" "$ctr_state" "$(dirname "$log")"
  cat >"$base/containerd.toml" <<EOF
version = 2
root = "$base/containerd"
state = "$ctr_state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ctr_sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$base/containerd-opt"
EOF
  cat >"$base/daemon.json" <<EOF
{
  "bip": "$pool.0.1/24",
  "default-address-pools": [{ "base": "$pool.0.0/16", "size": 24 }]
}
EOF
}

start() {
  local v pid started="" copied=""
  if ! v=$(c_up); then
    is_root || die "starting the current engine needs root: run this as root"
    command -v runc >/dev/null 2>&1 || die "runc not found: run scripts/test-env.sh docker first (bookworm's docker.io brings it)"
    lock engine-current $((wait_s + 600))
    unpack
    if pid=$(our_pid); then # started but not answering yet (or hung): wait, never restart it
      wait_for "dockerd for $name" "$pid" "$wait_s" "$log" c_up
      v=$(c_up)
    else
      local t0 path
      t0=$(now_us)
      write_configs
      engine_netns "$netns" "$veth" "$subnet"
      # Nothing beyond this machine (no DNS, no registry): a pull or lookup fails at once, not after 20 s.
      ip -n "$netns" route replace unreachable default
      # This machine reaches the engine's networks through the veth; while it is down they are unreachable.
      ip route replace "$pool.0.0/16" via "$ip_addr" dev "$veth"
      keep_unreachable "$pool.0.0/16"
      echo "=== $(date -Is) test-env: starting $name" >>"$log"
      # The unpacked binaries first (containerd-shim-runc-v2, docker-proxy), then bookworm's runc.
      path=$prefix/usr/bin:$prefix/usr/sbin:$PATH
      if ! pid=$(ctr_pid); then
        rm -f "$ctr_sock"
        PATH=$path setsid nohup nsenter --net="/run/netns/$netns" "$containerd" --config "$base/containerd.toml" \
          >>"$log" 2>&1 </dev/null 9>&- &
        pid=$!
        echo "$pid" >"$ctr_pidfile"
        wait_for "containerd for $name" "$pid" "$wait_s" "$log" test -S "$ctr_sock"
      fi
      rm -f "$sock"
      PATH=$path setsid nohup nsenter --net="/run/netns/$netns" "$dockerd" --config-file "$base/daemon.json" \
        --data-root "$base/docker" --exec-root "$exec_root" --pidfile "$pidfile" -H "unix://$sock" \
        --containerd "$ctr_sock" --containerd-namespace "$name" --containerd-plugins-namespace "$name-plugins" \
        >>"$log" 2>&1 </dev/null 9>&- &
      pid=$!
      wait_for "dockerd for $name" "$pid" "$wait_s" "$log" c_up
      v=$(c_up)
      # Connections from this machine to the containers' own addresses (engine A allows them too).
      in_ns iptables -C DOCKER-USER -i eth0 -j ACCEPT 2>/dev/null ||
        in_ns iptables -I DOCKER-USER -i eth0 -j ACCEPT ||
        die "cannot add the DOCKER-USER rule in namespace $netns"
      started="started dockerd $v (pid $(our_pid || echo "$pid")) in $(secs_since "$t0")"
    fi
  fi
  [[ ${MOOR_ENGINE_CURRENT_SYNC:-1} == 0 ]] || copied=$(sync_fixture_images "$sock" "$name")
  echo "${started:-engine $v answering}${copied}: $(endpoints)"
}

stop() {
  local pid did="not running"
  if pid=$(our_pid); then
    stop_pid "$pid" dockerd
    did="stopped dockerd (pid $pid)"
  fi
  if pid=$(ctr_pid); then
    stop_pid "$pid" containerd
    did="$did and containerd (pid $pid)"
  fi
  rm -f "$sock" "$ctr_pidfile"
  drop_netns "$netns" "$veth"
  keep_unreachable "$subnet.0/24"
  keep_unreachable "$pool.0.0/16"
  echo "$did; $sock and $ip_addr gone (data kept in $base)"
}

status() { engine_status "$sock" "$pidfile" "$(endpoints)"; }

case "${1:-start}" in
  start) start ;;
  stop)
    is_root || die "stopping the current engine needs root"
    stop
    ;;
  status) status ;;
  env) echo "export DOCKER_HOST=unix://$sock" ;;
  purge)
    is_root || die "purging the current engine needs root"
    stop >/dev/null
    ip route del unreachable "$subnet.0/24" metric 4000 2>/dev/null || true
    ip route del unreachable "$pool.0.0/16" metric 4000 2>/dev/null || true
    rm -rf --one-file-system "$base" "$exec_root" "$ctr_state" # never cross into a leftover mount
    echo "stopped and deleted $base, $exec_root and $ctr_state (the engine stays unpacked in $prefix)"
    ;;
  *) die "unknown command '$1' (start|stop|status|env|purge)" ;;
esac
