#!/usr/bin/env bash
# Builds the app image (default stagebeam/stagebeam:dev) FROM the locally made stagebeam/node-base:24, offline.
# The context is a tar stream of exactly what the image needs (deploy/context-files.ts: manifests, proto, sources
# without tests, production dependencies from node_modules per package-lock.json), so it works with the legacy
# builder and needs no registry. Run `npm ci` first.
set -euo pipefail
image="${IMAGE:-stagebeam/stagebeam:dev}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/deploy/base/make-base-image.sh"
cd "$repo"
files="$(mktemp)"
trap 'rm -f "$files"' EXIT
node_modules/.bin/node deploy/context-files.ts >"$files"
previous="$(docker image inspect "$image" --format '{{.Id}}' 2>/dev/null || true)"
tar --null --no-recursion -T "$files" --owner=0 --group=0 --numeric-owner -cf - |
  DOCKER_BUILDKIT=0 docker build --quiet -f deploy/Dockerfile -t "$image" - >/dev/null
# The image this build replaced: remove it (vfs keeps full copies), unless a container still uses it.
current="$(docker image inspect "$image" --format '{{.Id}}')"
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then docker rmi "$previous" >/dev/null 2>&1 || true; fi
echo "built $image ($(docker image inspect "$image" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))" >&2
