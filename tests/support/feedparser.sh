#!/usr/bin/env bash
# Prints the Python interpreter of a venv holding feedparser (the feed parser many readers and
# planets use), creating it outside the repository on first use. Idempotent and safe to run
# from several test processes at once (one installs, the others wait on the lock).
#   KITH_FEEDPARSER_VENV   where the venv lives (default /var/tmp/kith-venv-feedparser)
set -euo pipefail
venv="${KITH_FEEDPARSER_VENV:-/var/tmp/kith-venv-feedparser}"
version="6.0.11"
ready() {
  "$venv/bin/python" -c "import sys, importlib.metadata as m; sys.exit(m.version('feedparser') != '$version')" 2>/dev/null
}
if ! ready; then
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"
  flock 9
  if ! ready; then
    echo "== installing feedparser $version into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "feedparser==$version" >&2
  fi
fi
echo "$venv/bin/python"
