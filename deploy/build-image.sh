#!/usr/bin/env bash
# Builds the gateway's image (deploy/Dockerfile) and the simulator's (deploy/simulator.Dockerfile), tagged with the
# gateway's package version (stagebeam/gateway:0.1.0, stagebeam/vllm-sim:0.1.0), FROM the locally made
# stagebeam/node-base:24 (NODE_IMAGE overrides it, e.g. node:24-bookworm-slim), offline. Each context is a tar stream
# of exactly what its image needs (deploy/context-files.ts), so it works with the legacy builder and needs no
# registry. Run `npm ci` first. Only one of them: bash deploy/build-image.sh gateway (or simulator).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
version="$(node_modules/.bin/node -p 'require("./services/gateway/package.json").version')"
base="${NODE_IMAGE:-stagebeam/node-base:24}"
[ -n "${NODE_IMAGE:-}" ] || bash "$repo/deploy/base/make-base-image.sh"

build() { # build TARGET DOCKERFILE IMAGE
  local image="$3:$version" files previous current
  files="$(mktemp)"
  node_modules/.bin/node deploy/context-files.ts "$1" >"$files"
  previous="$(docker image inspect "$image" --format '{{.Id}}' 2>/dev/null || true)"
  tar --null --no-recursion -T "$files" --owner=0 --group=0 --numeric-owner -cf - |
    DOCKER_BUILDKIT=0 docker build --quiet -f "$2" --build-arg "NODE_IMAGE=$base" --build-arg "VERSION=$version" \
      -t "$image" - >/dev/null
  rm -f "$files"
  # The image this build replaced: remove it (vfs keeps full copies), unless a container still uses it.
  current="$(docker image inspect "$image" --format '{{.Id}}')"
  if [ -n "$previous" ] && [ "$previous" != "$current" ]; then docker rmi "$previous" >/dev/null 2>&1 || true; fi
  echo "built $image ($(docker image inspect "$image" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))" >&2
}

case "${1:-all}" in
  gateway) build gateway deploy/Dockerfile "${GATEWAY_IMAGE:-stagebeam/gateway}" ;;
  simulator) build simulator deploy/simulator.Dockerfile "${SIMULATOR_IMAGE:-stagebeam/vllm-sim}" ;;
  all)
    build gateway deploy/Dockerfile "${GATEWAY_IMAGE:-stagebeam/gateway}"
    build simulator deploy/simulator.Dockerfile "${SIMULATOR_IMAGE:-stagebeam/vllm-sim}"
    ;;
  *) echo "usage: build-image.sh [gateway|simulator|all]" >&2; exit 2 ;;
esac
