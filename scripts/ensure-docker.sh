#!/usr/bin/env bash
# Make sure a Docker engine answers. Leaves an existing engine alone; otherwise installs docker.io
# (Debian) and starts dockerd in the background. Idempotent; a second run returns in well under a second.
set -euo pipefail

say() { echo "ensure-docker: $*" >&2; }
answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if answers; then exit 0; fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    say "no Docker engine answers and dockerd is not installed; install docker.io (as root) or start your engine"
    exit 1
  fi
  say "installing docker.io from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/tmp/evalfleet-apt.log 2>&1 || { say "apt-get update failed, see /tmp/evalfleet-apt.log"; exit 1; }
  apt-get install -y -q docker.io >>/tmp/evalfleet-apt.log 2>&1 \
    || { say "apt-get install docker.io failed, see /tmp/evalfleet-apt.log"; exit 1; }
fi

if [ "$(id -u)" != 0 ]; then
  say "dockerd is installed but not running; start it (as root: dockerd &) or ask for access to its socket"
  exit 1
fi

say "starting dockerd (log: /var/log/evalfleet-dockerd.log)"
# its own session: the engine must outlive the shell, make or test run that started it
setsid nohup dockerd >/var/log/evalfleet-dockerd.log 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if answers; then say "Docker engine is up"; exit 0; fi
  sleep 1
done
say "dockerd did not answer within 60 s; see /var/log/evalfleet-dockerd.log"
exit 1
