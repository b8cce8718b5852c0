#!/usr/bin/env bash
# Runs the browser tests against the kith binary ($KITH_BIN, default /var/tmp/kith-target/debug/kith).
# Installs Debian's chromium and the npm devDependencies when they are missing.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -f node_modules/playwright-core/package.json ] && [ -f node_modules/axe-core/axe.min.js ] || npm ci --no-audit --no-fund
cd ../..
exec node --test --test-concurrency=1 tests/browser/
