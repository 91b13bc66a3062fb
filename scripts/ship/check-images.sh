#!/usr/bin/env bash
# Builds and runs the service images on a real Docker engine, privately:
#   1. starts its own dockerd (private socket and data root, overlay2 or vfs, no bridge,
#      no iptables; see ship_dockerd_start in lib.sh),
#   2. makes the local Node.js base image (docker/make-base-image.sh) and imports it,
#   3. stages both apps (build + pnpm deploy --prod) and builds their images (`prebuilt`),
#   4. runs each container (network none), waits until its HEALTHCHECK reports healthy,
#      checks user, labels, production-only dependencies, the socket and token wiring,
#   5. stops each with SIGTERM: exit code 0 within 10 s,
# and removes everything it made. Exit code non-zero on any failure.
#
#   scripts/ship/check-images.sh             (root; dockerd, docker from docker.io)
#   SHIP_NODE_VERSION=26 scripts/ship/check-images.sh
#   SHIP_KEEP=1 ...                          keep the engine's directory for a look afterwards
#   scripts/ship/check-images.sh --hand-over FILE
#       on success, leave the engine running with the base and both images (molecule/<app>:check)
#       and write FILE (shell assignments: SHIP_ENGINE_DIR, DOCKER_HOST, SHIP_BASE_IMAGE,
#       SHIP_IMAGE_TAG, SHIP_REVISION); whoever passed FILE stops the engine
#       (ship_dockerd_stop "$SHIP_ENGINE_DIR"). check-publish.sh does this. On failure the
#       engine is stopped as usual and FILE is not written.
#
# Outside CI a missing engine or non-root user skips (exit 0); with CI=true it fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/ship/lib.sh

hand_over=""
case "${1:-}" in
  "") ;;
  --hand-over) hand_over="${2:?--hand-over needs a file}" ;;
  *) ship_die "usage: scripts/ship/check-images.sh [--hand-over FILE]" ;;
esac

readonly STOP_LIMIT_MS=10000
readonly HEALTHY_TIMEOUT_S=90
# Containers never reach a registry (network none); the prefix only proves nothing falls
# back to ghcr.io, and that imagewatch stays healthy while its registry is unreachable.
readonly REGISTRY_PREFIX=127.0.0.1:5055/molecule-ai

[ "$(id -u)" -eq 0 ] || ship_skip_or_fail "check-images needs root to start a private dockerd"
for bin in dockerd docker containerd runc npm pnpm node tar ldd; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] ||
    ship_skip_or_fail "check-images needs $bin (Debian: apt-get install docker.io)"
done
export PATH="$PATH:/usr/sbin:/sbin"

total_start="$(ship_now_ms)"
work="$(mktemp -d /tmp/shipck-XXXXXX)" # short: unix socket paths must stay under ~100 chars
sock="$work/docker.sock" # ship_dockerd_start exports DOCKER_HOST=unix://$sock
export DOCKER_CONFIG="$work/cli" # the docker client's config stays private too
# The classic builder: it needs no buildx plugin and no BuildKit frontend image (nothing can
# be pulled here). The Dockerfiles keep to what it understands.
export DOCKER_BUILDKIT=0
mkdir -p "$work/cli" "$work/secrets"

