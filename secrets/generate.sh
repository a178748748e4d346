#!/bin/sh
# docker compose one-shot (secrets): every password of the stack, generated on the first
# `docker compose up` into the named volume `secrets` (only where a file is missing, so restarts
# keep them and a fresh install gets its own), then copied to each reader's own volume, owned by
# the user its image runs as and readable by it alone. The services read them through `*_FILE`
# variables: no password is in .env, the compose file, a container's environment or the process
# list. Also run by hand (docker compose run --rm --no-deps [-T] secrets <mode>):
#   show <name>      print one password (e.g. rabbitmq-admin-password, for the management UI)
#   rotate <name>..  replace passwords with new random ones (then recreate their readers: README)
#   import           read KEY=value lines (an .env from before generated passwords) from stdin
#                    and keep those passwords (README, "Upgrading")
set -eu
umask 077
# SECRETS_DIR and SECRETS_OUT: other places, for the tests (stack/src/compose.test.ts).
dir="${SECRETS_DIR:-/secrets}"
out="${SECRETS_OUT:-/out}"
# The files and the variables of .env they replace (import).
names="rabbitmq-admin-password rabbitmq-publisher-password rabbitmq-consumer-password rabbitmq-liveview-password mongo-root-password mongo-consumer-password mongo-liveview-password"
variable() { echo "$1" | tr a-z- A-Z_; }
known() {
  for name in $names; do [ "$name" = "$1" ] && return 0; done
  echo "secrets: unknown password \"$1\"; one of: $names" >&2
  exit 2
}
# 48 random bytes -> 64 base64 characters -> the first 40 letters and digits (238 bits; safe in
# any URL), without a newline.
new_password() {
  head -c 48 /dev/urandom | base64 -w 0 | tr -d '+/=' | cut -c1-40 | tr -d '\n' > "$1.tmp"
  mv "$1.tmp" "$1"
}

mode="${1:-generate}"
case "$mode" in
  show)
    known "${2:-}"
    if [ ! -s "$dir/$2" ]; then
      echo "secrets: $2 does not exist yet: run docker compose up first" >&2
      exit 1
    fi
    cat "$dir/$2"
    echo
    exit 0
    ;;
  rotate)
    shift
    [ "$#" -gt 0 ] || { echo "secrets: rotate needs one or more of: $names" >&2; exit 2; }
    for name in "$@"; do known "$name"; new_password "$dir/$name"; echo "secrets: $name replaced"; done
    exit 0
    ;;
  import)
    imported=0
    while IFS= read -r line || [ -n "$line" ]; do
      for name in $names; do
        key="$(variable "$name")"
        case "$line" in
          "$key="?*)
            printf '%s' "${line#"$key="}" > "$dir/$name.tmp"
            mv "$dir/$name.tmp" "$dir/$name"
            echo "secrets: $name imported from $key"
            imported=$((imported + 1))
            ;;
        esac
      done
    done
    echo "secrets: $imported password(s) imported; remove the *_PASSWORD lines from .env, then docker compose up -d --force-recreate"
    exit 0
    ;;
  generate) ;;
  *)
    echo "secrets: unknown mode \"$mode\" (show, rotate, import)" >&2
    exit 2
    ;;
esac

# An .env from before generated passwords: its passwords are no longer read (compose passes only
# the names of those that are set, never a value). On a stack that has no generated passwords
# yet, going on would give its existing data new passwords it does not know: stop and say what to do.
if [ -n "${OLD_ENV_PASSWORDS:-}" ]; then
  if [ ! -s "$dir/mongo-root-password" ]; then
    cat >&2 <<MESSAGE
secrets: .env still sets$OLD_ENV_PASSWORDS.
  Passwords are generated now (issue 24) and .env's are no longer read. Either
  - keep them (a stack with data made with them):
      docker compose run --rm --no-deps -T secrets import < .env
    then delete the *_PASSWORD lines from .env and run docker compose up again; or
  - let new ones be generated: delete the *_PASSWORD lines from .env and run docker compose up
    again (README, "Upgrading": a MongoDB made with a changed MONGO_ROOT_PASSWORD needs the first).
MESSAGE
    exit 1
  fi
  echo "secrets: warning: .env still sets$OLD_ENV_PASSWORDS; ignored (the generated passwords are used): delete those lines"
fi

chmod 0700 "$dir"
created=""
for name in $names; do
  if [ ! -s "$dir/$name" ]; then
    new_password "$dir/$name"
    created="$created $name"
  fi
done
chmod 0400 "$dir"/*-password
echo "secrets: ${created:+generated$created; }$(echo $names | wc -w) passwords in place"

# Each reader gets only its own, under the names its *_FILE variables give.
# copy <source> <volume> <name> <uid>
copy() {
  install -o "$4" -g "$4" -m 0400 "$dir/$1" "$2/$3.tmp"
  mv "$2/$3.tmp" "$2/$3"
  chown "$4:$4" "$2"
  chmod 0500 "$2"
}
# The node services run as `node` (uid 1000), mongod as `mongodb` (uid 999).
copy rabbitmq-publisher-password "$out"/publisher rabbitmq-password 1000
copy rabbitmq-consumer-password "$out"/consumer rabbitmq-password 1000
copy mongo-consumer-password "$out"/consumer mongodb-password 1000
copy rabbitmq-liveview-password "$out"/liveview rabbitmq-password 1000
copy mongo-liveview-password "$out"/liveview mongodb-password 1000
copy mongo-root-password "$out"/mongo mongo-root-password 999
