#!/bin/sh
# docker compose one-shot (rabbitmq-cluster), once rabbitmq1..3 are started: waits until each
# node has booted, then every quorum queue gets a member on every node. The definitions are
# loaded by whichever node boots first, maybe before the others have joined, and a quorum queue
# is created on the nodes present at that moment; `rabbitmq-queues grow` adds the missing
# members (a no-op once they are there).
set -eu
# The CLI reads the cookie from $HOME/.erlang.cookie.
export HOME=/cookie
# A node whose boot fails (docker-compose.yml, rabbitmq-cluster) is restarted by Docker; until
# then it cannot be reached and await_startup fails at once: ask again until the deadline.
wait_seconds=300
deadline=$(($(date +%s) + wait_seconds))
for node in rabbit@rabbitmq1 rabbit@rabbitmq2 rabbit@rabbitmq3; do
  until rabbitmqctl -q -n "$node" await_startup --timeout 60 2>/tmp/await.err; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      cat /tmp/await.err >&2
      echo "rabbitmq-cluster: $node has not booted within $wait_seconds s" >&2
      exit 1
    fi
    echo "rabbitmq-cluster: $node is not up yet, asking again"
    sleep 2
  done
done
for node in rabbit@rabbitmq1 rabbit@rabbitmq2 rabbit@rabbitmq3; do
  rabbitmq-queues -q -n rabbit@rabbitmq1 grow "$node" all --vhost-pattern '^stockmarket$'
done
echo "rabbitmq-cluster: every quorum queue has a member on rabbitmq1, rabbitmq2 and rabbitmq3"
