#!/usr/bin/env bash
# The monitoring test checks the alert rules with promtool, from Debian's prometheus package. Installs it when it is
# missing and we are root (CI, the project's machines); says what to install otherwise.
set -euo pipefail
if command -v promtool >/dev/null; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing prometheus (for promtool) for the monitoring test" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  exit 0
fi
echo "the e2e tests need promtool: apt-get install prometheus" >&2
exit 1
