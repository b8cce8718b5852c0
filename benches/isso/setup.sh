#!/usr/bin/env bash
# Installs Isso (the comment server kith is measured against) from the Python package index into a
# venv outside the repository, idempotently, and optionally starts it.
#
#   benches/isso/setup.sh                 # install only (prints the isso binary's path)
#   benches/isso/setup.sh start DB PORT   # install, then run Isso on 127.0.0.1:PORT with the
#                                         # database file DB (created if missing), in the foreground
#   benches/isso/setup.sh gunicorn DB PORT [WORKERS]
#                                         # the same under gunicorn with WORKERS (default 2) worker
#                                         # processes, Isso's production setup; the process is
#                                         # gunicorn's master, its workers are its children
#
# Environment: ISSO_VENV (default /var/tmp/kith-isso-venv), ISSO_VERSION (default 0.14.0),
# GUNICORN_VERSION (default 27.0.1), GUNICORN_TIMEOUT (seconds a worker may take for one request,
# default 600),
# ISSO_ORIGIN (the host page's origin, which Isso answers with CORS headers; default
# http://localhost:8000).
# The config is benches/isso/isso.cfg with the database path, port and origin filled in.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${ISSO_VENV:-/var/tmp/kith-isso-venv}"
version="${ISSO_VERSION:-0.14.0}"
gunicorn_version="${GUNICORN_VERSION:-27.0.1}"

installed() { "$venv/bin/python" -c "import sys, importlib.metadata as m; sys.exit(m.version('$1') != '$2')" 2>/dev/null; }
if ! installed isso "$version" || ! installed gunicorn "$gunicorn_version"; then
  echo "== installing isso $version and gunicorn $gunicorn_version into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "isso==$version" "gunicorn==$gunicorn_version" >&2
fi

mode="${1:-}"
if [ "$mode" != start ] && [ "$mode" != gunicorn ]; then
  echo "$venv/bin/isso"
  exit 0
fi

db="${2:?usage: setup.sh start|gunicorn DB PORT}"
port="${3:?usage: setup.sh start|gunicorn DB PORT}"
origin="${ISSO_ORIGIN:-http://localhost:8000}"
cfg="$(mktemp --suffix=.cfg)"
trap 'rm -f "$cfg"' EXIT
sed -e "s|@DB@|$db|" -e "s|@PORT@|$port|" -e "s|@ORIGIN@|$origin|" "$here/isso.cfg" >"$cfg"
if [ "$mode" = gunicorn ]; then
  # --preload: the app (and its database setup) is made once in the master, as Isso's docs
  # show; Isso reads its config from ISSO_SETTINGS. The config file must outlive this shell.
  trap - EXIT
  # --timeout: gunicorn kills a worker busy for longer (30 s by default), which a 2,000-comment
  # thread on a loaded machine exceeds; killed workers would leave the benchmark nothing to measure.
  ISSO_SETTINGS="$cfg" exec "$venv/bin/gunicorn" --bind "127.0.0.1:$port" --workers "${4:-2}" \
    --timeout "${GUNICORN_TIMEOUT:-600}" --preload --log-level warning isso.run
fi
exec "$venv/bin/isso" -c "$cfg" run
