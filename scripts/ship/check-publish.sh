#!/usr/bin/env bash
# The release, for real, on this machine: the packages published to a real private npm
# registry and installed back from it, the images pushed to a real image registry and
# pulled back, through the same two scripts the release workflow runs.
#
#   1. images    check-images.sh --hand-over: both images built and checked on a private
#                dockerd, which it leaves running, with the images, for the steps below
#   2. registry  CNCF distribution with token auth, anonymous pulls refused
#                (real-registry.ts), a template image per runtime pushed over its API
#   3. push      push-images.sh (the release's image job): both service images pushed
#                through the private engine, removed locally with their base, pulled back
#                by digest, run to healthy
#   4. compose   check-compose-up.sh: compose.yaml up on the same engine, both images pulled
#                from the registry by compose, healthy, wired as written, stopped, removed
#   5. npm       verdaccio from the npm registry, installed into $MOLECULE_CACHE_DIR
#                (never into the workspace), on loopback; a publish user
#   6. publish   publish-packages.sh (the release's publish step: changesets → pnpm publish);
#                the git tags changesets makes go to a scratch repository, not this one
#   7. again     the same versions once more: changesets skips them and says so, and the
#                registry itself refuses an overwrite (409)
#   8. install   npm install of every published package from the registry, in a scratch
#                directory outside the workspace; the installed admin-api bin starts
#   9. consumer  publish-consumer.mjs resolves the pushed digests with the installed
#                @molecule/registry and @molecule/registry-client
#  10. cli       the installed `imagewatch check --json` against the same registry: exit 0
#                with credentials from the environment, and with the docker login alone;
#                without any, exit 1 and every runtime UNAUTHORIZED
# then stops everything it started, the engine included. Each stage prints its time; the
# last line is
#   publish: packages=<n> installed=ok consumer=ok cli=ok images=<m> pulled=ok
#
#   scripts/ship/check-publish.sh        (root; scripts/test runs it among the ship checks)
#   SHIP_KEEP=1 ...                      keep the scratch directory for a look afterwards
#
# Outside CI a missing binary or non-root user skips (exit 0); with CI=true it fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/ship/lib.sh

readonly APPS=(admin-api imagewatch)

[ "$(id -u)" -eq 0 ] || ship_skip_or_fail "check-publish needs root to start a private dockerd"
for bin in docker-registry dockerd docker containerd runc openssl busybox git npm pnpm node timeout; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || [ -x "/bin/$bin" ] ||
    ship_skip_or_fail "check-publish needs $bin (scripts/lib/setup.sh installs the Debian packages)"
done
export PATH="$PATH:/usr/sbin:/sbin"

total_start="$(ship_now_ms)"
work="$(mktemp -d /tmp/shippub-XXXXXX)"
export DOCKER_CONFIG="$work/docker" # the docker client's login stays in here
mkdir -p "$DOCKER_CONFIG"

stage="" stage_start=0
timings=()
begin() {
  stage="$1"
  stage_start="$(ship_now_ms)"
  ship_log "--- $stage: $2"
}
done_stage() {
  local took
  took="$(ship_secs "$stage_start")"
  timings+=("$stage $took")
  ship_ok "$stage: ${1:-done} ($took)"
}

