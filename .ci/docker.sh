#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine: installs docker.io with apt when dockerd is
# missing, starts dockerd in the background when it is not running, waits until `docker info` works.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  echo "docker: engine already running"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker: installing docker.io with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

log="${TMPDIR:-/tmp}/dockerd.log"
echo "docker: starting dockerd (log: $log)"
nohup dockerd >"$log" 2>&1 &

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker: engine ready ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 0.5
done
echo "docker: dockerd did not become ready in 30 s; last lines of $log:" >&2
tail -20 "$log" >&2
exit 1
