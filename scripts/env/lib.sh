# shellcheck shell=bash
# Helpers shared by the parts of scripts/test-env.sh. Sourced, never executed.
# A part prints progress notes and errors on stderr and its one-line summary on stdout
# (the dispatcher adds the part name and the time it took).

: "${part:?set part= before sourcing lib.sh}"
shopt -s inherit_errexit # `set -e` also inside $(...)

die() {
  echo "test-env: $part: error: $*" >&2
  exit 1
}
note() { [[ "${MOOR_ENV_QUIET:-0}" == 1 ]] || echo "test-env: $part: $*" >&2; }
is_root() { [[ $(id -u) == 0 ]]; }

# Microseconds since the epoch (bash 5), for timings.
now_us() { echo "${EPOCHREALTIME//[.,]/}"; }
# secs_since <start in µs> -> "1.23s"
secs_since() {
  local d=$(($(now_us) - $1))
  printf '%d.%02ds' $((d / 1000000)) $((d % 1000000 / 10000))
}

# lock <name> <seconds>: one holder at a time on this machine (released when the process exits).
lock() {
  local dir=/run/lock
  [[ -d $dir && -w $dir ]] || dir=/tmp
  exec 9>"$dir/moor-test-env-$1.lock"
  flock -w "$2" 9 || die "timed out after $2s waiting for $dir/moor-test-env-$1.lock (another setup is running?)"
}

