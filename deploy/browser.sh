#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the browser tests (tests/ioc_dash/test_browser.py), and what
# the reports need: Pango and fonts with Vietnamese glyphs for WeasyPrint, poppler-utils (pdftoppm,
# pdftotext) to read reports back and render their pages.
#
#   deploy/browser.sh          install them from Debian when missing (idempotent)
#   deploy/browser.sh check    exit 0 when all are installed, 3 when not
set -Eeuo pipefail
export DEBIAN_FRONTEND=noninteractive
PKGS=(chromium chromium-driver poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
LOG=${IOC_RUN_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.run}/apt-browser.log

say() { printf 'browser: %s\n' "$*"; }
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  [[ ${1:-} == check ]] || say "chromium, chromium-driver and the report tools present"
  exit 0
fi
[[ ${1:-} != check ]] || { say "missing: ${missing[*]}"; exit 3; }
if ((EUID != 0)); then
  say "FAILED: installing ${missing[*]} needs root; run: sudo deploy/browser.sh" >&2
  exit 1
fi
mkdir -p "$(dirname "$LOG")"
say "apt-get install ${missing[*]} (log: $LOG)"
{ timeout 600 apt-get update -qq && timeout 1200 apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
  >>"$LOG" 2>&1 || { say "FAILED: apt-get install ${missing[*]}; see $LOG" >&2; tail -n 20 "$LOG" >&2; exit 1; }
say "installed ${missing[*]}"
