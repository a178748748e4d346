#!/usr/bin/env bash
# A private Docker engine for the compose suite (tests/src/compose/), on Debian, as root:
#
#   bash scripts/docker-engine.sh install   Debian's docker.io and debootstrap (apt), Docker
#                                           Compose v2 built from the Go module proxy (cached)
#   bash scripts/docker-engine.sh start     dockerd on a private socket, pidfile and data root
#   bash scripts/docker-engine.sh stop      stops it and puts back what it changed on the host
#   bash scripts/docker-engine.sh env       the variables that point docker/docker compose at it
#   bash scripts/docker-engine.sh status    exit 0 when it answers
#
# Everything is idempotent. Images and the build cache live in $CACHE/docker (kept between
# runs: the stand-in images are built once, scripts/stand-in-images.sh). dockerd changes host
# settings: net.ipv4.ip_forward, the iptables FORWARD policy, its DOCKER* chains and the rules
# that jump to them (filter and nat), and the docker0 bridge. `start` records them before it
# starts dockerd and `stop` removes what dockerd added and restores the recorded values; only
# rules that name a DOCKER chain or a Docker bridge are touched (other tests on this machine
# add their own iptables rules at the same time).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${STOCKMARKET_CACHE_DIR:-$PWD/.cache}
COMPOSE_VERSION=v2.29.7
COMPOSE_BIN=$CACHE/compose/docker-compose-$COMPOSE_VERSION
DATA_ROOT=$CACHE/docker
# The socket path must stay short (108 bytes): a per-cache directory under /run.
RUN_DIR=/run/stockmarket-docker-$(printf '%s' "$CACHE" | sha256sum | cut -c1-8)
SOCK=$RUN_DIR/docker.sock
PIDFILE=$RUN_DIR/dockerd.pid
STATE=$RUN_DIR/host-state
LOG=$CACHE/docker-engine/dockerd.log
export DOCKER_CONFIG=$CACHE/docker-config

