#!/usr/bin/env bash
# Publishes every public workspace package whose version is not yet on the internal npm
# registry, through changesets (`changeset publish`, which runs `pnpm publish` per package
# and tags each published name@version in git). The release workflow runs this as
# changesets/action's `publish:` command, and check-publish.sh runs it against a real
# verdaccio, so what CI checks is what a release does.
#
#   MOLECULE_NPM_REGISTRY=https://npm.internal.example.com/ NODE_AUTH_TOKEN=... \
#     scripts/ship/publish-packages.sh [--report FILE]
#
#   MOLECULE_NPM_REGISTRY  the registry for the @molecule scope; refused when unset or public
#   NODE_AUTH_TOKEN        its auth token (read by npm and pnpm from the npmrc written here;
#                          never written to disk)
#   --report FILE          one line per public package: `published <name>@<version>` or
#                          `already <name>@<version>` (on the registry before this run)
#
# The packages must be built (pnpm build); pack-check runs first and nothing is published
# when a tarball would hold what it should not. A version already on the registry is not
# published again: changesets skips it, and it is listed as such. Changesets' stdout passes
# through unchanged: changesets/action reads its "New tag:" lines to learn what was
# published (its `published` output starts the image job).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/ship/lib.sh

report=""
case "${1:-}" in
  "") ;;
  --report) report="${2:?--report needs a file}" ;;
  *) ship_die "usage: MOLECULE_NPM_REGISTRY=... NODE_AUTH_TOKEN=... scripts/ship/publish-packages.sh [--report FILE]" ;;
esac

registry="${MOLECULE_NPM_REGISTRY:-}"
case "$registry" in
  "") ship_die "set MOLECULE_NPM_REGISTRY to the internal npm registry's URL (e.g. https://npm.internal.example.com/)" ;;
  *registry.npmjs.org* | *registry.yarnpkg.com*)
    ship_die "MOLECULE_NPM_REGISTRY=$registry is a public registry: the @molecule packages are internal" ;;
  http://* | https://*) ;;
  *) ship_die "MOLECULE_NPM_REGISTRY=$registry is not an http(s) URL" ;;
esac
registry="${registry%/}/"
[ -n "${NODE_AUTH_TOKEN:-}" ] || ship_die "set NODE_AUTH_TOKEN to a publish token for $registry"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The only npm config this run reads: the scope's registry and its token by reference (npm
# and pnpm expand ${NODE_AUTH_TOKEN}), so a machine's own ~/.npmrc changes nothing.
cat >"$work/npmrc" <<EOF
@molecule:registry=$registry
//${registry#*://}:_authToken=\${NODE_AUTH_TOKEN}
EOF
export NPM_CONFIG_USERCONFIG="$work/npmrc"

node scripts/ship/pack-check.mjs --no-build

# changesets picks the registry from npm_config_<scope>:registry, not from any npmrc (it
# would otherwise ask registry.npmjs.org whether a version exists); `export` cannot set a
# name with '@' and ':', env can.
# stderr joins stdout: changesets warns (a skipped version) on stderr, and the action reads
# stdout only.
env "npm_config_@molecule:registry=$registry" pnpm exec changeset publish 2>&1 | tee "$work/publish.log"

# What changesets did, from its own lines ("New tag:  <name>@<version>" for each package it
# published and tagged, "<name> is not being published because version <v> is already
# published" for each it skipped). Colours are on under CI=true (picocolors): drop them.
sed 's/\x1b\[[0-9;]*m//g' "$work/publish.log" >"$work/plain.log"
published="$(sed -n 's/^.*New tag: *\(@[^ ]*\)$/\1/p' "$work/plain.log" | sort)"
already="$(sed -n 's/^.* \(@[^ ]*\) is not being published because version \([^ ]*\) is already published.*$/\1@\2/p' "$work/plain.log" | sort)"
count() { [ -z "$1" ] && echo 0 || wc -l <<<"$1" | tr -d ' '; }
if [ -n "$report" ]; then
  : >"$report"
  [ -z "$published" ] || sed 's/^/published /' <<<"$published" >>"$report"
  [ -z "$already" ] || sed 's/^/already /' <<<"$already" >>"$report"
fi
[ -z "$published" ] || ship_ok "published to $registry: $(tr '\n' ' ' <<<"$published")"
[ -z "$already" ] || ship_log "already on $registry, not published again: $(tr '\n' ' ' <<<"$already")"
ship_ok "publish-packages: $(count "$published") published, $(count "$already") already on the registry"
