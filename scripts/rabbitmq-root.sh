#!/usr/bin/env bash
# Builds the Debian trixie root that the tests run RabbitMQ 4.x in (rabbitmq-server 4.0.5 on
# Erlang 27; bookworm, this machine's release, has only 3.10). The root is a directory under the
# cache, made by debootstrap from the same Debian mirror as the host's apt sources; the host
# stays bookworm. stack/bin/rabbitmq-root-exec runs the broker, epmd and the CLI tools in it.
# Rebuilt only when the recipe below changes (its hash names the directory). Prints the root's
# path. Needs root (debootstrap, chroot).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE_DIR=${STOCKMARKET_CACHE_DIR:-$PWD/.cache}
MIRROR=${STOCKMARKET_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The recipe: change any of these lines and the root is built anew.
RECIPE="suite=trixie variant=minbase include=rabbitmq-server arch=amd64 rev=1"
hash=$(printf '%s' "$RECIPE" | sha256sum | cut -c1-12)
root="$CACHE_DIR/roots/trixie-rabbitmq-$hash"

if [ -f "$root/.complete" ]; then
  echo "$root"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "rabbitmq-root: building the trixie root needs root" >&2; exit 1; }
command -v debootstrap >/dev/null 2>&1 || { echo "rabbitmq-root: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
echo "rabbitmq-root: building $root (once; $RECIPE)" >&2
rm -rf "$root.tmp"
mkdir -p "$(dirname "$root")"
start=$(date +%s)
debootstrap --variant=minbase --arch=amd64 --include=rabbitmq-server \
  --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
  trixie "$root.tmp" "$MIRROR" >"$CACHE_DIR/roots/debootstrap.log" 2>&1 ||
  { tail -20 "$CACHE_DIR/roots/debootstrap.log" >&2; echo "rabbitmq-root: debootstrap failed (log: $CACHE_DIR/roots/debootstrap.log)" >&2; exit 1; }
[ -x "$root.tmp/usr/lib/rabbitmq/bin/rabbitmq-server" ] ||
  { echo "rabbitmq-root: no rabbitmq-server in the new root" >&2; exit 1; }
# The packages' maintainer scripts leave an `epmd -daemon` running in the root: stop what runs there.
for proc in /proc/[0-9]*; do
  [ "$(readlink "$proc/root" 2>/dev/null)" = "$root.tmp" ] && kill "${proc#/proc/}" 2>/dev/null || true
done
# Downloaded packages are not needed once installed.
rm -rf "$root.tmp/var/cache/apt/archives/"*.deb
echo "$RECIPE built in $(($(date +%s) - start)) s" >"$root.tmp/.complete"
mv "$root.tmp" "$root"
echo "rabbitmq-root: built in $(($(date +%s) - start)) s" >&2
echo "$root"