# apt_install <package>...: installs Debian packages (root only). Tries with the current package
# lists first and refreshes them (apt-get update) only if that fails; the log stays in /var/tmp.
apt_install() {
  local log=/var/tmp/moor-test-env-apt.log
  is_root || die "$* not installed and not root: install it yourself (apt-get install $*) or run this as root"
  command -v apt-get >/dev/null 2>&1 || die "$* not installed and apt-get not available: install $* yourself"
  note "installing $* with apt-get (one time; log $log)"
  local apt=(apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
  local install=(env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -q --no-install-recommends "$@")
  # 9>&-: a service the package starts must not inherit our lock.
  if ! "${install[@]}" >"$log" 2>&1 9>&-; then
    { "${apt[@]}" update -q && "${install[@]}"; } >>"$log" 2>&1 9>&- || {
      tail -n 20 "$log" >&2
      die "apt-get install $* failed (full log: $log)"
    }
  fi
}

# tcp_open <host> <port>: true when something accepts a TCP connection there (1 s timeout).
# shellcheck disable=SC2016 # $1/$2 expand in the inner shell
tcp_open() { timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

# tail_log <file>: last lines of a log on stderr, for error messages.
tail_log() { if [[ -f $1 ]]; then { echo "--- last lines of $1:"; tail -n 25 "$1"; } >&2; fi; }

# --- Extra engines (engine-b.sh, engine-current.sh): a dockerd of its own in a network namespace ---

# The fixture images every extra engine gets a copy of (built in engine A by fixtures.sh).
fixture_images=(moor-fixture/app:1 moor-fixture/app:2 moor-fixture/crashy:1)

# engine_cli <socket> <docker args...>: the docker CLI on that engine, whatever DOCKER_* say.
engine_cli() {
  local sock=$1
  shift
  env -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH DOCKER_HOST="unix://$sock" docker "$@"
}
# engine_version <socket>: prints the engine's server version when it answers there.
engine_version() {
  [[ -S $1 ]] || return 1
  timeout 20 env -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH DOCKER_HOST="unix://$1" \
    docker version -f '{{.Server.Version}}' 2>/dev/null
}
# pid_of <pid file> <marker>: prints the pid in the file if that process runs and its command line
# holds <marker> (a pid file left by a dead process, its pid now someone else's, does not count).
pid_of() {
  local pid
  [[ -s $1 ]] && pid=$(cat "$1") && [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2" || return 1
  echo "$pid"
}
# stop_pid <pid> <what>: SIGTERM, then SIGKILL after 45 s.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || return 0
  local deadline=$((SECONDS + 45))
  while kill -0 "$1" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "test-env: $part: warning: $2 (pid $1) ignored SIGTERM for 45s; sending SIGKILL" >&2
      kill -KILL "$1"
      sleep 1
      return 0
    fi
    sleep 0.1
  done
}

# wait_for <what> <pid> <seconds> <log> <probe...>: until the probe succeeds; fails with the log's
# tail when process <pid> exits first or the time is up.
wait_for() {
  local what=$1 pid=$2 secs=$3 log=$4 deadline=$((SECONDS + $3))
  shift 4
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || {
      tail_log "$log"
      die "$what exited during startup (log: $log)"
    }
    ((SECONDS < deadline)) || {
      tail_log "$log"
      die "$what (pid $pid) did not answer within ${secs}s (log: $log)"
    }
    sleep 0.1
  done
}

# engine_status <socket> <pid file> <where>: one line on the engine's state (its dockerd was started
# with --pidfile <pid file>); exit 3 when it does not answer.
engine_status() {
  local v pid
  pid=$(pid_of "$2" "--pidfile $2") || pid=""
  if v=$(engine_version "$1"); then
    echo "running (pid ${pid:-?}, engine $v, $(engine_cli "$1" ps -q | wc -l) running container(s)): $3"
  else
    echo "not answering at unix://$1 ($(if [[ -n $pid ]]; then echo "dockerd runs but the socket does not answer"; else echo "not running"; fi))"
    return 3
  fi
}

# keep_unreachable <cidr>: while the engine is down its addresses must fail fast ("No route to
# host"), like a host that went away, instead of following the default route out of this machine.
# The routes of the veth (metric 0) win while the engine runs.
keep_unreachable() {
  ip route show type unreachable "$1" | grep -q . ||
    ip route add unreachable "$1" metric 4000 2>/dev/null ||
    echo "test-env: $part: warning: could not add 'unreachable $1' route; $1 follows the default route while the engine is down" >&2
}

# engine_netns <netns> <veth> <subnet>: the network namespace <netns> joined to this machine by a veth
# pair: this machine is <subnet>.1 on <veth>, the namespace <subnet>.2 on its eth0, its default route.
# It is entered with nsenter --net only: `ip netns exec` remounts /sys, which hides the cgroup v1
# mounts ("Devices cgroup isn't mounted").
engine_netns() {
  local netns=$1 veth=$2 subnet=$3
  command -v ip >/dev/null 2>&1 || die "ip not found: apt-get install iproute2"
  command -v nsenter >/dev/null 2>&1 || die "nsenter not found: apt-get install util-linux"
  [[ -e /run/netns/$netns ]] || ip netns add "$netns" || die "cannot create network namespace $netns"
  if ! ip link show "$veth" >/dev/null 2>&1; then
    ip link add "$veth" type veth peer name eth0 netns "$netns" || die "cannot create veth pair $veth <-> $netns/eth0"
  fi
  ip addr replace "$subnet.1/24" dev "$veth"
  ip link set "$veth" up
  ip -n "$netns" link set lo up
  ip -n "$netns" addr replace "$subnet.2/24" dev eth0
  ip -n "$netns" link set eth0 up
  ip -n "$netns" route replace default via "$subnet.1"
  keep_unreachable "$subnet.0/24"
}
# drop_netns <netns> <veth>: removing the namespace also removes the veth pair, its routes and
# everything the engine made inside it.
drop_netns() {
  if [[ -e /run/netns/$1 ]]; then ip netns del "$1" 2>/dev/null || true; fi
  if ip link show "$2" >/dev/null 2>&1; then ip link del "$2" 2>/dev/null || true; fi
}

# sync_fixture_images <socket> <engine name>: copies the fixture images from engine A into the engine
# at <socket> when their IDs differ (docker save | docker load: the same image IDs on both engines);
# prints what it did ("; copied N image(s) ...") or nothing.
sync_fixture_images() {
  local sock=$1 name=$2 ref ida idb need=() old=() t0 on_a on_x
  # one call per engine: "repo:tag id" of every moor-fixture image
  on_a=$(docker images --no-trunc --filter 'reference=moor-fixture/*' --format '{{.Repository}}:{{.Tag}} {{.ID}}' 2>&1) ||
    die "engine A (DOCKER_HOST=${DOCKER_HOST:-<default>}) does not answer: run scripts/test-env.sh docker ($on_a)"
  on_x=$(engine_cli "$sock" images --no-trunc --filter 'reference=moor-fixture/*' --format '{{.Repository}}:{{.Tag}} {{.ID}}')
  for ref in "${fixture_images[@]}"; do
    ida=$(awk -v r="$ref" '$1 == r { print $2 }' <<<"$on_a")
    [[ -n $ida ]] || die "image $ref missing on engine A: run scripts/test-env.sh fixtures first"
    idb=$(awk -v r="$ref" '$1 == r { print $2 }' <<<"$on_x")
    if [[ $ida != "$idb" ]]; then
      need+=("$ref")
      [[ -z $idb ]] || old+=("$idb")
    fi
  done
  ((${#need[@]})) || return 0
  t0=$(now_us)
  docker save "${need[@]}" | engine_cli "$sock" load -q >/dev/null || die "docker save | docker load into $name failed"
  for idb in "${old[@]}"; do # drop replaced images unless still tagged or in use
    [[ -n "$(engine_cli "$sock" image inspect -f '{{join .RepoTags ","}}' "$idb" 2>/dev/null)" ]] ||
      engine_cli "$sock" rmi "$idb" >/dev/null 2>&1 || true
  done
  echo -n "; copied ${#need[@]} image(s) from engine A in $(secs_since "$t0")"
}
