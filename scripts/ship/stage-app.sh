#!/usr/bin/env bash
# Stages one app for its image's `prebuilt` target: builds it (and the workspace packages it
# depends on) and runs `pnpm deploy --prod --legacy` into .tmp/ship/<app>: dist/, package.json
# and node_modules with that app's production dependencies only (workspace packages copied
# as they would be published: their `files`). The Dockerfile copies that directory and
# nothing else, so the image build itself downloads nothing.
#
#   scripts/ship/stage-app.sh admin-api|imagewatch [--no-build]
#
# --legacy: pnpm 10's `deploy` otherwise requires inject-workspace-packages=true for the
# whole workspace; the legacy implementation gives the same result for a single app.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/ship/lib.sh

app="${1:-}"
case "$app" in
  admin-api | imagewatch) ;;
  *) ship_die "usage: scripts/ship/stage-app.sh admin-api|imagewatch [--no-build]" ;;
esac
package="@molecule/$app"
out=".tmp/ship/$app"

if [ "${2:-}" != "--no-build" ]; then
  pnpm exec turbo run build --filter="$package..." --output-logs=errors-only >/dev/null ||
    ship_die "build of $package failed (run: pnpm exec turbo run build --filter=$package...)"
fi
[ -f "apps/$app/dist/main.js" ] || ship_die "apps/$app/dist/main.js is missing: build $package first"

rm -rf "$out"
mkdir -p .tmp/ship
pnpm --filter "$package" deploy --prod --legacy --reporter=silent "$out" >/dev/null ||
  ship_die "pnpm deploy of $package failed"
[ -f "$out/dist/main.js" ] || ship_die "$out/dist/main.js missing after pnpm deploy"
# The state of the pnpm store is not part of the image.
rm -f "$out/node_modules/.modules.yaml"
ship_ok "staged $package in $out ($(du -sm "$out" | cut -f1) MB)"
