#!/bin/sh
# rabbitmq-server runs as the rabbitmq user (as in the official image); anything else runs as
# given (the compose one-shots replace this entrypoint anyway).
set -eu
if [ "${1:-}" = rabbitmq-server ] && [ "$(id -u)" = 0 ]; then
  find /var/lib/rabbitmq \! -user rabbitmq -exec chown rabbitmq:rabbitmq '{}' +
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$@"
fi
exec "$@"
