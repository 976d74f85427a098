#!/usr/bin/env bash
# The SIP front's tests talk to a real SIP peer: sipp (Debian's sip-tester).
set -u
if command -v sipp >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "note: sipp is missing and installing it needs root: sudo apt-get install sip-tester" >&2
  exit 0
fi
echo "installing sipp (sip-tester) for the SIP tests..." >&2
(apt-get install -y -qq sip-tester >/dev/null 2>&1 \
  || (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sip-tester >/dev/null)) \
  || echo "warning: could not install sip-tester; the SIP tests will be skipped (or fail in CI)" >&2
exit 0