registry_pid="" verdaccio_pid="" engine_dir=""
cleanup() {
  local status=$? pid
  set +e
  for pid in "$verdaccio_pid" "$registry_pid"; do
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  # The registry helper stops docker-registry itself; this is for a helper that was killed.
  [ -f "$work/registry.json" ] &&
    kill -KILL "$(node -p 'require(process.argv[1]).registryPid' "$work/registry.json")" 2>/dev/null
  if [ -n "$engine_dir" ]; then
    ship_dockerd_stop "$engine_dir" # its containers and networks first
    rm -rf "$engine_dir"
  fi
  if [ "${SHIP_KEEP:-}" = 1 ]; then
    ship_log "kept $work (SHIP_KEEP=1)"
  else
    rm -rf "$work"
  fi
  [ "$status" -eq 0 ] || echo "publish: FAIL in stage ${stage:-setup} (exit $status)"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. images: built and checked by check-images.sh, which hands its engine over ---------
begin images "check-images.sh on a private dockerd, handing over its engine"
scripts/ship/check-images.sh --hand-over "$work/engine.env"
[ -f "$work/engine.env" ] || ship_skip_or_fail "check-images.sh skipped, so there are no images to push"
# shellcheck source=/dev/null
source "$work/engine.env"
engine_dir="$SHIP_ENGINE_DIR"
export DOCKER_HOST
for app in "${APPS[@]}"; do
  docker image inspect "molecule/$app:$SHIP_IMAGE_TAG" >/dev/null ||
    ship_die "check-images handed over no molecule/$app:$SHIP_IMAGE_TAG"
done
done_stage "engine $DOCKER_HOST with molecule/{$(IFS=,; echo "${APPS[*]}")}:$SHIP_IMAGE_TAG and $SHIP_BASE_IMAGE"

# --- 2. the image registry ----------------------------------------------------------------
begin registry "CNCF distribution with token auth, template images"
node --import tsx --conditions=@molecule/source scripts/ship/real-registry.ts "$work/registry.json" \
  >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 300); do
  [ -f "$work/registry.json" ] && break
  kill -0 "$registry_pid" 2>/dev/null || { cat "$work/registry.log" >&2; ship_die "the registry helper exited"; }
  sleep 0.1
done
[ -f "$work/registry.json" ] || { cat "$work/registry.log" >&2; ship_die "the registry did not start within 30 s"; }
json() { node -p "const v = require(process.argv[1])$2; typeof v === 'string' ? v : JSON.stringify(v)" "$1"; }
image_prefix="$(json "$work/registry.json" .prefix)"
image_user="$(json "$work/registry.json" .username)"
image_password="$(json "$work/registry.json" .password)"
sed 's/^/  /' "$work/registry.log"
done_stage "MOLECULE_IMAGE_REGISTRY=$image_prefix"

# --- 3. push: the release's image job --------------------------------------------------------
begin push "scripts/ship/push-images.sh, the release workflow's image step"
MOLECULE_IMAGE_REGISTRY="$image_prefix" \
  MOLECULE_IMAGE_PUSH_USERNAME="$image_user" MOLECULE_IMAGE_PUSH_PASSWORD="$image_password" \
  scripts/ship/push-images.sh --source "molecule/{app}:$SHIP_IMAGE_TAG" --revision "$SHIP_REVISION" \
  --drop "$SHIP_BASE_IMAGE" --digests "$work/digests" "${APPS[@]}" | sed 's/^/  /'
images="$(wc -l <"$work/digests" | tr -d ' ')"
[ "$images" = "${#APPS[@]}" ] || ship_die "push-images reported $images images, expected ${#APPS[@]}"
! docker image inspect "$SHIP_BASE_IMAGE" >/dev/null 2>&1 ||
  ship_die "$SHIP_BASE_IMAGE is still here: the pulls did not have to fetch every layer"
done_stage "$images images pushed, pulled back by digest, healthy"

# --- 4. compose.yaml, for real, from the pushed images ------------------------------------------
begin compose "compose.yaml up from the image registry (check-compose-up.sh)"
MOLECULE_SERVICES_IMAGE_PREFIX="$image_prefix" MOLECULE_SERVICES_TAG="sha-$SHIP_REVISION" \
  MOLECULE_IMAGE_REGISTRY="$image_prefix" scripts/ship/check-compose-up.sh | sed 's/^/  /'
done_stage "both services up from $image_prefix, healthy, wired as written, stopped, removed"

# --- 5. a real private npm registry ------------------------------------------------------------
begin npm "verdaccio $SHIP_VERDACCIO_VERSION on loopback"
step="$(ship_now_ms)"
cached=yes
[ -f "$MOLECULE_CACHE_DIR/verdaccio-$SHIP_VERDACCIO_VERSION/.installed" ] || cached=no
verdaccio_bin="$(ship_ensure_verdaccio)"
ship_ok "verdaccio $SHIP_VERDACCIO_VERSION in $(dirname "$(dirname "$(dirname "$verdaccio_bin")")") ($([ "$cached" = yes ] && echo cached || echo "installed with npm in $(ship_secs "$step")"))"
mkdir -p "$work/verdaccio"
# Internal packages only: the @molecule scope needs a login to read and to publish, and
# nothing is proxied (no uplinks), so a public package can never stand in for an internal one.
cat >"$work/verdaccio/config.yaml" <<EOF
storage: $work/verdaccio/storage
auth:
  htpasswd:
    file: $work/verdaccio/htpasswd
    max_users: 1
