#!/usr/bin/env bash
# compose.yaml for real, on the engine at DOCKER_HOST, with the service images pulled from
# the image registry by compose itself:
#   1. `pull` both images (MOLECULE_SERVICES_IMAGE_PREFIX, MOLECULE_SERVICES_TAG; the docker
#      client's login in DOCKER_CONFIG),
#   2. `up -d`: admin-api first, imagewatch once admin-api is healthy (depends_on),
#   3. both healthy; admin-api answers on its published loopback port (401 with a wrong
#      token, 200 with the secret file's), imagewatch too; imagewatch reaches admin-api by
#      its service name; read-only root, no capabilities, no-new-privileges, the socket in
#      admin-api only (through DOCKER_GID), imagewatch's state on the named volume,
#   4. `stop`: both exit 0 on SIGTERM, 5. `down -v`: nothing left.
#
#   MOLECULE_SERVICES_IMAGE_PREFIX=<prefix> MOLECULE_SERVICES_TAG=<tag> \
#   MOLECULE_IMAGE_REGISTRY=<prefix> DOCKER_HOST=unix:///path/docker.sock scripts/ship/check-compose-up.sh
#
# check-publish.sh runs it after push-images.sh, on its private engine. The compose file is
# used as it is, with one override file of this check's own: healthchecks every second (the
# images say 15 s) so the run takes seconds. Compose: the `docker compose` plugin when there
# is one, else Debian's docker-compose 1.29, which predates the top-level `name:` key: it
# gets a copy without that line and the same name as its project name (-p).
#
# Compose gives the project a bridge network (the engine's default bridge is off, user
# networks are not). Nothing in it reaches off this machine: MOLECULE_IMAGE_REGISTRY must be
# a loopback prefix, which inside a container answers nothing; admin-api is never asked to
# pull. `down` removes the network and its host bridge.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/ship/lib.sh

readonly HEALTHY_TIMEOUT_S=90
readonly STOP_LIMIT_MS=15000
: "${MOLECULE_SERVICES_IMAGE_PREFIX:?the prefix the service images were pushed to}"
: "${MOLECULE_SERVICES_TAG:?the tag of both service images}"
case "${MOLECULE_IMAGE_REGISTRY:?a loopback image prefix for the services}" in
  127.* | localhost:* | localhost/*) ;;
  *) ship_die "MOLECULE_IMAGE_REGISTRY=$MOLECULE_IMAGE_REGISTRY: this check wants a loopback registry (nothing may leave the machine)" ;;
esac
socket="${DOCKER_HOST:-}"
socket="${socket#unix://}"
[ -S "$socket" ] || ship_die "DOCKER_HOST must name the engine's unix socket (got '${DOCKER_HOST:-}')"

start="$(ship_now_ms)"
project="$(sed -n 's/^name: *//p' compose.yaml)"
[ -n "$project" ] || ship_die "compose.yaml has no top-level name:"
work="$(mktemp -d /tmp/shipcompose-XXXXXX)"
file=compose.yaml
if docker compose version >/dev/null 2>&1; then
  compose_cmd=(docker compose)
  label="docker compose $(docker compose version --short)"
elif command -v docker-compose >/dev/null 2>&1; then
  compose_cmd=(docker-compose)
  label="docker-compose $(docker-compose version --short)"
  file="$work/compose.v1.yaml"
  sed '/^name:/d' compose.yaml >"$file"
else
  rm -rf "$work"
  ship_skip_or_fail "no compose implementation (docker compose plugin, or Debian's docker-compose)"
fi

cat >"$work/compose.check.yaml" <<'EOF'
# check-compose-up.sh only: health every second instead of the images' 15 s.
services:
  admin-api:
    healthcheck: { interval: 1s, timeout: 5s, retries: 3, start_period: 30s }
  imagewatch:
    healthcheck: { interval: 1s, timeout: 5s, retries: 3, start_period: 30s }
EOF
mkdir -p "$work/secrets"
token="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("hex"))')"
printf '%s\n' "$token" >"$work/secrets/molecule-admin-token"
chown 1000:1000 "$work/secrets/molecule-admin-token"
chmod 0400 "$work/secrets/molecule-admin-token"
admin_port="$(ship_free_port)"
watch_port="$(ship_free_port)"
export DOCKER_GID="$(stat -c %g "$socket")" DOCKER_SOCKET="$socket"
export MOLECULE_ADMIN_TOKEN_SECRET_FILE="$work/secrets/molecule-admin-token"
export ADMIN_API_PUBLISHED_PORT="$admin_port" IMAGE_WATCH_PUBLISHED_PORT="$watch_port"
export IMAGE_WATCH_INTERVAL=1h IMAGE_AUTO_REFRESH=false
compose() {
  "${compose_cmd[@]}" -p "$project" -f "$file" -f "$work/compose.check.yaml" \
    --project-directory "$PWD" "$@"
}
cleanup() {
  local status=$?
  set +e
  compose down -v --remove-orphans >"$work/down.log" 2>&1
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1, 2. pull and up ----------------------------------------------------------------------
step="$(ship_now_ms)"
compose pull >"$work/pull.log" 2>&1 || { cat "$work/pull.log" >&2; ship_die "$label pull failed"; }
ship_ok "$label pull: $MOLECULE_SERVICES_IMAGE_PREFIX/{admin-api,imagewatch}:$MOLECULE_SERVICES_TAG ($(ship_secs "$step"))"
step="$(ship_now_ms)"
compose up -d --no-build >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; compose logs --tail 20 >&2; ship_die "$label up failed"; }
admin="$(compose ps -q admin-api)"
watch="$(compose ps -q imagewatch)"
[ -n "$admin" ] && [ -n "$watch" ] || { compose ps >&2; ship_die "$label up did not create both containers"; }
ship_wait_healthy "$admin" "$HEALTHY_TIMEOUT_S" | sed "s/$admin/admin-api/"
ship_wait_healthy "$watch" "$HEALTHY_TIMEOUT_S" | sed "s/$watch/imagewatch/"
ship_ok "$label up -d: project $project, both healthy ($(ship_secs "$step"))"

