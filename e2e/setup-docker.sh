#!/usr/bin/env bash
# The container tests need a Docker engine and the locally built images. On a machine of this project's kind (root,
# Debian, no Docker running, no registry for images) this installs docker.io, starts dockerd (vfs storage) when none
# answers, and builds stagebeam/node-base:24, stagebeam/gateway and stagebeam/vllm-sim (tagged with the version). It never fails the run itself: when Docker
# cannot be made to work it says why, and test/containers.test.ts fails with that message.
# A dockerd started here is recorded in $DOCKERD_PIDFILE and stopped by stop-docker.sh (posttest).
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pidfile="${DOCKERD_PIDFILE:-/tmp/stagebeam-dockerd.pid}"
status="${DOCKER_SETUP_STATUS:-/tmp/stagebeam-docker-setup.txt}"
started=$SECONDS
step=$SECONDS
timing() { echo "docker setup: $1 in $((SECONDS - step)) s" >&2; step=$SECONDS; }
give_up() {
  echo "$1" >"$status"
  echo "docker setup: $1" >&2
  exit 0
}
rm -f "$status"

if ! command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null || give_up "no Docker engine, and not root on Debian to install docker.io"
  echo "docker setup: installing docker.io" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io) >/tmp/stagebeam-docker-install.log 2>&1 ||
    give_up "apt-get install docker.io failed (see /tmp/stagebeam-docker-install.log)"
  timing "docker.io installed"
fi

if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = "0" ] || give_up "dockerd is not running and only root can start it"
  echo "docker setup: starting dockerd (vfs storage, log in /tmp/stagebeam-dockerd.log)" >&2
  setsid dockerd --storage-driver=vfs --host unix:///var/run/docker.sock >/tmp/stagebeam-dockerd.log 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 1
  done
  docker info >/dev/null 2>&1 ||
    give_up "dockerd did not answer within 60 s: $(tail -n 3 /tmp/stagebeam-dockerd.log | tr '\n' ' ')"
  timing "dockerd up"
fi

bash "$repo/deploy/base/make-base-image.sh" || give_up "building stagebeam/node-base:24 failed"
timing "base image ready"
bash "$repo/deploy/build-image.sh" 2> >(grep -v -i -E 'legacy builder|buildkit|environment-variable|^\s*$' >&2) ||
  give_up "building the images (stagebeam/gateway, stagebeam/vllm-sim) failed"
timing "app image built"
echo "docker setup: ready in $((SECONDS - started)) s" >&2