uplinks: {}
packages:
  '@molecule/*':
    access: \$authenticated
    publish: \$authenticated
    unpublish: \$authenticated
  '**':
    access: \$authenticated
    publish: \$authenticated
web:
  enable: false
log: { type: stdout, format: json, level: warn }
EOF
npm_port="$(ship_free_port)"
npm_registry="http://127.0.0.1:$npm_port/"
node "$verdaccio_bin" --config "$work/verdaccio/config.yaml" --listen "127.0.0.1:$npm_port" \
  >"$work/verdaccio/verdaccio.log" 2>&1 &
verdaccio_pid=$!
node scripts/ship/npm-registry.mjs wait "$npm_registry" ||
  { cat "$work/verdaccio/verdaccio.log" >&2; ship_die "verdaccio did not start"; }
npm_token="$(NPM_USER_PASSWORD="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(18).toString("hex"))')" \
  node scripts/ship/npm-registry.mjs adduser "$npm_registry" molecule-release)"
done_stage "MOLECULE_NPM_REGISTRY=$npm_registry, user molecule-release"

# --- 6. publish: the release's publish step ----------------------------------------------------
begin publish "scripts/ship/publish-packages.sh, the release workflow's publish step"
mapfile -t expected < <(node --input-type=module -e '
  import { publishablePackages } from "./scripts/ship/pack-check.mjs";
  for (const p of publishablePackages()) console.log(`${p.name}@${p.version}`);')
# changesets tags each published name@version in git; here they go to a scratch repository.
git init -q "$work/tags"
export GIT_AUTHOR_NAME=molecule-check GIT_AUTHOR_EMAIL=check@molecule.invalid
export GIT_COMMITTER_NAME=molecule-check GIT_COMMITTER_EMAIL=check@molecule.invalid
git -C "$work/tags" commit -q --allow-empty -m "scratch repository for changesets' tags"
publish() {
  GIT_DIR="$work/tags/.git" MOLECULE_NPM_REGISTRY="$npm_registry" NODE_AUTH_TOKEN="$npm_token" \
    scripts/ship/publish-packages.sh --report "$1" >"$1.log" 2>&1 ||
    { cat "$1.log" >&2; ship_die "publish-packages.sh failed"; }
  # What it did, without changesets' info lines (and colours, which CI=true turns on).
  sed 's/\x1b\[[0-9;]*m//g' "$1.log" |
    grep -E '^(\[ship\]|🦋  (success|New tag|warn .* is not being published))' | sed 's/^/  /' || true
}
publish "$work/publish-1"
published="$(sed -n 's/^published //p' "$work/publish-1" | sort)"
[ "$published" = "$(printf '%s\n' "${expected[@]}" | sort)" ] ||
  ship_die "published: $(echo $published); expected every public package: ${expected[*]}"
tags="$(git -C "$work/tags" tag -l | sort)"
[ "$tags" = "$published" ] || ship_die "changesets tagged '$(echo $tags)', expected '$(echo $published)'"
done_stage "${#expected[@]} packages published, ${#expected[@]} git tags (New tag: lines for changesets/action)"

# --- 7. the same versions again ----------------------------------------------------------------
begin again "publishing the same versions twice"
publish "$work/publish-2"
[ -z "$(sed -n 's/^published //p' "$work/publish-2")" ] || ship_die "the second publish published something"
already="$(sed -n 's/^already //p' "$work/publish-2" | sort)"
[ "$already" = "$published" ] || ship_die "the second publish skipped '$(echo $already)', expected '$(echo $published)'"
first="${expected[0]}"
refusal="$(NODE_AUTH_TOKEN="$npm_token" node scripts/ship/npm-registry.mjs republish "$npm_registry" "${first%@*}" "${first##*@}")" ||
  ship_die "the registry accepted $first a second time"
ship_ok "a direct PUT of $first again: the registry answers $refusal"
done_stage "changesets skipped all ${#expected[@]} (reported above), the registry refuses an overwrite"

# --- 8. install from the registry, outside the workspace ------------------------------------------
begin install "npm install of every published package in a scratch directory"
consumer="$work/consumer"
mkdir -p "$consumer"
printf '%s\n' "${expected[@]}" | node -e '
  const lines = require("node:fs").readFileSync(0, "utf8").trim().split("\n");
  const dependencies = Object.fromEntries(lines.map((l) => [l.slice(0, l.lastIndexOf("@")), l.slice(l.lastIndexOf("@") + 1)]));
  console.log(JSON.stringify({ name: "molecule-publish-consumer", private: true, type: "module", dependencies }, null, 2));
' >"$consumer/package.json"
# What an internal consumer writes: the scope's registry and its token; the rest of the
# dependencies come from the machine's default registry.
cat >"$consumer/.npmrc" <<EOF
@molecule:registry=$npm_registry
//127.0.0.1:$npm_port/:_authToken=\${NODE_AUTH_TOKEN}
EOF
(cd "$consumer" && NODE_AUTH_TOKEN="$npm_token" npm install --no-fund --no-audit >npm-install.log 2>&1) ||
  { tail -n 30 "$consumer/npm-install.log" >&2; ship_die "npm install from $npm_registry failed"; }
# Engine warnings a consumer on this Node.js would see, named (they do not fail the install).
awk -F"'" '/EBADENGINE +package:/ { pkg = $2 } /EBADENGINE +required:/ && pkg { print "  npm warned: " pkg " wants node " $2 "; this is node '"$(node --version)"'"; pkg = "" }' \
  "$consumer/npm-install.log" | sort -u
# Where each came from: its integrity must be the one the registry serves for that version
# (lockfiles may omit `resolved`: omit-lockfile-registry-resolved is set on some machines).
NODE_AUTH_TOKEN="$npm_token" node --input-type=module -e '
  const [dir, registry, ...wanted] = process.argv.slice(1);
  const { readFileSync } = await import("node:fs");
  const lock = JSON.parse(readFileSync(`${dir}/node_modules/.package-lock.json`, "utf8")).packages;
  const headers = { authorization: `Bearer ${process.env.NODE_AUTH_TOKEN}` };
  let bad = 0;
  for (const spec of wanted) {
    const at = spec.lastIndexOf("@");
    const name = spec.slice(0, at), version = spec.slice(at + 1);
    const entry = lock[`node_modules/${name}`];
    const served = await (await fetch(`${registry}${name.replace("/", "%2f")}`, { headers })).json();
    const integrity = served.versions?.[version]?.dist?.integrity;
    if (!entry || entry.version !== version || !integrity || entry.integrity !== integrity) {
      console.error(`${name}: installed ${JSON.stringify(entry)}, the registry serves ${integrity}`);
      bad++;
    }
  }
  console.log(`  installed ${wanted.length} @molecule packages, each with the integrity ${registry} serves (${Object.keys(lock).length} packages in all)`);
  process.exit(bad ? 1 : 0);
' "$consumer" "$npm_registry" "${expected[@]}" || ship_die "an installed @molecule package did not come from $npm_registry"
# The installed admin-api bin starts and answers /healthz (it needs no engine for that).
admin_port="$(ship_free_port)"
(cd "$consumer" && MOLECULE_ADMIN_TOKEN="$npm_token" ADMIN_API_PORT="$admin_port" \
  MOLECULE_IMAGE_REGISTRY="$image_prefix" DOCKER_HOST="$DOCKER_HOST" \
  exec node_modules/.bin/admin-api >"$work/admin-api.log" 2>&1) &
admin_pid=$!
for _ in $(seq 1 100); do
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))' \
    "http://127.0.0.1:$admin_port/healthz" && break
  kill -0 "$admin_pid" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$admin_pid" 2>/dev/null
