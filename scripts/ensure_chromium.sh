#!/usr/bin/env bash
# The console's browser tests drive Debian's Chromium (Playwright never downloads a browser).
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "note: /usr/bin/chromium is missing and installing it needs root: sudo apt-get install chromium" >&2
  exit 0
fi
echo "installing Debian's chromium for the browser tests..." >&2
apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null \
  || echo "warning: could not install chromium; browser tests will be skipped (or fail in CI)" >&2
exit 0
