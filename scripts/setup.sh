#!/usr/bin/env bash
# Set up everything briefgen needs on a fresh Debian/Ubuntu machine: WeasyPrint's system
# libraries (Pango, HarfBuzz), the Noto CJK fonts and a virtual environment with briefgen and
# its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

need_system=0
for lib in libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz-subset.so.0; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || need_system=1
done
if [ "$need_system" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing WeasyPrint's system libraries with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null
  else
    echo "setup: WeasyPrint needs Pango and HarfBuzz; install them as root with:" >&2
    echo "  apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0" >&2
    exit 1
  fi
fi

# poppler's pdftotext: the tests and benchmarks/pages.py read word boxes of built PDFs with it.
if ! command -v pdftotext >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing poppler-utils (pdftotext, for the tests' page checks) with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
  else
    echo "setup: the tests read PDFs with pdftotext; install it as root with:" >&2
    echo "  apt-get install poppler-utils" >&2
  fi
fi

# Noto CJK: Chinese, Japanese and Korean text (a zh-Hans pack, a Chinese title) is set in it
# (base.css names it after briefgen's own fonts); without it `check` warns (missing-glyph).
if ! fc-list ':family=Noto Sans CJK SC' 2>/dev/null | grep -q .; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Noto CJK fonts (fonts-noto-cjk) with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null
  else
    echo "setup: for Chinese, Japanese and Korean text install Noto CJK as root with:" >&2
    echo "  apt-get install fonts-noto-cjk" >&2
  fi
fi

started=$SECONDS
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating the virtual environment $VENV ($("$PYTHON" --version))" >&2
  "$PYTHON" -m venv "$VENV"
fi
# Quiet: only errors (pip's own notices would bury the build's first lines); one line per
# step instead, so a first run does not sit silent for a minute and a half.
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_WARN_SCRIPT_LOCATION=1
echo "setup: upgrading pip in $VENV" >&2
"$VENV/bin/python" -m pip install -q -q --upgrade pip
echo "setup: installing briefgen and its dependencies into $VENV (pyproject.toml: WeasyPrint," \
     "Jinja2, pydantic, citeproc-py, Babel, pikepdf, pyHanko, ...; the test tools with [test])" \
     "- about a minute on a fresh machine" >&2
"$VENV/bin/python" -m pip install -q -q -e ".[test]"
echo "setup: done in $((SECONDS - started)) s; $VENV/bin/briefgen is ready" >&2
