#!/usr/bin/env bash
# test.sh - what `npm test` runs. Stages, in order, stopping at the first failure:
#   env        scripts/test-env.sh docker fixtures postgres nats engine-b engine-current sshd
#   typecheck  tsc --noEmit -p .
#   lint       eslint . && prettier --check .
#   check-*    every scripts/check-*.sh, in name order (extra checks other parts of the project add)
#   unit       vitest run --project unit
#   e2e        vitest run --project e2e
#   gauntlet   vitest run --project gauntlet (docs/reliability.md); its summary lines are printed at the end
# Prints the time of each stage and a summary; exits with the failing stage's status.
#
# Env: MOOR_TEST_ONLY=unit      typecheck, lint, checks and unit tests only (quick local runs)
#      MOOR_TEST_ONLY=e2e       everything but the gauntlet
#      MOOR_TEST_ONLY=gauntlet  the environment and the gauntlet only (`npm run gauntlet`)
#      MOOR_GAUNTLET_REPORT     where the gauntlet's summary lines go (default: a temporary file)
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"
# The project's Node 24 and tools, never the system node (npm test already does this; `bash scripts/test.sh` too).
export PATH="$root/node_modules/.bin:$PATH"

die() {
  echo "test: error: $*" >&2
  exit 1
}
[[ -x node_modules/.bin/vitest && -x node_modules/.bin/node ]] || die "node_modules/.bin is incomplete: run npm ci first"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 24)) || die "node on PATH is $(command -v node) ($(node --version)); the project needs Node 24: run npm ci"

only=${MOOR_TEST_ONLY:-}
case "$only" in
  "" | all) only=all ;;
  unit | e2e | gauntlet) ;;
  *) die "MOOR_TEST_ONLY='$only' is not supported (use unit, e2e or gauntlet, or leave it unset for everything)" ;;
esac
wants() { [[ $only == all || " $* " == *" $only "* ]]; }

now_us() { echo "${EPOCHREALTIME//[.,]/}"; }
secs() { printf '%d.%01ds' $(($1 / 1000000)) $(($1 % 1000000 / 100000)); }
t_all=$(now_us)
summary=()

# stage <name> <command...>
stage() {
  local name=$1 t0 rc=0 d
  shift
  echo "=== $name: $*"
  t0=$(now_us)
  "$@" || rc=$?
  d=$(($(now_us) - t0))
  if ((rc != 0)); then
    summary+=("$(printf '%-12s FAILED (exit %d) after %s' "$name" "$rc" "$(secs "$d")")")
    report
    echo "test: FAILED at stage '$name' (exit $rc)" >&2
    exit "$rc"
  fi
  summary+=("$(printf '%-12s ok  %s' "$name" "$(secs "$d")")")
  echo "=== $name: ok ($(secs "$d"))"
}
report() {
  echo "=== stages:"
  printf '  %s\n' "${summary[@]}"
  echo "  total        $(secs $(($(now_us) - t_all)))"
}

skip() { summary+=("$(printf '%-12s skipped (MOOR_TEST_ONLY=%s)' "$1" "$only")"); }

gauntlet_report=${MOOR_GAUNTLET_REPORT:-${TMPDIR:-/tmp}/moor-gauntlet-report.$$.txt}
gauntlet() {
  local rc=0
  : >"$gauntlet_report"
  MOOR_GAUNTLET_REPORT=$gauntlet_report vitest run --project gauntlet || rc=$?
  echo "=== gauntlet summary (docs/reliability.md):"
  sed 's/^/  /' "$gauntlet_report"
  [[ -n ${MOOR_GAUNTLET_REPORT:-} ]] || rm -f "$gauntlet_report"
  return "$rc"
}

if wants e2e gauntlet; then stage env bash scripts/test-env.sh docker fixtures postgres nats engine-b engine-current sshd; else skip env; fi
if wants unit e2e; then
  stage typecheck tsc --noEmit -p .
  stage lint bash -c "eslint . && prettier --check ."
  shopt -s nullglob
  for check in scripts/check-*.sh; do
    stage "$(basename "$check" .sh)" bash "$check"
  done
  stage unit vitest run --project unit
fi
if wants e2e; then stage e2e vitest run --project e2e --passWithNoTests; else skip e2e; fi
if wants gauntlet; then stage gauntlet gauntlet; else skip gauntlet; fi
report
