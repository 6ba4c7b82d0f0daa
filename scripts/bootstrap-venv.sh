#!/usr/bin/env bash
# Create the project's virtualenv and install evalfleet with its dev tools. Idempotent.
set -euo pipefail
venv="${1:-.venv}"
say() { echo "bootstrap-venv: $*" >&2; }

py=""
for cand in python3.11 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    py="$cand"; break
  fi
done
[ -n "$py" ] || { say "Python >= 3.11 not found; install python3.11 (Debian: apt-get install python3 python3-venv)"; exit 1; }

if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv with $py"
  "$py" -m venv "$venv" || { say "python venv failed; Debian: apt-get install python3-venv"; exit 1; }
fi
say "installing evalfleet[dev,hf] into $venv (log: $venv/install.log)"
if ! "$venv/bin/pip" install -q -e '.[dev,hf]' >"$venv/install.log" 2>&1; then
  tail -n 20 "$venv/install.log" >&2
  say "pip install failed (full log: $venv/install.log); check network access to the package index"
  exit 1
fi

# The official harness's per-repo table was dropped from swebench 5; the spec parity tests read it from
# the 4.1.0 wheel (never installed, only read). Best effort: the tests say how to fetch it if missing.
wheels="${HOME}/.cache/evalfleet/swebench"
if ! ls "$wheels"/swebench-4*.whl >/dev/null 2>&1; then
  mkdir -p "$wheels"
  "$venv/bin/pip" download -q --no-deps -d "$wheels" 'swebench==4.1.0' >>"$venv/install.log" 2>&1 \
    || say "could not download the swebench 4.1.0 wheel (spec parity tests will be skipped)"
fi
