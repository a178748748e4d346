#!/usr/bin/env bash
# The one test command (npm test): install, build, lint, type-check, the deployment check
# (compose file, Dockerfile and build context with Docker's own Go code), then unit, integration
# and browser tests against real RabbitMQ, FerretDB, NGINX and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The build and the tests run on the images' Node.js release, which setup installed.
# shellcheck source=scripts/node22.sh
. scripts/node22.sh
export PATH="$NODE_BIN_DIR:$PATH"
npm run build
npm run lint
if [ "${1:-all}" != integration ]; then
  # The compose file, Dockerfile and build context, checked with compose-go, BuildKit and patternmatcher.
  bash scripts/compose-check.sh
  # The Helm chart: rendered and checked with Helm's and Kubernetes' own Go packages (docs/kubernetes.md).
  (cd deploy/helm-check && go test -count=1 ./...)
fi
node scripts/run-tests.mjs "${1:-all}"