# --- 3. what compose.yaml promises ------------------------------------------------------------
node -e '
  const [adminPort, watchPort, token, prefix] = process.argv.slice(1);
  (async () => {
    const admin = `http://127.0.0.1:${adminPort}`;
    const health = await fetch(`${admin}/healthz`);
    const wrong = await fetch(`${admin}/admin/workspace-images`, { headers: { authorization: "Bearer wrong" } });
    const right = await fetch(`${admin}/admin/workspace-images`, { headers: { authorization: `Bearer ${token}` } });
    const list = await right.json();
    const watch = await fetch(`http://127.0.0.1:${watchPort}/healthz`);
    const ok = health.status === 200 && wrong.status === 401 && right.status === 200 && watch.status === 200 &&
      Array.isArray(list) && list.length > 0 && list.every((i) => i.image.startsWith(`${prefix}/`));
    console.log(`admin-api on 127.0.0.1:${adminPort}: healthz ${health.status}, wrong token ${wrong.status}, ` +
      `secret-file token ${right.status} (${list.length} runtimes under ${prefix}); imagewatch on 127.0.0.1:${watchPort}: healthz ${watch.status}`);
    process.exit(ok ? 0 : 1);
  })().catch((error) => { console.error(error.message); process.exit(1); });
' "$admin_port" "$watch_port" "$token" "$MOLECULE_IMAGE_REGISTRY" >"$work/probe.log" 2>&1 ||
  { cat "$work/probe.log" >&2; compose logs --tail 20 >&2; ship_die "the published ports do not answer as compose.yaml says"; }
ship_ok "$(cat "$work/probe.log")"
docker exec "$watch" node -e '
  fetch(process.env.MOLECULE_ADMIN_API_URL + "/healthz").then(
    (r) => { console.log(`${process.env.MOLECULE_ADMIN_API_URL}/healthz ${r.status}`); process.exit(r.status === 200 ? 0 : 1); },
    (e) => { console.error(e.cause?.code ?? e.message); process.exit(1); });
' >"$work/reach.log" 2>&1 || { cat "$work/reach.log" >&2; ship_die "imagewatch does not reach admin-api by its service name"; }
ship_ok "imagewatch reaches admin-api by service name: $(cat "$work/reach.log")"
hardening='{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}}'
for c in "$admin" "$watch"; do
  [ "$(docker inspect -f "$hardening" "$c")" = "true [ALL] [no-new-privileges:true]" ] ||
    ship_die "$(docker inspect -f '{{.Name}}' "$c"): $(docker inspect -f "$hardening" "$c"), expected read-only, cap_drop ALL, no-new-privileges"
done
mounts='{{range .Mounts}}{{.Destination}} {{end}}'
case " $(docker inspect -f "$mounts" "$admin")" in *" /var/run/docker.sock "*) ;; *) ship_die "admin-api has no /var/run/docker.sock" ;; esac
case " $(docker inspect -f "$mounts" "$watch")" in *docker.sock*) ship_die "imagewatch mounts the Docker socket" ;; esac
[ "$(docker inspect -f '{{.HostConfig.GroupAdd}}' "$admin")" = "[$DOCKER_GID]" ] || ship_die "admin-api's group_add is not [$DOCKER_GID]"
volume="$(docker inspect -f '{{range .Mounts}}{{if eq .Destination "/var/lib/imagewatch"}}{{.Type}}:{{.Name}}{{end}}{{end}}' "$watch")"
[ "$volume" = "volume:${project}_imagewatch-state" ] || ship_die "imagewatch state is on '$volume', expected volume:${project}_imagewatch-state"
ship_ok "hardening as written: read-only, cap_drop ALL, no-new-privileges; socket in admin-api only (group $DOCKER_GID); state on ${project}_imagewatch-state"

# --- 4, 5. stop and down ------------------------------------------------------------------------
step="$(ship_now_ms)"
compose stop >"$work/stop.log" 2>&1 || { cat "$work/stop.log" >&2; ship_die "$label stop failed"; }
elapsed=$(( $(ship_now_ms) - step ))
codes="$(docker inspect -f '{{.State.ExitCode}}' "$admin") $(docker inspect -f '{{.State.ExitCode}}' "$watch")"
[ "$codes" = "0 0" ] || { compose logs --tail 10 >&2; ship_die "exit codes after $label stop: $codes, expected 0 0"; }
[ "$elapsed" -lt "$STOP_LIMIT_MS" ] || ship_die "$label stop took ${elapsed} ms"
compose down -v --remove-orphans >"$work/down.log" 2>&1 || { cat "$work/down.log" >&2; ship_die "$label down failed"; }
left="$(docker ps -aq --filter "label=com.docker.compose.project=$project")$(docker volume ls -q --filter "label=com.docker.compose.project=$project")$(docker network ls -q --filter "label=com.docker.compose.project=$project")"
[ -z "$left" ] || ship_die "$label down -v left containers, volumes or networks behind"
ship_ok "$label stop: both exit 0 in ${elapsed} ms; down -v: no container, volume or network left"
ship_ok "check-compose-up: compose.yaml ran for real with $label ($(ship_secs "$start"))"