log() { echo "docker-engine: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

install_engine() {
  [ "$(id -u)" -eq 0 ] || fail "must run as root (dockerd, debootstrap)"
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
    log "installing docker.io and debootstrap (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || fail "apt-get update failed"
    apt-get install -y -qq --no-install-recommends docker.io debootstrap >/dev/null || fail "apt-get install docker.io debootstrap failed"
  fi
  # The Debian package may start its own daemon where an init system runs; ours is private.
  if [ ! -x "$COMPOSE_BIN" ]; then
    log "building Docker Compose $COMPOSE_VERSION from the Go module proxy (once; cached in $CACHE/compose)"
    mkdir -p "$CACHE/compose"
    GOBIN=$CACHE/compose/gobin go install -ldflags "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
      "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION" ||
      fail "could not build Docker Compose $COMPOSE_VERSION with $(go version)"
    mv "$CACHE/compose/gobin/cmd" "$COMPOSE_BIN"
  fi
  # The CLI plugin (`docker compose`) and the standalone binary (`docker-compose`), one file.
  mkdir -p "$DOCKER_CONFIG/cli-plugins" "$CACHE/bin"
  ln -sf "$COMPOSE_BIN" "$DOCKER_CONFIG/cli-plugins/docker-compose"
  ln -sf "$COMPOSE_BIN" "$CACHE/bin/docker-compose"
  [ -f "$DOCKER_CONFIG/config.json" ] || echo '{}' >"$DOCKER_CONFIG/config.json"
}

running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

answers() {
  docker -H "unix://$SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# Host settings dockerd changes, recorded once per start (not overwritten while it runs).
record_host_state() {
  {
    echo "ip_forward=$(sysctl -n net.ipv4.ip_forward)"
    echo "forward_policy=$(iptables -S FORWARD | awk '$1 == "-P" { print $3 }')"
    if ip link show docker0 >/dev/null 2>&1; then echo "docker0=existed"; else echo "docker0=absent"; fi
  } >"$STATE"
}

# Deletes, from one table, every rule that jumps to a DOCKER chain or names a Docker bridge
# (docker0, br-<id>), then the DOCKER* chains themselves.
remove_docker_rules() {
  local table=$1
  local rules
  rules=$(iptables -t "$table" -S | grep -E -- '^-A ' | grep -E -- '-j DOCKER|-[io] (docker0|br-[0-9a-f]{12})( |$)' | grep -v -E '^-A DOCKER' || true)
  while IFS= read -r rule; do
    [ -n "$rule" ] || continue
    # shellcheck disable=SC2086 # the rule is iptables' own -S output, split as iptables wrote it
    iptables -t "$table" ${rule/-A /-D } 2>/dev/null || log "could not delete ($table) $rule"
  done <<<"$rules"
  local chains
  chains=$(iptables -t "$table" -S | awk '$1 == "-N" && $2 ~ /^DOCKER/ { print $2 }')
  for chain in $chains; do iptables -t "$table" -F "$chain" 2>/dev/null || true; done
  for chain in $chains; do iptables -t "$table" -X "$chain" 2>/dev/null || log "could not delete chain ($table) $chain"; done
}

restore_host_state() {
  [ -f "$STATE" ] || return 0
  local ip_forward forward_policy docker0
  ip_forward=$(sed -n 's/^ip_forward=//p' "$STATE")
  forward_policy=$(sed -n 's/^forward_policy=//p' "$STATE")
  docker0=$(sed -n 's/^docker0=//p' "$STATE")
  remove_docker_rules filter
  remove_docker_rules nat
  [ -n "$forward_policy" ] && iptables -P FORWARD "$forward_policy"
  [ -n "$ip_forward" ] && sysctl -q -w "net.ipv4.ip_forward=$ip_forward"
  if [ "$docker0" = absent ] && ip link show docker0 >/dev/null 2>&1; then ip link delete docker0 || true; fi
  # Bridges of compose networks left by a daemon that died without removing them.
  for link in $(ip -o link show type bridge | awk -F': ' '{ print $2 }' | grep -E '^br-[0-9a-f]{12}$' || true); do
    ip link delete "$link" || true
  done
  rm -f "$STATE"
}

start_engine() {
  [ "$(id -u)" -eq 0 ] || fail "must run as root (dockerd)"
  command -v dockerd >/dev/null 2>&1 || fail "dockerd is missing: run bash scripts/docker-engine.sh install"
  mkdir -p "$RUN_DIR" "$DATA_ROOT" "$(dirname "$LOG")"
  if running && answers; then
    log "already running (pid $(cat "$PIDFILE"))"
    return 0
  fi
  [ -f "$STATE" ] || record_host_state
  # A trap, so that a start that fails half-way leaves the host as it was.
  trap 'log "start failed"; stop_engine' ERR
  # BuildKit on (compose builds with it; `# syntax=` and build secrets need it). No registry
  # is reachable: every image the compose file names is built locally.
  cat >"$RUN_DIR/daemon.json" <<'EOF'
{ "features": { "buildkit": true } }
EOF
  dockerd \
    --config-file "$RUN_DIR/daemon.json" \
    --host "unix://$SOCK" \
    --pidfile "$PIDFILE" \
    --exec-root "$RUN_DIR/exec" \
    --data-root "$DATA_ROOT" \
    --storage-driver overlay2 \
    --containerd-namespace stockmarket \
    --containerd-plugins-namespace stockmarket-plugins \
    >>"$LOG" 2>&1 &
  local deadline=$((SECONDS + 60))
  until answers; do
    if [ $SECONDS -ge $deadline ]; then
      tail -n 30 "$LOG" >&2
      fail "dockerd did not answer on $SOCK within 60 s (log: $LOG)"
    fi
    sleep 0.2
  done
  trap - ERR
  log "running (pid $(cat "$PIDFILE"), socket $SOCK, data $DATA_ROOT)"
}

stop_engine() {
  if [ -f "$PIDFILE" ]; then
    local pid
    pid=$(cat "$PIDFILE")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      local deadline=$((SECONDS + 30))
      while kill -0 "$pid" 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then
          log "dockerd (pid $pid) did not stop within 30 s; SIGKILL"
          kill -KILL "$pid" 2>/dev/null || true
        fi
        sleep 0.2
      done
    fi
    rm -f "$PIDFILE"
  fi
  restore_host_state
  log "stopped; host settings restored"
}

print_env() {
  echo "export DOCKER_HOST=unix://$SOCK"
  echo "export DOCKER_CONFIG=$DOCKER_CONFIG"
  echo "export PATH=$CACHE/bin:\$PATH"
}

case "${1:-}" in
  install) install_engine ;;
  start) start_engine ;;
  stop) stop_engine ;;
  env) print_env ;;
  status) answers ;;
  *) fail "usage: $0 install|start|stop|env|status" ;;
esac