containers=()
handed_over=0
cleanup() {
  local status=$? c
  set +e
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1; done
  [ "$handed_over" = 1 ] && exit "$status"
  ship_dockerd_stop "$work"
  if [ "${SHIP_KEEP:-}" = 1 ]; then
    ship_log "kept $work (SHIP_KEEP=1)"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. a private engine -----------------------------------------------------------------
step="$(ship_now_ms)"
ship_dockerd_start "$work"
ship_ok "private dockerd $(docker version -f '{{.Server.Version}}') on $sock, storage $(docker info -f '{{.Driver}}') ($(( ($(ship_now_ms) - step) / 1000 ))s)"

# --- 2. the base image ------------------------------------------------------------------
step="$(ship_now_ms)"
node_dir="$(ship_ensure_node "$SHIP_NODE_VERSION")"
node_version="$("$node_dir/bin/node" --version)"
node_major="${node_version#v}"
node_major="${node_major%%.*}"
base="molecule/node-base:$node_major"
docker/make-base-image.sh "$node_version" "$base" | sed 's/^/  /'
[ "$(docker run --rm --network none --user node "$base" node --version)" = "$node_version" ] ||
  ship_die "$base does not run node $node_version"
ship_ok "base image $base runs node $node_version as user node ($(( ($(ship_now_ms) - step) / 1000 ))s)"

# --- 3. stage and build -----------------------------------------------------------------
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
step="$(ship_now_ms)"
scripts/ship/stage-app.sh admin-api | sed 's/^/  /'
scripts/ship/stage-app.sh imagewatch --no-build | sed 's/^/  /'
ship_ok "staged both apps ($(( ($(ship_now_ms) - step) / 1000 ))s)"
for app in admin-api imagewatch; do
  step="$(ship_now_ms)"
  ship_build_image "$app" "$base" "molecule/$app:check" "$revision" "$work/build-$app.log"
  size="$(docker image inspect -f '{{.Size}}' "molecule/$app:check")"
  ship_ok "built molecule/$app:check, $(( size / 1000000 )) MB ($(( ($(ship_now_ms) - step) / 1000 ))s)"
done

# --- 4. run and probe -------------------------------------------------------------------
# Runs a node script inside a running container (the images have no shell).
in_container() {
  local container="$1"
  shift
  docker exec "$container" node -e "$@"
}

check_common() {
  local app="$1" container="$2" expected_version user labels
  expected_version="$(node -p "require('./apps/$app/package.json').version")"
  user="$(in_container "$container" 'process.stdout.write(String(process.getuid()))')"
  [ "$user" = 1000 ] || ship_die "$container runs as uid $user, expected 1000 (node)"
  labels="$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}} {{index .Config.Labels "org.opencontainers.image.revision"}} {{.Config.StopSignal}}' "molecule/$app:check")"
  [ "$labels" = "$expected_version $revision SIGTERM" ] ||
    ship_die "$app labels/stop signal: got '$labels', expected '$expected_version $revision SIGTERM'"
  # Production dependencies only: no dev tooling, no test-only workspace packages.
  in_container "$container" '
    const fs = require("node:fs");
    const store = fs.readdirSync("/app/node_modules/.pnpm");
    const dev = /^(vitest|@vitest\+|typescript@|tsup@|esbuild@|@esbuild\+|@biomejs\+|turbo@|tsx@|@types\+dockerode@|@molecule\+(fake-registry|real-parts|e2e))/;
    const extra = process.argv.slice(1);
    const bad = store.filter((d) => dev.test(d) || extra.some((p) => d.startsWith(p + "@")));
    if (bad.length) { console.error(bad.join(" ")); process.exit(1); }
    for (const f of ["/app/dist/main.js", "/app/package.json"]) fs.accessSync(f);
    if (fs.existsSync("/app/src")) { console.error("/app/src"); process.exit(1); }
  ' "${@:3}" || ship_die "$app image holds files or packages it should not (listed above)"
  ship_ok "$container: uid 1000, labels version=$expected_version revision=${revision:0:12}, production dependencies only"
}

stop_check() {
  local container="$1" start elapsed code
  start="$(ship_now_ms)"
  docker stop -t 10 "$container" >/dev/null
  elapsed=$(( $(ship_now_ms) - start ))
  code="$(docker inspect -f '{{.State.ExitCode}}' "$container")"
  [ "$code" = 0 ] || { docker logs --tail 10 "$container" >&2; ship_die "$container exited $code on SIGTERM, expected 0"; }
  [ "$elapsed" -lt "$STOP_LIMIT_MS" ] || ship_die "$container took ${elapsed} ms to stop (limit ${STOP_LIMIT_MS} ms)"
  ship_ok "$container stopped on SIGTERM in ${elapsed} ms, exit 0"
}

# admin-api refuses to start without a token (exit 2), and says so without a stack trace.
code=0
docker run --rm --network none -e "MOLECULE_IMAGE_REGISTRY=$REGISTRY_PREFIX" \
  molecule/admin-api:check >"$work/no-token.log" 2>&1 || code=$?
[ "$code" = 2 ] || { cat "$work/no-token.log" >&2; ship_die "admin-api without a token exited $code, expected 2"; }
ship_ok "admin-api without MOLECULE_ADMIN_TOKEN refuses to start (exit 2)"

# The token the compose way: a secret file, MOLECULE_ADMIN_TOKEN_FILE → MOLECULE_ADMIN_TOKEN.
token="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("hex"))')"
printf '%s\n' "$token" >"$work/secrets/admin-token"
chown 1000:1000 "$work/secrets/admin-token"
chmod 0400 "$work/secrets/admin-token"
socket_gid="$(stat -c %g "$sock")"

step="$(ship_now_ms)"
containers+=(ship-admin-api)
docker run -d --name ship-admin-api --network none \
  --health-interval 1s --health-start-period 30s \
  --group-add "$socket_gid" \
  -v "$sock:/var/run/docker.sock" \
  -v "$work/secrets/admin-token:/run/secrets/admin_token:ro" \
  -e MOLECULE_ADMIN_TOKEN_FILE=/run/secrets/admin_token \
  -e "MOLECULE_IMAGE_REGISTRY=$REGISTRY_PREFIX" \
  molecule/admin-api:check >/dev/null
ship_wait_healthy ship-admin-api "$HEALTHY_TIMEOUT_S"
# The other service's own dependencies stay out: imagewatch's PostgreSQL client here,
# admin-api's Docker client there. (pino-pretty is in both: service-kit's logger loads it
# when stdout is a terminal.)
check_common admin-api ship-admin-api pg
# The engine through the mounted socket as uid 1000 with the socket's group, and the
# token from the secret file: 401 with a wrong token, 200 with the right one.
in_container ship-admin-api '
  const token = require("node:fs").readFileSync("/run/secrets/admin_token", "utf8").trim();
  const base = "http://127.0.0.1:8080";
  (async () => {
    const ready = await fetch(base + "/readyz");
    const wrong = await fetch(base + "/admin/workspace-images", { headers: { authorization: "Bearer wrong" } });
    const right = await fetch(base + "/admin/workspace-images", { headers: { authorization: "Bearer " + token } });
    const list = await right.json();
    const prefix = process.argv[1];
    const ok = ready.status === 200 && wrong.status === 401 && right.status === 200 &&
      Array.isArray(list) && list.length > 0 && list.every((i) => i.image.startsWith(prefix + "/"));
    console.log(`readyz ${ready.status}, wrong token ${wrong.status}, right token ${right.status}, ${list.length ?? 0} runtimes`);
    process.exit(ok ? 0 : 1);
  })().catch((e) => { console.error(e.message); process.exit(1); });
' "$REGISTRY_PREFIX" >"$work/probe.log" 2>&1 ||
  { cat "$work/probe.log" >&2; docker logs --tail 10 ship-admin-api >&2; ship_die "admin-api: engine or token wiring is wrong"; }
ship_ok "admin-api: engine reachable through the socket (group $socket_gid), token from the secret file ($(cat "$work/probe.log"))"
# Without the group, the service user cannot open the socket: the group is the only grant.
docker run --rm --network none --entrypoint node -v "$sock:/var/run/docker.sock" molecule/admin-api:check -e '
  const socket = require("node:net").connect("/var/run/docker.sock");
  socket.on("connect", () => { console.log("connected without the socket group"); process.exit(1); });
  socket.on("error", (e) => { console.log(e.code); process.exit(e.code === "EACCES" ? 0 : 1); });
' >"$work/nogroup.log" 2>&1 || { cat "$work/nogroup.log" >&2; ship_die "admin-api image reaches the socket without the socket group"; }
ship_ok "admin-api without --group-add: socket refused ($(cat "$work/nogroup.log"))"
stop_check ship-admin-api
ship_ok "admin-api container checks ($(( ($(ship_now_ms) - step) / 1000 ))s)"

step="$(ship_now_ms)"
containers+=(ship-imagewatch)
docker run -d --name ship-imagewatch --network none \
  --health-interval 1s --health-start-period 30s \
  -v ship-imagewatch-state:/var/lib/imagewatch \
  -e IMAGE_AUTO_REFRESH=false \
  -e IMAGE_WATCH_INTERVAL=1h \
  -e "MOLECULE_IMAGE_REGISTRY=$REGISTRY_PREFIX" \
  molecule/imagewatch:check >/dev/null
ship_wait_healthy ship-imagewatch "$HEALTHY_TIMEOUT_S"
check_common imagewatch ship-imagewatch dockerode
in_container ship-imagewatch '
  const fs = require("node:fs");
  fs.writeFileSync("/var/lib/imagewatch/.probe", "x");
  fs.rmSync("/var/lib/imagewatch/.probe");
' || ship_die "imagewatch cannot write its state volume as uid 1000"
ship_ok "imagewatch: state volume /var/lib/imagewatch writable by the service user"
stop_check ship-imagewatch
ship_ok "imagewatch container checks ($(( ($(ship_now_ms) - step) / 1000 ))s)"

ship_ok "check-images passed in $(( ($(ship_now_ms) - total_start) / 1000 ))s"

if [ -n "$hand_over" ]; then
  # The containers go (cleanup), the engine, the base and the images stay for the caller.
  {
    printf 'SHIP_ENGINE_DIR=%q\n' "$work"
    printf 'DOCKER_HOST=%q\n' "$DOCKER_HOST"
    printf 'SHIP_BASE_IMAGE=%q\n' "$base"
    printf 'SHIP_IMAGE_TAG=check\n'
    printf 'SHIP_REVISION=%q\n' "$revision"
  } >"$hand_over"
  handed_over=1
  ship_log "engine handed over: $DOCKER_HOST, images molecule/{admin-api,imagewatch}:check ($hand_over)"
fi
