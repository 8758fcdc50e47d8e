#!/usr/bin/env bash
# Debian's headless Chromium for the live-preview browser test (tests/test_serve.py), which
# Playwright drives (never `playwright install`: no browser downloads). Only the test needs
# it: CI runs this; `make packs` does not. Without it the browser test is skipped, unless
# BRIEFGEN_REQUIRE_BROWSER=1 (CI), which makes a missing browser a failure.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-browser: run as root on Debian/Ubuntu: apt-get install chromium" >&2
  exit 1
fi
echo "install-browser: installing chromium with apt-get" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
