#!/usr/bin/env bash
# What the tests of the reading editions need besides Python: Debian's headless Chromium
# (the preview test and the HTML edition's accessibility check, driven by Playwright, never
# `playwright install`: no browser downloads), Debian's EPUBCheck (every EPUB is checked) and
# axe-core from the npm registry (the accessibility rules, run inside Chromium), kept in
# .cache/axe/. Only the tests need them: CI runs this; `make packs` does not. Without them
# those tests are skipped, unless BRIEFGEN_REQUIRE_BROWSER=1 (CI): then a missing tool fails.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/java/epubcheck.jar ] || missing+=(epubcheck)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-browser: run as root on Debian/Ubuntu: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "install-browser: installing ${missing[*]} with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
AXE_VERSION=4.11.0
if [ ! -f .cache/axe/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "install-browser: installing npm with apt-get" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    else
      echo "install-browser: axe-core needs npm" >&2
      exit 1
    fi
  fi
  echo "install-browser: installing axe-core $AXE_VERSION with npm into .cache/axe" >&2
  npm install --silent --no-audit --no-fund --prefix .cache/axe "axe-core@$AXE_VERSION" >/dev/null
fi
