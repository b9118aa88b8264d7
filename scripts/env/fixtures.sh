#!/usr/bin/env bash
# fixtures part of scripts/test-env.sh: builds the offline test images into the engine `docker`
# talks to. No registry needed: every image is FROM scratch + the static busybox of Debian's
# busybox-static + the files in scripts/fixtures/.
#
#   moor-fixture/app:1, moor-fixture/app:2   busybox httpd on $PORT (8080), HEALTHCHECK every 1 s,
#                                            /tmp/unhealthy makes it unhealthy, fast SIGTERM; distinct IDs
#   moor-fixture/crashy:1                    prints a line, exits 3 after 1 s
#
# An image is (re)built only when missing or when its label moor.fixture.hash differs from the hash
# of the inputs (this script, scripts/fixtures/**, the busybox binary).
#
# Env: MOOR_BUSYBOX (/bin/busybox), MOOR_FIXTURE_FORCE=1 (rebuild all).
set -euo pipefail
part=fixtures
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

fixtures=$(readlink -f "$here/../fixtures")
busybox=${MOOR_BUSYBOX:-/bin/busybox}
force=${MOOR_FIXTURE_FORCE:-0}
prefix=moor-fixture
builder=moor/scripts/env/fixtures.sh
images=(app:1 app:2 crashy:1)

command -v docker >/dev/null 2>&1 || die "docker CLI not found: run scripts/test-env.sh docker first"

if [[ ! -x $busybox ]]; then
  [[ $busybox == /bin/busybox ]] || die "MOOR_BUSYBOX=$busybox is not an executable file"
  lock apt 600
  [[ -x $busybox ]] || apt_install busybox-static
  [[ -x $busybox ]] || die "$busybox still missing after installing busybox-static"
fi
if command -v file >/dev/null 2>&1 && ! file -L "$busybox" | grep -q 'statically linked'; then
  die "$busybox is not statically linked: install busybox-static (not busybox) or set MOOR_BUSYBOX to a static busybox"
fi

inputs_hash=$(
  {
    sha256sum <"$here/fixtures.sh"
    sha256sum <"$busybox"
    cd "$fixtures" && find . -type f -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)

label_of() { # label_of <ref> <label>: prints the label of an existing image, or nothing
  docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}
find_todo() { # one engine call: which of our images carry the current hash
  local img current
  current=$(docker images --filter "label=moor.fixture.hash=$inputs_hash" --format '{{.Repository}}:{{.Tag}}' 2>&1) ||
    die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-<default>}): run scripts/test-env.sh docker first ($current)"
  todo=()
  for img in "${images[@]}"; do
    if [[ $force == 1 ]] || ! grep -qx "$prefix/$img" <<<"$current"; then todo+=("$img"); fi
  done
}

find_todo
if ((${#todo[@]} == 0)); then
  echo "${images[*]/#/$prefix/} up to date (hash $inputs_hash)"
  exit 0
fi

lock fixtures 300 # another run may build them meanwhile
[[ $force == 1 ]] || find_todo
if ((${#todo[@]} == 0)); then
  echo "${images[*]/#/$prefix/} built meanwhile by another run (hash $inputs_hash)"
  exit 0
fi

work=$(mktemp -d /tmp/moor-fixtures.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Layer shared by all images: busybox, one symlink per applet, scripts/fixtures/rootfs.
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,etc,root,tmp,var/run}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [[ $applet == busybox || -e $rootfs/bin/$applet ]] || ln -s busybox "$rootfs/bin/$applet"
done
cp -R "$fixtures/rootfs/." "$rootfs/"
chmod 755 "$rootfs"/bin/moor-*

build() { # build <name:version>
  local name=${1%%:*} version=${1#*:} ref=$prefix/$1 ctx=$work/ctx-${1//:/-} old out
  local args=(-q -f "$ctx/Dockerfile" -t "$ref" --build-arg "VERSION=$version" --build-arg "FIXTURE_HASH=$inputs_hash"
    --label "moor.fixture.builder=$builder" "$ctx")
  old=$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null) || old=""
  mkdir -p "$ctx"
  cp -a "$rootfs" "$ctx/rootfs"
  cp "$fixtures/$name.Dockerfile" "$ctx/Dockerfile"
  if [[ $name == app ]]; then
    cp -R "$fixtures/www" "$ctx/www"
    chmod 755 "$ctx/www/cgi-bin/env"
    echo "moor-fixture app version $version" >"$ctx/www/index.html"
    echo "$version" >"$ctx/www/version"
  fi
  if ! out=$(docker build "${args[@]}" 2>&1); then
    # A broken BuildKit/buildx setup should not stop us: retry with the classic builder.
    out=$(DOCKER_BUILDKIT=0 docker build "${args[@]}" 2>&1) || {
      echo "$out" >&2
      die "docker build of $ref failed (inputs in $fixtures)"
    }
  fi
  # Drop the image this tag pointed at before if this script built it and nothing uses or tags it.
  if [[ -n $old && $old != "$(docker image inspect -f '{{.Id}}' "$ref")" &&
    "$(label_of "$old" moor.fixture.builder)" == "$builder" &&
    -z "$(docker image inspect -f '{{join .RepoTags ","}}' "$old" 2>/dev/null)" ]]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
}

for img in "${todo[@]}"; do build "$img"; done
id1=$(docker image inspect -f '{{.Id}}' "$prefix/app:1")
id2=$(docker image inspect -f '{{.Id}}' "$prefix/app:2")
[[ $id1 != "$id2" ]] || die "$prefix/app:1 and $prefix/app:2 ended up with the same image ID"
echo "built ${todo[*]/#/$prefix/} (hash $inputs_hash)"
