#!/usr/bin/env bash
# Stops the dockerd that setup-docker.sh started (and only that one), after the tests.
set -uo pipefail
pidfile="${DOCKERD_PIDFILE:-/tmp/stagebeam-dockerd.pid}"
[ -f "$pidfile" ] || exit 0
pid="$(cat "$pidfile")"
rm -f "$pidfile"
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  echo "docker teardown: stopped dockerd $pid" >&2
fi