code=0
wait "$admin_pid" || code=$?
grep -q '"Server listening' "$work/admin-api.log" && [ "$code" = 0 ] ||
  { cat "$work/admin-api.log" >&2; ship_die "the installed admin-api did not answer /healthz and exit 0 on SIGTERM (exit $code)"; }
ship_ok "installed admin-api bin answered /healthz and exited 0 on SIGTERM"
done_stage "${#expected[@]} packages and their dependencies, admin-api runs"

# --- 9. a consumer of the libraries -----------------------------------------------------------------
begin consumer "registry-client and registry, as installed, against the real registry"
cp scripts/ship/publish-consumer.mjs "$consumer/"
node -e '
  const fs = require("node:fs");
  const [digests, registry] = process.argv.slice(1);
  const services = fs.readFileSync(digests, "utf8").trim().split("\n").map((line) => {
    const [app, version, ref] = line.split(" ");
    return { app, version, digest: ref.slice(ref.indexOf("@") + 1) };
  });
  console.log(JSON.stringify({ services, templates: require(registry).templates }));
' "$work/digests" "$work/registry.json" >"$consumer/expected.json"
# The credentials from the environment only (no docker login: an empty Docker config).
mkdir -p "$work/no-docker-config"
(cd "$consumer" && MOLECULE_IMAGE_REGISTRY="$image_prefix" MOLECULE_REGISTRY_USERNAME="$image_user" \
  MOLECULE_REGISTRY_PASSWORD="$image_password" DOCKER_CONFIG="$work/no-docker-config" \
  node publish-consumer.mjs expected.json) |
  sed 's/^/  /' || ship_die "the consumer failed"
