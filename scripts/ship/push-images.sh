#!/usr/bin/env bash
# Pushes the service images to the registry named by MOLECULE_IMAGE_REGISTRY, then proves
# the push: removes them locally, pulls each back by its digest and runs it to healthy.
# The release workflow's image job runs this, and check-publish.sh runs it against a real
# distribution registry with token auth, so what CI checks is what a release does.
#
#   MOLECULE_IMAGE_REGISTRY=<host>[:port]/<path> scripts/ship/push-images.sh [options] APP...
#     --build BASE_IMAGE   stage each app (stage-app.sh) and build its `prebuilt` target on
#                          BASE_IMAGE first (the release)
#     --source TEMPLATE    or push an image already built, `{app}` replaced by the app:
#                          molecule/{app}:check is what check-images.sh built (check-publish)
#     --revision SHA       the revision label the image must carry, and the sha-<SHA> tag
#                          (default: git rev-parse HEAD)
#     --drop IMAGE         one more local image to remove (when present) before pulling
#                          back, e.g. the base, so the pull downloads every layer (repeatable)
#     --digests FILE       write one line per app: <app> <version> <repository>@<digest>
#
# Tags pushed: <prefix>/<app>:<version from apps/<app>/package.json>, :sha-<SHA>, :latest.
# The prefix is validated by @molecule/registry (its dist, built here when missing).
#
# Log in to the registry host first, one of (the first that applies):
#   MOLECULE_IMAGE_PUSH_USERNAME + MOLECULE_IMAGE_PUSH_PASSWORD   docker login (check-publish runs this one)
#   an ECR host (<account>.dkr.ecr.<region>.amazonaws.com)        aws ecr get-login-password
#   ghcr.io with GITHUB_TOKEN (+ GITHUB_ACTOR)                    docker login ghcr.io
#   none of these                                                 the docker client's own login;
#                                                                 under GitHub Actions that is an error
# The engine is DOCKER_HOST's (a private dockerd in check-publish.sh, the runner's in CI).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/ship/lib.sh

readonly PUSH_TIMEOUT_S=600
# A pull that hangs is bounded (REAL-PARTS: a short blob once hung a pull for minutes).
readonly PULL_TIMEOUT_S=300
readonly HEALTHY_TIMEOUT_S=90
readonly STOP_LIMIT_MS=10000

usage() { ship_die "usage: MOLECULE_IMAGE_REGISTRY=... scripts/ship/push-images.sh (--build BASE_IMAGE | --source TEMPLATE) [--revision SHA] [--drop IMAGE]... [--digests FILE] APP..."; }
build_base="" source_template="" revision="" digests_file=""
drop=() apps=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build_base="${2:?}"; shift 2 ;;
    --source) source_template="${2:?}"; shift 2 ;;
    --revision) revision="${2:?}"; shift 2 ;;
    --drop) drop+=("${2:?}"); shift 2 ;;
    --digests) digests_file="${2:?}"; shift 2 ;;
    admin-api | imagewatch) apps+=("$1"); shift ;;
    *) usage ;;
  esac
done
[ "${#apps[@]}" -gt 0 ] || usage
{ [ -n "$build_base" ] && [ -z "$source_template" ]; } || { [ -z "$build_base" ] && [ -n "$source_template" ]; } || usage
[ -n "$revision" ] || revision="$(git rev-parse HEAD)"
command -v docker >/dev/null || ship_die "push-images needs the docker client"

