#!/usr/bin/env bash
# The cross-language client test needs Debian's Python gRPC runtime and protoc with the Python gRPC plugin.
# Installs them when they are missing and we are root (CI, the project's machines); says what to install otherwise.
set -euo pipefail
packages=(python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc)
if /usr/bin/python3 -c "import grpc, google.protobuf" 2>/dev/null && command -v protoc >/dev/null && command -v grpc_python_plugin >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing ${packages[*]} for the cross-language client test" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  exit 0
fi
echo "the e2e tests need: apt-get install ${packages[*]}" >&2
exit 1
