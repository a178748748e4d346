#!/usr/bin/env bash
# The deployment check (deploy/compose-check, Go): docker-compose.yml loaded by compose-go v2 as
# `docker compose config` loads it (with .env, with --scale, without .env) and its invariants,
# the Dockerfile under BuildKit's linter with every rule on, and the build context against
# .dockerignore (moby/patternmatcher).
#   bash scripts/compose-check.sh build   compile the test binary once into .cache/ (setup.sh)
#   bash scripts/compose-check.sh         build if needed, then run it (test.sh)
# The binary is keyed by a hash of the module's go.mod, go.sum and sources, so a rerun skips the
# compile and a change rebuilds it.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE_DIR=${STOCKMARKET_CACHE_DIR:-$PWD/.cache}
module=deploy/compose-check
hash=$(cat "$module/go.mod" "$module/go.sum" "$module"/*.go | sha256sum | cut -c1-16)
bin=$CACHE_DIR/compose-check/compose-check-$hash.test

if [ ! -x "$bin" ]; then
  echo "compose-check: building $bin"
  mkdir -p "$(dirname "$bin")"
  (cd "$module" && go test -c -o "$bin.tmp" .) || { echo "compose-check: build failed" >&2; exit 1; }
  mv "$bin.tmp" "$bin"
fi
[ "${1:-run}" = build ] && exit 0

# Run from the module's directory: the tests find the repository at ../..
cd "$module"
if "$bin" -test.count=1 -test.v >/tmp/compose-check.$$.log 2>&1; then
  echo "compose-check: ok, $(grep -c -- '--- PASS' /tmp/compose-check.$$.log) checks passed (compose-go v2, BuildKit lint, .dockerignore)"
  rm -f /tmp/compose-check.$$.log
else
  cat /tmp/compose-check.$$.log >&2
  rm -f /tmp/compose-check.$$.log
  echo "compose-check: FAILED" >&2
  exit 1
fi
