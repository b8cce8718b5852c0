#!/usr/bin/env bash
# Property-based fuzzing of the public API, driven by the OpenAPI document the server serves
# (/api/v1/openapi.json): schemathesis generates valid and invalid requests for every
# operation and checks that none answers 5xx and that every status and content type is one the
# document lists. Runs on SQLite and on PostgreSQL, bounded in cases and time (about a minute
# per backend).
#
#   fuzz/api.sh                 # both backends
#   FUZZ_BACKENDS=sqlite fuzz/api.sh
#   FUZZ_EXAMPLES=200 FUZZ_SEED=7 fuzz/api.sh
#
# schemathesis comes from PyPI into a venv outside the repository (installed once, reused).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/kith-target}"
TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://root@127.0.0.1:5432/test}"
VENV="${KITH_SCHEMATHESIS_VENV:-/var/tmp/kith-venv-schemathesis}"
SCHEMATHESIS_VERSION="4.32.5"
EXAMPLES="${FUZZ_EXAMPLES:-40}"
SEED="${FUZZ_SEED:-$RANDOM}"
# A hard stop per schemathesis run, in case a case hangs (the case counts bound a normal run).
LIMIT_SECS="${FUZZ_LIMIT_SECS:-150}"
BACKENDS="${FUZZ_BACKENDS:-sqlite postgres}"

# Python 3.11.7's ast.parse can fail inside hypothesis ("AST constructor recursion depth
# mismatch", a CPython bug fixed later), so a newer interpreter is preferred where there is one.
python_for_venv() {
  # A pyenv shim answers `command -v` for versions it will then refuse to run, so each
  # candidate is asked to run before it is chosen.
  for candidate in /root/.pyenv/versions/3.13*/bin/python3 /root/.pyenv/versions/3.12*/bin/python3 python3.13 python3.12 python3; do
    if "$candidate" -c 'import venv' >/dev/null 2>&1; then command -v "$candidate"; return; fi
  done
}
if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  "$(python_for_venv)" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build -q --bin kith
KITH="$CARGO_TARGET_DIR/debug/kith"
WORK=$(mktemp -d /tmp/kith-fuzz.XXXXXX)
SERVER_PID=""
PG_DB=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$PG_DB" ]; then psql "$TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

failed=0
for backend in $BACKENDS; do
  case "$backend" in
    sqlite) url="sqlite://$WORK/$backend.db" ;;
    postgres)
      PG_DB="kith_fuzz_$(date +%s)_$$"
      psql "$TEST_POSTGRES_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
      url="${TEST_POSTGRES_URL%/*}/$PG_DB" ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  config="$WORK/$backend.toml"
  cat > "$config" <<TOML
[server]
port = 0
demo_page = false
[database]
url = "$url"
[default_site]
moderation = "none"
[rate_limits]
post = { per_minute = 1000000, burst = 1000000 }
edit = { per_minute = 1000000, burst = 1000000 }
like = { per_minute = 1000000, burst = 1000000 }
report = { per_minute = 1000000, burst = 1000000 }
preview = { per_minute = 1000000, burst = 1000000 }
counts = { per_minute = 1000000, burst = 1000000 }
mail = { per_minute = 1000000, burst = 1000000 }
[log]
level = "warn,kith=info"
TOML
  # The default site takes comments at once, so generated posts, edits and likes reach the
  # handlers' deeper paths instead of stopping at the spam defences.
  "$KITH" --config "$config" site set default --require-form-token false \
    --duplicate-window-secs 0 >/dev/null
  log="$WORK/$backend.log"
  "$KITH" --config "$config" serve 2>"$log" &
  SERVER_PID=$!
  address=""
  for _ in $(seq 1 300); do
    address=$(grep -o 'kith is listening on http://[0-9.:]*' "$log" | awk '{print $NF}' || true)
    [ -n "$address" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$address" ] || { echo "kith did not start" >&2; cat "$log" >&2; exit 1; }

  # Two documents from the served one: as served (any site slug, mostly 404s), and with the
  # site pinned to the existing `default`, so that the generated cases reach the handlers.
  curl -fsS "$address/api/v1/openapi.json" -o "$WORK/openapi.json"
  "$VENV/bin/python" - "$WORK/openapi.json" "$WORK/openapi-default.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for item in doc["paths"].values():
    for op in item.values():
        for p in op.get("parameters", []):
            if p["in"] == "path" and p["name"] == "site":
                p["schema"] = {"type": "string", "enum": ["default"]}
json.dump(doc, open(sys.argv[2], "w"))
PY
  echo "== schemathesis on $backend ($address, seed $SEED, up to $EXAMPLES cases per operation)"
  for doc in openapi-default.json openapi.json; do
    if [ "$doc" = openapi.json ]; then n=$(( EXAMPLES / 3 + 1 )); else n=$EXAMPLES; fi
    if ! timeout "$LIMIT_SECS" "$VENV/bin/schemathesis" run "$WORK/$doc" --url "$address" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --max-examples "$n" --seed "$SEED" --workers 2 \
        --phases examples,coverage,fuzzing --no-color --suppress-health-check all \
        --request-timeout 10 --warnings off --generation-database none; then
      failed=1
    fi
  done
  # A 500's cause is logged as "request failed" (actix's own notes on malformed requests it
  # refused are not failures).
  if grep -q 'request failed' "$log"; then
    echo "server errors logged on $backend:" >&2; grep 'request failed' "$log" | head -20 >&2
    failed=1
  fi
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  if [ "$backend" = postgres ]; then
    psql "$TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null; PG_DB=""
  fi
done
if [ "$failed" = 0 ]; then echo "api fuzz: 1 passed, 0 failed"; else echo "api fuzz: 0 passed, 1 failed"; fi
exit "$failed"
