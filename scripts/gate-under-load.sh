#!/usr/bin/env bash
# Proves the CI gate is not flaky on a busy machine (issue 12): clones the current commit afresh,
# then runs `bash .ci/run` N times in a row (default 5) while 40 extra ports listen on loopback and
# one core is kept busy by another process. Prints one line per run and a closing count.
# Usage: scripts/gate-under-load.sh [RUNS]   (logs in ${PORTWAY_GATE_DIR:-/tmp/portway-gate})
set -uo pipefail
RUNS="${1:-5}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${PORTWAY_GATE_DIR:-/tmp/portway-gate}"
rm -rf "$WORK" && mkdir -p "$WORK"
git clone -q "$ROOT" "$WORK/clone"
(cd "$WORK/clone" && git checkout -q "$(git -C "$ROOT" rev-parse HEAD)")

# 40 listeners on loopback, held by one process; one core spun by another.
node -e '
  const net = require("node:net");
  for (let i = 0; i < 40; i++) net.createServer((s) => s.destroy()).listen(0, "127.0.0.1");
  setInterval(() => {}, 1 << 30);
' &
LISTENERS=$!
node -e 'for (;;) {}' &
SPINNER=$!
trap 'kill $LISTENERS $SPINNER 2>/dev/null' EXIT

passed=0; failed=0
for run in $(seq 1 "$RUNS"); do
  start=$(date +%s)
  if (cd "$WORK/clone" && CI=true bash .ci/run </dev/null >"$WORK/run-$run.log" 2>&1); then
    passed=$((passed + 1)); verdict=green
  else
    failed=$((failed + 1)); verdict=RED
  fi
  summary=$(grep -E '^# (pass|fail) ' "$WORK/run-$run.log" | tr '\n' ' ')
  echo "run $run: $verdict in $(( $(date +%s) - start )) s; $summary(log: $WORK/run-$run.log)"
done
echo "$passed green, $failed red of $RUNS runs under load (40 extra listeners, one core busy)"
[ "$failed" -eq 0 ]
