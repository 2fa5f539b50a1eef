#!/usr/bin/env bash
# Debian's chromium for the browser test (test/api/browser.test.ts drives it with playwright-core at /usr/bin/chromium;
# Playwright's own browser downloads are not reachable here). Idempotent: does nothing when chromium already runs.
set -euo pipefail
if [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1; then
  echo "chromium already installed: $(/usr/bin/chromium --version)"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# fonts-liberation: readable text in screenshots (chromium alone falls back to whatever font is present).
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
/usr/bin/chromium --version
