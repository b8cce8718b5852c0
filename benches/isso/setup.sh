#!/usr/bin/env bash
# Installs Isso (the comment server kith is measured against) from the Python package index into a
# venv outside the repository, idempotently, and optionally starts it.
#
#   benches/isso/setup.sh                 # install only (prints the isso binary's path)
#   benches/isso/setup.sh start DB PORT   # install, then run Isso on 127.0.0.1:PORT with the
#                                         # database file DB (created if missing), in the foreground
#
# Environment: ISSO_VENV (default /var/tmp/kith-isso-venv), ISSO_VERSION (default 0.14.0),
# ISSO_ORIGIN (the host page's origin, which Isso answers with CORS headers; default
# http://localhost:8000).
# The config is benches/isso/isso.cfg with the database path, port and origin filled in.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${ISSO_VENV:-/var/tmp/kith-isso-venv}"
version="${ISSO_VERSION:-0.14.0}"

if ! "$venv/bin/python" -c "import sys, importlib.metadata as m; sys.exit(m.version('isso') != '$version')" 2>/dev/null; then
  echo "== installing isso $version into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "isso==$version" >&2
fi

if [ "${1:-}" != start ]; then
  echo "$venv/bin/isso"
  exit 0
fi

db="${2:?usage: setup.sh start DB PORT}"
port="${3:?usage: setup.sh start DB PORT}"
origin="${ISSO_ORIGIN:-http://localhost:8000}"
cfg="$(mktemp --suffix=.cfg)"
trap 'rm -f "$cfg"' EXIT
sed -e "s|@DB@|$db|" -e "s|@PORT@|$port|" -e "s|@ORIGIN@|$origin|" "$here/isso.cfg" >"$cfg"
exec "$venv/bin/isso" -c "$cfg" run
