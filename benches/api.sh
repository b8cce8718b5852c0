#!/usr/bin/env bash
# Throughput of the public API on SQLite and PostgreSQL: a release build, a 100-comment thread,
# then requests per second for reading the thread and for posting comments (wrk, from Debian).
# Prints each figure and the PostgreSQL/SQLite ratio. Not run in CI.
#   benches/api.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/kith-target}"
DURATION="${1:-10}"
PG_ADMIN="${TEST_POSTGRES_URL:-postgres://root@127.0.0.1:5432/test}"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --bin kith -q
BIN="$CARGO_TARGET_DIR/release/kith"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cat > "$WORK/post.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"thread_key":"/bench-post/","author":"Reader %d","email":"r%d@example.com","body":"Benchmark comment number %d with a little *markdown*.","form_token":"%s"}', n, n, n, os.getenv("FORM_TOKEN"))
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
LUA

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

rps() { awk '/Requests\/sec/ {print $2}'; }

run_backend() {
  local name=$1 url=$2 port
  port=$(free_port)
  # Published at once, no minimum form age, and rate limits far above the load: the figures
  # measure the server, not its defences.
  local unlimited='{per_minute=100000000,burst=100000000}'
  KITH_DATABASE__URL="$url" KITH_SERVER__PORT="$port" KITH_LOG__LEVEL=warn \
    KITH_DEFAULT_SITE__MODERATION=none KITH_DEFAULT_SITE__MIN_POST_SECS=0 \
    KITH_RATE_LIMITS__POST="$unlimited" KITH_RATE_LIMITS__LIKE="$unlimited" \
    "$BIN" >"$WORK/$name.log" 2>&1 &
  local api="http://127.0.0.1:$port/api/v1/sites/default"
  for _ in $(seq 1 100); do curl -sf "$api/settings" >/dev/null && break; sleep 0.1; done
  FORM_TOKEN=$(curl -sf "$api/settings" | python3 -c 'import json,sys; print(json.load(sys.stdin)["form_token"])')
  export FORM_TOKEN
  for i in $(seq 1 100); do
    curl -sf -X POST "$api/comments" -H 'Content-Type: application/json' \
      -d "{\"thread_key\":\"/bench/\",\"author\":\"Seed $i\",\"email\":\"s$i@example.com\",\"body\":\"Seed comment $i: *hello* [link](https://example.com)\",\"form_token\":\"$FORM_TOKEN\"}" >/dev/null \
      || { echo "seeding failed on $name:"; cat "$WORK/$name.log"; exit 1; }
  done
  local total
  total=$(curl -sf "$api/thread?key=/bench/&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  [ "$total" = 100 ] || { echo "seeded thread has $total comments, not 100"; exit 1; }
  local read post
  read=$(wrk -t2 -c16 -d"${DURATION}s" "$api/thread?key=/bench/&limit=100" | rps)
  post=$(wrk -t2 -c8 -d"${DURATION}s" -s "$WORK/post.lua" "$api/comments" | rps)
  printf '%-10s read thread (100 comments): %10s req/s   post comment: %10s req/s\n' "$name" "$read" "$post"
  kill %1 2>/dev/null || true; wait 2>/dev/null || true
  eval "${name}_read=$read; ${name}_post=$post"
}

run_backend sqlite "sqlite://$WORK/bench.db"
DB="kith_bench_$$"
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB" >/dev/null
run_backend postgres "${PG_ADMIN%/*}/$DB"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null || true

awk -v a="$postgres_read" -v b="$sqlite_read" -v c="$postgres_post" -v d="$sqlite_post" \
  'BEGIN { printf "ratio postgres/sqlite: read %.2f, post %.2f\n", a/b, c/d }'
