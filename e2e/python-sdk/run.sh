#!/usr/bin/env bash
# Runs check.py (the official openai Python SDK against the HTTP door) on a development gateway of its own.
#
#   PYTHON=python3 bash e2e/python-sdk/run.sh                     # a Python where `import openai` works (pip install openai)
#   OPENAI_PYTHON_GIT=/path/openai-python/.git bash e2e/python-sdk/run.sh   # or the SDK's own source at a tag
#
# With OPENAI_PYTHON_GIT the SDK is taken from that clone at $OPENAI_PYTHON_TAG (v1.35.0: httpx ≥ 0.23, pydantic ≥ 1.9,
# no jiter) into a temporary directory and put on PYTHONPATH; its other dependencies must be importable already
# (Debian: python3-httpx python3-pydantic python3-anyio python3-distro python3-sniffio python3-tqdm, and
# typing_extensions ≥ 4.7, which Debian 12's 4.4 is not: EXTRA_PYTHONPATH may name a directory holding a newer one).
# The simulated servers run at STAGEBEAM_SIM_SPEED (0.2× an H100 by default) so a stage outlasts the 10 s keep-alive.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="${PYTHON:-/usr/bin/python3}"
work="$(mktemp -d)"
pythonpath="${EXTRA_PYTHONPATH:-}"
if [ -n "${OPENAI_PYTHON_GIT:-}" ]; then
  tag="${OPENAI_PYTHON_TAG:-v1.35.0}"
  git --git-dir="$OPENAI_PYTHON_GIT" archive "$tag" src/openai | tar -x -C "$work"
  echo "openai-python $tag ($(git --git-dir="$OPENAI_PYTHON_GIT" rev-parse "$tag^{commit}")) from $OPENAI_PYTHON_GIT"
  pythonpath="$work/src${pythonpath:+:$pythonpath}"
fi
export PYTHONPATH="$pythonpath${PYTHONPATH:+:$PYTHONPATH}"
"$python" -c "import openai" || { echo "no importable openai package for $python (see the top of $0)" >&2; exit 1; }

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
http_port="$(free_port)"
export STAGEBEAM_HTTP_PORT="$http_port" STAGEBEAM_GRPC_PORT="$(free_port)" STAGEBEAM_METRICS_PORT="$(free_port)"
export STAGEBEAM_SIM_SPEED="${STAGEBEAM_SIM_SPEED:-0.2}"
"$root/node_modules/.bin/node" --conditions=@stagebeam/source "$root/services/gateway/src/dev/main.ts" \
  >"$work/gateway.log" 2>&1 &
gateway=$!
trap 'kill "$gateway" 2>/dev/null; wait "$gateway" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$http_port/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$gateway" 2>/dev/null; then cat "$work/gateway.log" >&2; exit 1; fi
  sleep 0.5
done
"$python" "$root/e2e/python-sdk/check.py" "http://127.0.0.1:$http_port/v1"
