#!/usr/bin/env bash
# Run each given test RUNS times, one at a time; print and keep (soak-results.txt) how often each passed.
# Usage: scripts/soak.sh RUNS TEST [TEST ...]   (a TEST is a pytest node id or a test file)
set -uo pipefail
runs="$1"; shift
out="soak-results.txt"
: >"$out"
status=0
for test in "$@"; do
  passed=0
  for i in $(seq 1 "$runs"); do
    if .venv/bin/pytest -q -p no:cacheprovider "$test" >"soak-last.log" 2>&1; then
      passed=$((passed + 1))
    else
      cp soak-last.log "soak-failure-$(basename "${test//::/-}")-$i.log"
    fi
    echo "soak: $test run $i/$runs: $passed passed so far" >&2
  done
  echo "$passed/$runs $test" | tee -a "$out"
  [ "$passed" = "$runs" ] || status=1
done
exit "$status"
