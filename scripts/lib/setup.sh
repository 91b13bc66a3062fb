# Shared by scripts/test and scripts/demo: bring a fresh machine (Node.js and npm only) to
# the point where the workspace builds and the real parts (registry, engine) can start.
# Sourced, not executed.

PNPM_VERSION="$(node -p "require('./package.json').packageManager.split('@')[1]")"
# Debian packages the integration tests and the demo start for real (see shared REAL-PARTS).
# docker-compose (1.29) runs compose.yaml for real in scripts/ship/check-compose-up.sh;
# pgbouncer proves the leader refuses a transaction-mode pooler (imagewatch leadership tests).
DEBIAN_PACKAGES=(docker-registry docker.io busybox-static apache2-utils skopeo openssl postgresql-15 docker-compose pgbouncer)
REQUIRED_BINARIES=(docker-registry dockerd docker busybox htpasswd skopeo openssl initdb postgres docker-compose pgbouncer)
# Debian keeps the PostgreSQL server binaries (initdb, postgres) off PATH.
POSTGRES_BIN_DIR=/usr/lib/postgresql/15/bin

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

ensure_node() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -lt 20 ]; then
    echo "Node.js 20.18 or newer is required (found: $(node --version 2>/dev/null || echo none))." >&2
    exit 1
  fi
}

ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version)" = "$PNPM_VERSION" ]; then
    return
  fi
  log "installing pnpm $PNPM_VERSION with npm"
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null
}

missing_binaries() {
  local b missing=()
  for b in "${REQUIRED_BINARIES[@]}"; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || [ -x "/bin/$b" ] ||
      [ -x "$POSTGRES_BIN_DIR/$b" ] || missing+=("$b")
  done
  echo "${missing[@]}"
}

ensure_debian_packages() {
  local missing
  missing="$(missing_binaries)"
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    local had_postgres=0
    [ -x "$POSTGRES_BIN_DIR/postgres" ] && had_postgres=1
    log "installing Debian packages for the real registry, engine, compose and PostgreSQL: ${DEBIAN_PACKAGES[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq "${DEBIAN_PACKAGES[@]}" >/dev/null
    # The package may create and start a system cluster on port 5432; the tests start private
    # servers of their own (real-parts startPostgres), so stop the one we just brought in.
    if [ "$had_postgres" -eq 0 ] && command -v pg_ctlcluster >/dev/null 2>&1; then
      pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
    fi
    missing="$(missing_binaries)"
    [ -z "$missing" ] && return 0
  fi
  echo "missing: $missing (Debian: apt-get install ${DEBIAN_PACKAGES[*]})" >&2
  return 1
}

install_workspace() {
  log "installing workspace dependencies (pnpm install --frozen-lockfile)"
  pnpm install --frozen-lockfile --reporter=append-only | grep -vE '^(Progress|Packages:)' || true
  test -d node_modules/.pnpm || { echo "pnpm install failed" >&2; exit 1; }
}
