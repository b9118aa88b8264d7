#!/usr/bin/env bash
# sshd part of scripts/test-env.sh: OpenSSH's server and client tools for the tests of ssh:// hosts
# (Debian's openssh-server, installed with apt if /usr/sbin/sshd or a client tool is missing).
# Nothing is left running: each test starts its own throwaway sshd on 127.0.0.1 with throwaway host
# and user keys and an ssh-agent (test/support/fleet-ssh.ts). The package's own service is kept from
# starting while it installs (a policy-rc.d that refuses, when there is none) and, under systemd,
# disabled afterwards: nothing listens on port 22 because of this script.
#
# Checks that sshd can run here: `sshd -t` on a loopback-only configuration with a throwaway host key.
set -euo pipefail
part=sshd
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sshd=/usr/sbin/sshd
tools=(ssh-keygen ssh-agent ssh-add)

missing() { # prints what is missing, nothing when all is there
  [[ -x $sshd ]] || echo "$sshd"
  local t
  for t in "${tools[@]}"; do command -v "$t" >/dev/null 2>&1 || echo "$t"; done
}

# install_quietly <package>...: apt_install without starting the packages' services.
install_quietly() {
  local policy=/usr/sbin/policy-rc.d ours=""
  if [[ ! -e $policy ]] && is_root; then
    printf '#!/bin/sh\n# moor scripts/env/sshd.sh: no service starts while it installs openssh-server\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    ours=$policy
  fi
  local rc=0
  (apt_install "$@") || rc=$?
  [[ -z $ours ]] || rm -f "$ours"
  ((rc == 0)) || exit "$rc"
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
  fi
}

did=""
if [[ -n $(missing) ]]; then
  lock apt 600
  if [[ -n $(missing) ]]; then
    install_quietly openssh-server openssh-client
    did="installed openssh-server; "
  fi
  still=$(missing | tr '\n' ' ')
  [[ -z $still ]] || die "still missing after installing openssh-server: $still(is PATH=$PATH right?)"
fi

# sshd's privilege separation directory (tmpfs under /run: gone after a reboot).
if is_root; then mkdir -p /run/sshd; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ssh-keygen -q -t ed25519 -N "" -f "$tmp/host_key"
printf 'Port 22\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\nUsePAM no\n' "$tmp/host_key" "$tmp/sshd.pid" >"$tmp/sshd_config"
if ! "$sshd" -t -f "$tmp/sshd_config" 2>"$tmp/err"; then
  cat "$tmp/err" >&2
  die "$sshd cannot run here (its configuration test failed, above): reinstall openssh-server (apt-get install --reinstall openssh-server)"
fi
version=$(ssh -V 2>&1 | sed -E 's/^(OpenSSH_[^ ,]+).*/\1/')
echo "${did}${version} ($sshd, ${tools[*]}); the tests start their own sshd on 127.0.0.1"
