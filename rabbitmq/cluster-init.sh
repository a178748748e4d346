#!/bin/sh
# docker compose one-shot (rabbitmq-cluster), once rabbitmq1..3 are healthy: every quorum queue
# gets a member on every node. The definitions are loaded by whichever node boots first, maybe
# before the others have joined, and a quorum queue is created on the nodes present at that
# moment; `rabbitmq-queues grow` adds the missing members (a no-op once they are there).
set -eu
# The CLI reads the cookie from $HOME/.erlang.cookie.
export HOME=/cookie
for node in rabbit@rabbitmq1 rabbit@rabbitmq2 rabbit@rabbitmq3; do
  rabbitmqctl -q -n "$node" await_startup
done
for node in rabbit@rabbitmq1 rabbit@rabbitmq2 rabbit@rabbitmq3; do
  rabbitmq-queues -q -n rabbit@rabbitmq1 grow "$node" all --vhost-pattern '^stockmarket$'
done
echo "rabbitmq-cluster: every quorum queue has a member on rabbitmq1, rabbitmq2 and rabbitmq3"
