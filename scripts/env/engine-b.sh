#!/usr/bin/env bash
# engine-b part of scripts/test-env.sh: a second, independent Docker daemon on this machine that
# stands for a second host. It runs in its own network namespace "moor-engine-b" with its own IP
# (10.213.255.2, reachable from this machine over a veth pair; this machine is 10.213.255.1 from
# B's side), its own docker0/iptables/port space, data root, exec root, pid file, containerd
# namespace and config file. Engine A (the default engine) is never touched.
#
# Why its own network namespace: a second dockerd in the host namespace deletes the interface
# named docker0 (engine A's bridge) when started with --bridge=none or restarted with
# --default-address-pool (moby removeDefaultBridgeInterface()), and with --iptables=true it
# flushes engine A's DOCKER chains. Inside its own namespace none of that reaches engine A.
# It is entered with nsenter --net only: `ip netns exec` remounts /sys, which hides the cgroup v1
# mounts ("Devices cgroup isn't mounted").
#
#   engine-b.sh [start]  start B (idempotent), then copy the moor-fixture images from engine A
#                        (docker save | load: same image IDs on both engines; only changed ones)
#   engine-b.sh stop     stop B and remove its network namespace (data is kept): "the host went away"
#   engine-b.sh status   print its state; exit 0 when B answers, 3 when not
#   engine-b.sh env      exports for B over its unix socket
#   engine-b.sh env-tls  exports for B over tcp://10.213.255.2:2376 with mutual TLS
#   engine-b.sh purge    stop B and delete its data, state and certificates
#
# Published ports of B's containers are on 10.213.255.2:<port>, not on 127.0.0.1. B's containers
# reach this machine (and A's published ports) at 10.213.255.1; B has no route beyond this machine.
#
# Env: MOOR_ENGINE_B_SOCK (/run/moor-engine-b.sock), MOOR_ENGINE_B_BASE (/var/lib/moor-engine-b),
#      MOOR_ENGINE_B_LOG (/var/log/moor-engine-b.log), MOOR_ENGINE_B_SUBNET (10.213.255),
#      MOOR_ENGINE_B_TLS_PORT (2376; 0 = no TCP listener), MOOR_ENGINE_B_SYNC (1; 0 = no image copy),
#      MOOR_ENGINE_B_TIMEOUT (60 s).
set -euo pipefail
part=engine-b
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

name=moor-engine-b
netns=$name
sock=${MOOR_ENGINE_B_SOCK:-/run/$name.sock}
base=${MOOR_ENGINE_B_BASE:-/var/lib/$name}
exec_root=/run/$name
pidfile=/run/$name.pid
log=${MOOR_ENGINE_B_LOG:-/var/log/$name.log}
subnet=${MOOR_ENGINE_B_SUBNET:-10.213.255}
b_ip=$subnet.2
veth=moorb-host # this machine's side; B's side is eth0 inside the namespace
tls_port=${MOOR_ENGINE_B_TLS_PORT:-2376}
tls=$base/tls
wait_s=${MOOR_ENGINE_B_TIMEOUT:-60}

b() { engine_cli "$sock" "$@"; }
b_up() { engine_version "$sock"; } # prints B's server version when it answers
our_pid() { pid_of "$pidfile" "--pidfile $pidfile"; } # the pid of B's dockerd if it runs (and really is ours)
endpoints() {
  echo -n "unix://$sock"
  [[ $tls_port == 0 ]] || echo -n ", tcp://$b_ip:$tls_port (mutual TLS, client certs $tls/client)"
  echo -n "; published ports on $b_ip"
}

