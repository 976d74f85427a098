#!/usr/bin/env bash
# The HTTP screening benchmark loads the API with wrk (Debian's wrk): a Python client cannot
# send fast enough to find the server's limit.
set -u
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "note: wrk is missing and installing it needs root: sudo apt-get install wrk" >&2
  exit 0
fi
echo "installing wrk for the HTTP benchmark..." >&2
(apt-get install -y -qq wrk >/dev/null 2>&1 \
  || (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)) \
  || echo "warning: could not install wrk; the HTTP benchmark prints the Python client's figures only" >&2
exit 0
