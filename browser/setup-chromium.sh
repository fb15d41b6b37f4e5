#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (playwright-core with the system browser: nothing is downloaded).
# Installs it when it is missing and we are root (CI, the project's machines); says what to install otherwise.
set -euo pipefail
if command -v chromium >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing chromium for the browser tests" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "the browser tests need Chromium: apt-get install chromium" >&2
exit 1