done_stage "every pushed digest resolved by the installed packages"

# --- 10. the installed CLI ------------------------------------------------------------------------------
begin cli "the installed imagewatch check --json"
# One pass of the installed bin; $1 names the variant, $2 a Docker config directory, the rest
# extra environment. Prints the exit code; the JSON goes to $work/check-$1.json.
imagewatch_check() {
  local name="$1" docker_config="$2" code=0
  shift 2
  (cd "$consumer" && env MOLECULE_IMAGE_REGISTRY="$image_prefix" IMAGE_WATCH_DATA_DIR="$work/imagewatch" \
    DOCKER_CONFIG="$docker_config" "$@" node_modules/.bin/imagewatch check --json) \
    >"$work/check-$name.json" 2>"$work/check-$name.err" || code=$?
  echo "$code"
}
# Every runtime resolved to the digest pushed for it (exit 0), or every one refused.
verdict() {
  node -e '
    const [out, registry, want] = process.argv.slice(1);
    const result = require(out), pushed = require(registry).templates;
    const all = result.results.length === Object.keys(pushed).length;
    const ok = result.ok && all && result.results.every((r) => r.digest === pushed[r.runtime]);
    const refused = !result.ok && all && result.results.every((r) => r.error?.code === "UNAUTHORIZED");
    process.exit((want === "resolved" ? ok : refused) ? 0 : 1);
  ' "$work/check-$1.json" "$work/registry.json" "$2" ||
    { cat "$work/check-$1.json" "$work/check-$1.err" >&2; ship_die "imagewatch check ($1): not every runtime $2"; }
}
empty_docker_config="$work/no-docker-config"
mkdir -p "$empty_docker_config"
code="$(imagewatch_check env "$empty_docker_config" \
  MOLECULE_REGISTRY_USERNAME="$image_user" MOLECULE_REGISTRY_PASSWORD="$image_password")"
[ "$code" = 0 ] || { cat "$work/check-env.json" "$work/check-env.err" >&2; ship_die "imagewatch check --json exited $code, expected 0"; }
verdict env resolved
ship_ok "MOLECULE_REGISTRY_USERNAME/PASSWORD: exit 0, all 9 runtimes at the digests pushed"
# The docker login push-images.sh made is a credential too (the resolver's Docker config step).
code="$(imagewatch_check docker-config "$DOCKER_CONFIG")"
[ "$code" = 0 ] || { cat "$work/check-docker-config.json" >&2; ship_die "imagewatch check with the docker login only: exit $code, expected 0"; }
verdict docker-config resolved
ship_ok "the docker login only (DOCKER_CONFIG): exit 0, the same digests"
# No credentials at all: the registry refuses anonymous pulls, and the CLI says so.
code="$(imagewatch_check anonymous "$empty_docker_config")"
[ "$code" = 1 ] || { cat "$work/check-anonymous.json" >&2; ship_die "imagewatch check without credentials: exit $code, expected 1"; }
verdict anonymous refused
ship_ok "no credentials: exit 1, every runtime UNAUTHORIZED (anonymous pulls refused)"
done_stage "exit 0 with credentials (environment or docker login), exit 1 without"

ship_log "times: $(printf '%s, ' "${timings[@]}" | sed 's/, $//'); total $(ship_secs "$total_start")"
echo "publish: packages=${#expected[@]} installed=ok consumer=ok cli=ok images=$images pulled=ok"
