#!/usr/bin/env bash
# A Docker engine for tests and local use on a machine without a running one (no systemd needed):
#   docker/engine.sh start    starts dockerd (Debian's docker.io) unless an engine already answers; prints
#                             the DOCKER_HOST to use: eval "$(docker/engine.sh start)"
#   docker/engine.sh stop     stops the dockerd this script started and removes its docker0 bridge and
#                             iptables chains; an engine it did not start is left alone
#   docker/engine.sh status   prints the DOCKER_HOST of a running engine, exit 1 when none answers
# State lives in DR_DOCKER_HOME (default /var/tmp/deep-retrieval-docker): data-root (images, so a built base
# image survives a stop), exec-root, pidfile, socket and dockerd.log. Needs root (dockerd does).
set -euo pipefail
home="${DR_DOCKER_HOME:-/var/tmp/deep-retrieval-docker}"
sock="$home/docker.sock"
pidfile="$home/dockerd.pid"
ours="unix://$sock"

answers() { # DOCKER_HOST value -> 0 when an engine answers there
  DOCKER_HOST="$1" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

running_engine() {
  if [ -n "${DOCKER_HOST:-}" ] && answers "$DOCKER_HOST"; then echo "$DOCKER_HOST"; return 0; fi
  if answers "$ours"; then echo "$ours"; return 0; fi
  if [ -S /var/run/docker.sock ] && answers unix:///var/run/docker.sock; then echo unix:///var/run/docker.sock; return 0; fi
  return 1
}

start() {
  if host=$(running_engine); then
    echo "export DOCKER_HOST=$host"
    return 0
  fi
  command -v dockerd >/dev/null || { echo "dockerd not found: apt-get install docker.io" >&2; exit 1; }
  [ "$(id -u)" -eq 0 ] || { echo "starting dockerd needs root" >&2; exit 1; }
  mkdir -p "$home/data" "$home/exec"
  rm -f "$sock" "$pidfile"
  # containerd comes up as dockerd's child (managed mode); setsid keeps it out of the caller's process group.
  setsid dockerd --data-root "$home/data" --exec-root "$home/exec" --pidfile "$pidfile" \
    -H "$ours" --storage-driver=overlay2 >"$home/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    if answers "$ours"; then
      # started through sudo: the socket belongs to the calling user, as a docker group membership would allow
      if [ -n "${SUDO_UID:-}" ]; then chown "$SUDO_UID" "$sock"; fi
      echo "export DOCKER_HOST=$ours"
      return 0
    fi
    sleep 0.5
  done
  echo "dockerd did not answer on $sock within 60 s; its log:" >&2
  tail -n 40 "$home/dockerd.log" >&2
  exit 1
}

# docker0 and the DOCKER* iptables chains dockerd leaves behind when it stops.
clean_network() {
  ip link delete docker0 2>/dev/null || true
  command -v iptables >/dev/null || return 0
  for table in filter nat; do
    # rules in the built-in chains that jump to DOCKER* chains or match docker0
    iptables -t "$table" -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*(DOCKER|docker0)' \
      | sed 's/^-A /-D /' | while read -r rule; do
        eval "iptables -t $table $rule" 2>/dev/null || true
      done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^DOCKER/ {print $2}'); do
      iptables -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^DOCKER/ {print $2}'); do
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

stop() {
  if [ ! -f "$pidfile" ]; then
    echo "no dockerd started by this script ($pidfile absent)" >&2
    return 0
  fi
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    # running containers are stopped by dockerd itself on SIGTERM (containerd goes with it)
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$pidfile" "$sock"
  # Another dockerd on this machine still uses docker0 and the chains: only clean when none is left.
  if ! pgrep -x dockerd >/dev/null; then
    clean_network
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running_engine | sed 's/^/export DOCKER_HOST=/' ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
