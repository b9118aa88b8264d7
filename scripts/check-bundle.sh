#!/usr/bin/env bash
# check-bundle.sh - the committed bundles (dist/) are what the sources build to. Rebuilds into a
# temporary directory with scripts/build.ts and compares file by file; fails, naming the stale
# files, when they differ: then run `npm run build` and commit dist/.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/moor-check-bundle.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if ! node scripts/build.ts --outdir "$tmp" >"$tmp.log" 2>&1; then
  cat "$tmp.log" >&2
  rm -f "$tmp.log"
  echo "check-bundle: the bundle does not build (see above); fix it, then run \`npm run build\` and commit dist/" >&2
  exit 1
fi
rm -f "$tmp.log"

stale=()
for built in "$tmp"/*; do
  name=$(basename "$built")
  if [[ ! -f dist/$name ]]; then
    stale+=("dist/$name (missing)")
  elif ! cmp -s "$built" "dist/$name"; then
    stale+=("dist/$name (differs from the sources)")
  fi
done
for committed in dist/*; do
  [[ -e $committed ]] || continue
  [[ -e $tmp/$(basename "$committed") ]] || stale+=("$committed (not produced by the build any more)")
done

if ((${#stale[@]} > 0)); then
  echo "check-bundle: the committed bundle is not up to date with the sources:" >&2
  printf '  %s\n' "${stale[@]}" >&2
  echo "run \`npm run build\` and commit dist/" >&2
  exit 1
fi
echo "check-bundle: dist/ is up to date ($(du -cb dist/*.js | tail -1 | cut -f1) bytes of bundles)"