total_start="$(ship_now_ms)"
work="$(mktemp -d /tmp/shippush-XXXXXX)"
containers=()
cleanup() {
  local status=$? c
  set +e
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1; done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the registry: one validated prefix, its host -----------------------------------------
if [ ! -f packages/registry/dist/index.js ]; then
  pnpm --filter @molecule/registry run build >/dev/null ||
    ship_die "building @molecule/registry (to validate MOLECULE_IMAGE_REGISTRY) failed"
fi
read -r prefix host < <(node --input-type=module -e '
  import { registryHost, registryPrefix } from "./packages/registry/dist/index.js";
  const value = (process.env.MOLECULE_IMAGE_REGISTRY ?? "").trim();
  if (value === "") {
    console.error("set MOLECULE_IMAGE_REGISTRY to the image prefix to push to, e.g. ghcr.io/molecule-ai");
    process.exit(1);
  }
  const env = { MOLECULE_IMAGE_REGISTRY: value };
  try {
    console.log(`${registryPrefix(env)} ${registryHost(env)}`);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
') || ship_die "MOLECULE_IMAGE_REGISTRY is not a valid registry prefix (see above)"
[ -n "${prefix:-}" ] || ship_die "MOLECULE_IMAGE_REGISTRY is not a valid registry prefix (see above)"

# --- log in --------------------------------------------------------------------------------
if [ -n "${MOLECULE_IMAGE_PUSH_USERNAME:-}" ]; then
  printf '%s' "${MOLECULE_IMAGE_PUSH_PASSWORD:-}" |
    docker login "$host" --username "$MOLECULE_IMAGE_PUSH_USERNAME" --password-stdin >"$work/login.log" 2>&1 ||
    { cat "$work/login.log" >&2; ship_die "docker login $host as $MOLECULE_IMAGE_PUSH_USERNAME failed"; }
  ship_ok "logged in to $host as $MOLECULE_IMAGE_PUSH_USERNAME"
elif [[ "$host" == *.dkr.ecr.*.amazonaws.com ]]; then
  # Not run by check-publish.sh: needs AWS credentials (the workflow assumes a role first).
  aws ecr get-login-password | docker login "$host" --username AWS --password-stdin >"$work/login.log" 2>&1 ||
    { cat "$work/login.log" >&2; ship_die "ECR login to $host failed"; }
  ship_ok "logged in to $host (ECR)"
elif [ "$host" = ghcr.io ] && [ -n "${GITHUB_TOKEN:-}" ]; then
  # Not run by check-publish.sh: needs a GitHub token with packages: write.
  printf '%s' "$GITHUB_TOKEN" | docker login ghcr.io --username "${GITHUB_ACTOR:?}" --password-stdin >"$work/login.log" 2>&1 ||
    { cat "$work/login.log" >&2; ship_die "docker login ghcr.io as $GITHUB_ACTOR failed"; }
  ship_ok "logged in to ghcr.io as $GITHUB_ACTOR"
elif [ "${GITHUB_ACTIONS:-}" = true ]; then
  ship_die "set the secrets MOLECULE_IMAGE_PUSH_USERNAME and MOLECULE_IMAGE_PUSH_PASSWORD for $host"
else
  ship_log "no push credentials in the environment: using the docker client's own login for $host"
fi

# --- build or pick the images ----------------------------------------------------------------
declare -A image version
for app in "${apps[@]}"; do
  version[$app]="$(node -p "require('./apps/$app/package.json').version")"
  if [ -n "$build_base" ]; then
    step="$(ship_now_ms)"
    scripts/ship/stage-app.sh "$app" | sed 's/^/  /'
    image[$app]="molecule/$app:release"
    ship_build_image "$app" "$build_base" "${image[$app]}" "$revision" "$work/build-$app.log"
    ship_ok "built ${image[$app]} on $build_base ($(ship_secs "$step"))"
  else
    image[$app]="${source_template//\{app\}/$app}"
  fi
  # What is pushed must be what the tags say: this app, this version, this revision.
  labels="$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}} {{index .Config.Labels "org.opencontainers.image.revision"}}' "${image[$app]}" 2>/dev/null)" ||
    ship_die "no local image ${image[$app]} for $app"
  [ "$labels" = "${version[$app]} $revision" ] ||
    ship_die "${image[$app]} is labelled '$labels', expected '${version[$app]} $revision'"
done

# --- push ------------------------------------------------------------------------------------
declare -A digest
for app in "${apps[@]}"; do
  step="$(ship_now_ms)"
  repository="$prefix/$app"
  tags=("${version[$app]}" "sha-$revision" latest)
  digest[$app]=""
  for tag in "${tags[@]}"; do
    docker tag "${image[$app]}" "$repository:$tag"
    log="$work/push-$app-$tag.log"
    timeout "$PUSH_TIMEOUT_S" docker push "$repository:$tag" >"$log" 2>&1 ||
      { tail -n 20 "$log" >&2; ship_die "docker push $repository:$tag failed"; }
    # The engine's last line: "<tag>: digest: sha256:<hex> size: <n>".
    pushed="$(sed -n 's/^.*: digest: \(sha256:[0-9a-f]\{64\}\) size: [0-9]*$/\1/p' "$log" | tail -n 1)"
    [ -n "$pushed" ] || { cat "$log" >&2; ship_die "docker push $repository:$tag printed no digest"; }
    [ -z "${digest[$app]}" ] || [ "${digest[$app]}" = "$pushed" ] ||
      ship_die "$repository:$tag is $pushed, but ${digest[$app]} for the tags before it"
    digest[$app]="$pushed"
  done
  ship_ok "pushed $repository:{${tags[*]}} → ${digest[$app]} ($(ship_secs "$step"))"
done

# --- remove locally, pull back by digest, run to healthy ---------------------------------------
step="$(ship_now_ms)"
for app in "${apps[@]}"; do
  # By id, -f: every tag of the image goes, the source tag included.
  docker rmi -f "$(docker image inspect -f '{{.Id}}' "${image[$app]}")" >/dev/null
done
# A base BuildKit pulled lives in its cache, not among the images: drop what is there.
dropped=()
for extra in "${drop[@]}"; do
  docker image inspect "$extra" >/dev/null 2>&1 || continue
  docker rmi -f "$extra" >/dev/null
  dropped+=("$extra")
done
for app in "${apps[@]}"; do
  ! docker image inspect "$prefix/$app@${digest[$app]}" >/dev/null 2>&1 ||
    ship_die "$prefix/$app@${digest[$app]} is still present locally after removal"
done
ship_ok "removed the pushed images locally${dropped[*]:+, and ${dropped[*]}} ($(ship_secs "$step"))"

for app in "${apps[@]}"; do
  ref="$prefix/$app@${digest[$app]}"
  step="$(ship_now_ms)"
  log="$work/pull-$app.log"
  timeout "$PULL_TIMEOUT_S" docker pull "$ref" >"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; ship_die "docker pull $ref failed (or took over ${PULL_TIMEOUT_S}s)"; }
  layers="$(grep -c 'Pull complete' "$log" || true)"
  labels="$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}} {{index .Config.Labels "org.opencontainers.image.revision"}}' "$ref")"
  [ "$labels" = "${version[$app]} $revision" ] ||
    ship_die "$ref pulled back labelled '$labels', expected '${version[$app]} $revision'"
  ship_ok "pulled $ref: $layers layers downloaded, version ${version[$app]}, revision ${revision:0:12} ($(ship_secs "$step"))"

  step="$(ship_now_ms)"
  container="ship-pulled-$app"
  containers+=("$container")
  # Enough to start and answer /healthz; network none, so nothing is reached.
  run_env=(-e "MOLECULE_IMAGE_REGISTRY=$prefix")
  case "$app" in
    admin-api) run_env+=(-e "MOLECULE_ADMIN_TOKEN=$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("hex"))')") ;;
    imagewatch) run_env+=(-e IMAGE_AUTO_REFRESH=false -e IMAGE_WATCH_INTERVAL=1h) ;;
  esac
  docker run -d --name "$container" --network none --health-interval 1s --health-start-period 30s \
    "${run_env[@]}" "$ref" >/dev/null
  ship_wait_healthy "$container" "$HEALTHY_TIMEOUT_S"
  stop_start="$(ship_now_ms)"
  docker stop -t 10 "$container" >/dev/null
  elapsed=$(( $(ship_now_ms) - stop_start ))
  code="$(docker inspect -f '{{.State.ExitCode}}' "$container")"
  [ "$code" = 0 ] || { docker logs --tail 10 "$container" >&2; ship_die "$container exited $code on SIGTERM, expected 0"; }
  [ "$elapsed" -lt "$STOP_LIMIT_MS" ] || ship_die "$container took ${elapsed} ms to stop (limit ${STOP_LIMIT_MS} ms)"
  docker rm "$container" >/dev/null
  ship_ok "$app from $ref ran to healthy and stopped on SIGTERM in ${elapsed} ms, exit 0 ($(ship_secs "$step"))"
  [ -z "$digests_file" ] || echo "$app ${version[$app]} $ref" >>"$digests_file"
done

ship_ok "push-images: ${#apps[@]} image(s) pushed to $prefix, pulled back by digest and run to healthy ($(ship_secs "$total_start"))"
