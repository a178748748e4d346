# syntax=docker/dockerfile:1
# check=error=true;experimental=all
# (BuildKit's every lint rule, experimental ones too; a warning fails the build.)
# The three service images from one file, one target each:
#   docker build --target publisher -t stockmarket/publisher:dev .
#   docker build --target consumer  -t stockmarket/consumer:dev .
#   docker build --target liveview  -t stockmarket/liveview:dev .
# Built from the repository root, so that the workspaces and the root lockfile are in the
# context. The build stages are shared: compose builds the three images from one compiled tree.

# NODE_IMAGE is the base image of every stage, pinned (the same as rabbitmq-definitions' image).
ARG NODE_IMAGE=node:22.17.0-bookworm-slim

FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
# npm ci checks the root lockfile against every workspace's package.json, so all are copied.
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY publisher/package.json publisher/
COPY consumer/package.json consumer/
COPY liveview/package.json liveview/
COPY stack/package.json stack/
COPY tests/package.json tests/
COPY bench/package.json bench/

FROM manifests AS build
# Manifests first: the dependency layer is rebuilt only when they change.
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY common/ common/
COPY publisher/ publisher/
COPY consumer/ consumer/
COPY liveview/ liveview/
# tsconfig.build.json leaves the test files out of what ships. The page script is bundled into
# liveview/public/build (esbuild, a dev dependency).
RUN npx tsc --build publisher/tsconfig.build.json consumer/tsconfig.build.json liveview/tsconfig.build.json \
  && npm run build:client -w liveview

FROM manifests AS publisher
ENV NODE_ENV=production
# Production dependencies of this service and the shared package only.
RUN npm ci --omit=dev --no-audit --no-fund -w publisher -w common \
  && npm cache clean --force
COPY --from=build /app/common/dist common/dist
COPY --from=build /app/publisher/dist publisher/dist
USER node
WORKDIR /app/publisher
EXPOSE 8080
# node directly (no npm, no shell), so SIGTERM reaches the service's graceful shutdown; compose
# adds an init process (init: true) that forwards signals to it and reaps children.
CMD ["node", "dist/main.js"]

FROM manifests AS consumer
ENV NODE_ENV=production
# Production dependencies of this service and the shared package only.
RUN npm ci --omit=dev --no-audit --no-fund -w consumer -w common \
  && npm cache clean --force
COPY --from=build /app/common/dist common/dist
COPY --from=build /app/consumer/dist consumer/dist
USER node
WORKDIR /app/consumer
EXPOSE 8081
# node directly (no npm, no shell), so SIGTERM reaches the service's graceful shutdown; compose
# adds an init process (init: true) that forwards signals to it and reaps children.
CMD ["node", "dist/main.js"]

FROM manifests AS liveview
ENV NODE_ENV=production
# Production dependencies of this service and the shared package only.
RUN npm ci --omit=dev --no-audit --no-fund -w liveview -w common \
  && npm cache clean --force
COPY --from=build /app/common/dist common/dist
COPY --from=build /app/liveview/dist liveview/dist
COPY --from=build /app/liveview/public liveview/public
USER node
WORKDIR /app/liveview
EXPOSE 3000
# node directly (no npm, no shell), so SIGTERM reaches the service's graceful shutdown; compose
# adds an init process (init: true) that forwards signals to it and reaps children.
CMD ["node", "dist/main.js"]