make_certs() { # throwaway CA + server and client certificates, made once
  [[ -s $tls/server-cert.pem && -s $tls/client/cert.pem ]] && grep -qx "$b_ip" "$tls/ip" 2>/dev/null && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not found: apt-get install openssl, or set MOOR_ENGINE_B_TLS_PORT=0"
  rm -rf "$tls"
  mkdir -p "$tls/client"
  chmod 700 "$tls"
  (
    cd "$tls"
    openssl genrsa -out ca-key.pem 2048
    openssl req -x509 -new -key ca-key.pem -sha256 -days 3650 -subj "/CN=$name test CA" -out ca.pem
    openssl genrsa -out server-key.pem 2048
    openssl req -new -key server-key.pem -subj "/CN=$b_ip" -out server.csr
    printf 'subjectAltName=IP:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' "$b_ip" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 -sha256 \
      -extfile server.ext -out server-cert.pem
    openssl genrsa -out client/key.pem 2048
    openssl req -new -key client/key.pem -subj "/CN=$name-client" -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 -sha256 \
      -extfile client.ext -out client/cert.pem
    cp ca.pem client/ca.pem
    rm -f ./*.csr ./*.ext ca.srl
    echo "$b_ip" >ip
  ) >"$base/openssl.log" 2>&1 || {
    cat "$base/openssl.log" >&2
    die "generating TLS certificates in $tls failed"
  }
}

start() {
  local v pid started="" copied=""
  if ! v=$(b_up); then
    is_root || die "starting a second dockerd needs root: run this as root"
    command -v dockerd >/dev/null 2>&1 || die "dockerd not installed: run scripts/test-env.sh docker first"
    lock engine-b $((wait_s + 60))
    if pid=$(our_pid); then # started but not answering yet (or hung): wait, never restart it
      local deadline=$((SECONDS + wait_s))
      until v=$(b_up); do
        ((SECONDS < deadline)) || {
          tail_log "$log"
          die "dockerd (pid $pid) runs but $sock does not answer; stop it with scripts/test-env.sh stop-engine-b"
        }
        sleep 0.3
      done
    else
      local t0 args
      t0=$(now_us)
      mkdir -p "$base/docker" "$exec_root" "$(dirname "$log")"
      [[ -s $base/daemon.json ]] || echo '{}' >"$base/daemon.json" # never read /etc/docker/daemon.json
      engine_netns "$netns" "$veth" "$subnet"
      args=(--config-file "$base/daemon.json" --data-root "$base/docker" --exec-root "$exec_root"
        --pidfile "$pidfile" -H "unix://$sock"
        --containerd-namespace "$name" --containerd-plugins-namespace "$name-plugins")
      if [[ $tls_port != 0 ]]; then
        make_certs
        args+=(-H "tcp://$b_ip:$tls_port" --tlsverify --tlscacert "$tls/ca.pem"
          --tlscert "$tls/server-cert.pem" --tlskey "$tls/server-key.pem")
      fi
      rm -f "$sock"
      echo "=== $(date -Is) test-env: starting $name" >>"$log"
      setsid nohup nsenter --net="/run/netns/$netns" dockerd "${args[@]}" >>"$log" 2>&1 </dev/null 9>&- &
      pid=$!
      wait_for "dockerd for $name" "$pid" "$wait_s" "$log" b_up
      v=$(b_up)
      started="started dockerd $v (pid $(our_pid || echo "$pid")) in $(secs_since "$t0")"
    fi
  fi
  [[ ${MOOR_ENGINE_B_SYNC:-1} == 0 ]] || copied=$(sync_fixture_images "$sock" "$name")
  echo "${started:-engine $v answering}${copied}: $(endpoints)"
}

stop() {
  local pid did="not running"
  if pid=$(our_pid); then
    stop_pid "$pid" dockerd
    did="stopped dockerd (pid $pid)"
  fi
  rm -f "$sock"
  drop_netns "$netns" "$veth"
  keep_unreachable "$subnet.0/24"
  echo "$did; $sock and $b_ip gone (data kept in $base)"
}

status() { engine_status "$sock" "$pidfile" "$(endpoints)"; }

case "${1:-start}" in
  start) start ;;
  stop) is_root || die "stopping engine B needs root"; stop ;;
  status) status ;;
  env) echo "export DOCKER_HOST=unix://$sock" ;;
  env-tls)
    [[ $tls_port != 0 ]] || die "TLS listener disabled (MOOR_ENGINE_B_TLS_PORT=0)"
    echo "export DOCKER_HOST=tcp://$b_ip:$tls_port DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$tls/client"
    ;;
  purge)
    is_root || die "purging engine B needs root"
    stop >/dev/null
    ip route del unreachable "$subnet.0/24" metric 4000 2>/dev/null || true
    rm -rf --one-file-system "$base" "$exec_root" # never cross into a leftover mount
    echo "stopped and deleted $base and $exec_root"
    ;;
  *) die "unknown command '$1' (start|stop|status|env|env-tls|purge)" ;;
esac
