#!/usr/bin/env bash
# Install the Debian packages named on the command line whose command is missing. Idempotent: when all
# are present it returns at once. Arguments are COMMAND[:PACKAGE] (the package defaults to the command).
#   host set-up for the demo:  debootstrap git  (base images are built from a Debian rootfs)
#   tests, in addition:        chromium node:nodejs docker-registry  (report.html in a real browser;
#                              node --test parity; an image registry on 127.0.0.1)
set -euo pipefail
say() { echo "ensure-packages: $*" >&2; }

need=()
for spec in "$@"; do
  cmd="${spec%%:*}"; pkg="${spec#*:}"
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  say "missing ${need[*]}; install them (Debian: apt-get install ${need[*]})"
  exit 1
fi
say "installing ${need[*]} from Debian (log: /tmp/evalfleet-apt.log)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >>/tmp/evalfleet-apt.log 2>&1 || { say "apt-get update failed, see /tmp/evalfleet-apt.log"; exit 1; }
apt-get install -y -q --no-install-recommends "${need[@]}" >>/tmp/evalfleet-apt.log 2>&1 \
  || { say "apt-get install ${need[*]} failed, see /tmp/evalfleet-apt.log"; exit 1; }
