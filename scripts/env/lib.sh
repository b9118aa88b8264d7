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
