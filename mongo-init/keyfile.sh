#!/bin/sh
# docker compose one-shot (mongo-keyfile): the replica set's internal-authentication key, made
# once into a named volume that mongo1..3 mount read-only. mongod wants it owned by its user
# (mongodb, uid 999 in the mongo image) and unreadable by others. Never committed.
set -eu
key=/keyfile/replica-set.key
if [ ! -s "$key" ]; then
  # 756 random bytes -> 1008 base64 characters (mongod accepts 6 to 1024).
  head -c 756 /dev/urandom | base64 -w 0 > "$key.tmp"
  mv "$key.tmp" "$key"
  echo "mongo-keyfile: new key written"
else
  echo "mongo-keyfile: key exists"
fi
chown 999:999 "$key"
chmod 0400 "$key"
