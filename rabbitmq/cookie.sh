#!/bin/sh
# docker compose one-shot (rabbitmq-cookie): the Erlang cookie the three broker nodes share, made
# once into the named volume rabbitmq-cookie and copied into each node's data directory
# (/var/lib/rabbitmq/.erlang.cookie, the rabbitmq user's HOME), where the node and its CLI tools
# read it. Owned by the image's rabbitmq user (uid 999), readable by it alone. Never committed.
set -eu
cookie=/cookie/.erlang.cookie
if [ ! -s "$cookie" ]; then
  # 48 random bytes -> 64 base64 characters, letters and digits only.
  head -c 48 /dev/urandom | base64 -w 0 | tr -d '+/=' > "$cookie.tmp"
  mv "$cookie.tmp" "$cookie"
  echo "rabbitmq-cookie: new cookie written"
else
  echo "rabbitmq-cookie: cookie exists"
fi
chmod 0400 "$cookie"
for node in /node1 /node2 /node3; do
  # Always the shared one: a node's own cookie (made by an earlier single-node start) would keep
  # it out of the cluster.
  cp "$cookie" "$node/.erlang.cookie"
  chown 999:999 "$node/.erlang.cookie"
  chmod 0400 "$node/.erlang.cookie"
done
