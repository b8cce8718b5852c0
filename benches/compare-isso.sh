#!/usr/bin/env bash
# kith against Isso, server side, in one run: the table of issue 14 with ratios and targets.
#
# Installs Isso 0.14.0 and gunicorn into a venv outside the repository (benches/isso/setup.sh),
# runs Isso under gunicorn with 2 workers (its production setup), seeds it through its HTTP API
# (a 100-comment thread, a 2,000-comment thread and a 10-comment one; the seeded database is kept
# under /var/tmp for the next run), imports Isso's database into kith (`kith import isso.db --site
# default`) on SQLite and on a fresh PostgreSQL database, and runs the same wrk workloads on the
# three servers, round after round (each round runs every workload on every server, so a busy
# machine slows all three alike), taking the median of the rounds.
#
#   benches/compare-isso.sh              # about 12 minutes the first time (seeding), 9 after
#
# Environment: BENCH_SECONDS (per wrk run, default 10), BENCH_SLOW_SECONDS (for Isso's
# 2,000-comment thread, default 60), BENCH_ROUNDS (default 3),
# BENCH_CONNECTIONS (default 32), BENCH_SEED_DIR (default /var/tmp/kith-bench-compare),
# BENCH_RESEED=1 (seed Isso again), BENCH_VERBOSE=1 (print every run's figure), KITH_BIN (default: a release build, made here),
# BENCH_ONLY (run only these workloads, comma-separated, of read100, latency, read2000, counts,
# post, static; e.g. BENCH_ONLY=counts: the table then has only their rows and peak memory),
# TEST_POSTGRES_URL (an existing database to connect to for CREATE/DROP DATABASE, default
# postgres://root@127.0.0.1:5432/test), ISSO_VENV (see benches/isso/setup.sh).
#
# Both systems are configured alike, so that the post workload measures posting, not defences:
# Isso with moderation and its guard (rate limits) off, as benches/isso/isso.cfg has it; kith with
# moderation "none", min_post_secs 0, every rate limit far above the load, and requests waiting up
# to 60 s for a database connection (as they wait in gunicorn's queue; kith's default answers 503
# after 2 s, which a machine as loaded as the one these figures come from reaches). kith's content rules
# (form token, honeypot, duplicates, links, spam score) stay on: every post passes them. Every wrk
# request sends `Accept-Encoding: gzip, deflate, br` as browsers do (Isso does not compress).
# A benchmark, not a test: nothing here asserts a timing. Needs wrk (installed from Debian if
# missing), node (for seeding), psql and a PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/kith-target}"
SECONDS_PER_RUN="${BENCH_SECONDS:-10}"
# Isso takes about a second per 2,000-comment thread on an idle machine, far longer on a busy one.
SLOW_SECONDS="${BENCH_SLOW_SECONDS:-60}"
ROUNDS="${BENCH_ROUNDS:-3}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
SEED_DIR="${BENCH_SEED_DIR:-/var/tmp/kith-bench-compare}"
# Bump when the seeded threads change.
SEED_VERSION=1
SEED_THREADS=(/bench-100/=100 /bench-10/=10 /bench-2000/=2000)
COUNT_KEYS='"/bench-100/","/bench-2000/","/bench-10/"'
PG_ADMIN="${TEST_POSTGRES_URL:-postgres://root@127.0.0.1:5432/test}"
ENCODING='Accept-Encoding: gzip, deflate, br'

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [ -z "${KITH_BIN:-}" ]; then
  cargo build --release --bin kith -q
  KITH_BIN="$CARGO_TARGET_DIR/release/kith"
fi
bash benches/isso/setup.sh >/dev/null

WORK=$(mktemp -d)
PG_DB="kith_bench_compare_$$"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # URL LOGFILE
  for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "no answer from $1:"; cat "$2"; exit 1
}

# ---- Isso, seeded (or from the kept database) ----
ISSO_PORT=$(free_port)
ISSO="http://127.0.0.1:$ISSO_PORT"
start_isso() {
  bash benches/isso/setup.sh gunicorn "$WORK/isso.db" "$ISSO_PORT" 2 >"$WORK/isso.log" 2>&1 &
  ISSO_PID=$!
  PIDS+=("$ISSO_PID")
  wait_for "$ISSO/config" "$WORK/isso.log"
}
seeded="$SEED_DIR/isso-seed-$SEED_VERSION.db"
if [ -n "${BENCH_RESEED:-}" ] || [ ! -f "$seeded" ]; then
  start_isso
  node benches/isso/seed.mjs "$ISSO" "${SEED_THREADS[@]}"
  kill "$ISSO_PID"; wait "$ISSO_PID" 2>/dev/null || true
  mkdir -p "$SEED_DIR"
  cp "$WORK/isso.db" "$seeded.tmp" && mv "$seeded.tmp" "$seeded"
else
  cp "$seeded" "$WORK/isso.db"
fi
# A fresh Isso for the measurements (its peak memory is then this run's).
start_isso

# ---- kith on SQLite and on PostgreSQL, both imported from Isso's database ----
# The static file of the comparison: the 100-comment thread's own JSON, served by the same
# server from server.assets_dir as locales/zh.json (nothing else is read from that folder here).
mkdir -p "$WORK/assets/locales"
psql "$PG_ADMIN" -qc "CREATE DATABASE $PG_DB" >/dev/null
declare -A URL PID
start_kith() { # NAME DATABASE_URL
  local name=$1 port
  port=$(free_port)
  local unlimited='{per_minute=100000000,burst=100000000}'
  export KITH_DATABASE__URL="$2" KITH_SERVER__PORT="$port" KITH_SERVER__HOST=127.0.0.1 \
    KITH_SERVER__ASSETS_DIR="$WORK/assets" KITH_LOG__LEVEL=warn \
    KITH_DEFAULT_SITE__MODERATION=none KITH_DEFAULT_SITE__MIN_POST_SECS=0 \
    KITH_RATE_LIMITS__POST="$unlimited" KITH_RATE_LIMITS__COUNTS="$unlimited" \
    KITH_DATABASE__ACQUIRE_TIMEOUT_SECS=60
  "$KITH_BIN" import "$WORK/isso.db" --site default >"$WORK/$name-import.log" 2>&1 \
    || { echo "kith import ($name) failed:"; cat "$WORK/$name-import.log"; exit 1; }
  "$KITH_BIN" serve >"$WORK/$name.log" 2>&1 &
  PID[$name]=$!
  PIDS+=("$!")
  URL[$name]="http://127.0.0.1:$port/api/v1/sites/default"
  wait_for "${URL[$name]}/settings" "$WORK/$name.log"
}
start_kith sqlite "sqlite://$WORK/kith.db"
start_kith postgres "${PG_ADMIN%/*}/$PG_DB"
curl -sf "${URL[sqlite]}/thread?key=/bench-100/&limit=100" >"$WORK/assets/locales/zh.json"

# Both imports hold every seeded comment, and a post is published at once (201, not held or limited).
for name in sqlite postgres; do
  total=$(curl -sf "${URL[$name]}/thread?key=/bench-2000/&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  [ "$total" = 2000 ] || { echo "kith ($name) imported $total of the 2,000 comments"; exit 1; }
  token=$(curl -sf "${URL[$name]}/settings" | python3 -c 'import json,sys; print(json.load(sys.stdin)["form_token"])')
  status=$(curl -s -o "$WORK/check.json" -w '%{http_code}' -X POST "${URL[$name]}/comments" -H 'Content-Type: application/json' \
    -d "{\"thread_key\":\"/bench-check/\",\"author\":\"Check\",\"email\":\"check@example.com\",\"body\":\"Checking that posts go through.\",\"form_token\":\"$token\"}")
  [ "$status" = 201 ] || { echo "kith ($name) answered a post with $status:"; cat "$WORK/check.json"; exit 1; }
  declare "TOKEN_$name=$token"
done

# ---- the workloads ----
cat >"$WORK/post.lua" <<'LUA'
-- A different comment every request: round, wrk thread and request number in every field.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
function init(args)
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  n = n + 1
  local id = string.format("%s-%d-%d", os.getenv("BENCH_ROUND"), tid, n)
  local body
  if os.getenv("BENCH_SYSTEM") == "isso" then
    body = string.format('{"text":"Benchmark comment %s with a little *markdown*.","author":"Reader %s","email":"r%s@example.com","title":"A post"}', id, id, id)
  else
    body = string.format('{"thread_key":"/bench-post/","author":"Reader %s","email":"r%s@example.com","body":"Benchmark comment %s with a little *markdown*.","form_token":"%s"}', id, id, id, os.getenv("FORM_TOKEN"))
  end
  return wrk.format("POST", nil, nil, body)
end
local told = false
function response(status, headers, body)
  if status >= 300 and not told then
    told = true
    print("first failure: " .. status .. " " .. string.sub(body, 1, 200))
  end
end
LUA
cat >"$WORK/body.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
LUA

WARNINGS="$WORK/warnings"
: >"$WARNINGS"
# run_wrk SYSTEM WORKLOAD [wrk arguments...]: appends req/s (or the median latency in ms for
# the one-connection workload) to $WORK/results/SYSTEM.WORKLOAD.
mkdir -p "$WORK/results"
# only WORKLOAD: whether BENCH_ONLY (if set) names it.
only() { [ -z "${BENCH_ONLY:-}" ] || [[ ",${BENCH_ONLY// /}," == *",$1,"* ]]; }
run_wrk() {
  local system=$1 workload=$2 out
  shift 2
  only "$workload" || return 0
  out=$(BENCH_SYSTEM=$system wrk --timeout 120s -H "$ENCODING" "$@")
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    local probe=""
    # What such a request gets now (post.lua prints its first failure itself).
    if [ "$workload" = counts ]; then
      probe=$(curl -s -o "$WORK/probe" -w '%{http_code} ' -X POST -H 'Content-Type: application/json' -d "$BENCH_BODY" "${!#}"; head -c 200 "$WORK/probe")
    elif [ "$workload" != post ]; then
      probe=$(curl -s -o "$WORK/probe" -w '%{http_code} ' "${!#}"; head -c 200 "$WORK/probe")
    fi
    echo "$system $workload: $(grep -E 'Non-2xx|Socket errors|first failure' <<<"$out" | tr -s ' ' | tr '\n' ' ') now: $probe" >>"$WARNINGS"
  fi
  if [ "$workload" = latency ]; then
    awk '$1 == "50%" { v = $2; if (v ~ /us$/) print v / 1000; else if (v ~ /ms$/) print v + 0; else if (v ~ /s$/) print v * 1000 }' <<<"$out"
  else
    awk '/^Requests\/sec/ { print $2 }' <<<"$out"
  fi >>"$WORK/results/$system.$workload"
  # Requests wrk left queued in gunicorn's backlog are still served after it stops: wait until
  # Isso answers again, so that they do not slow the next run.
  if [ "$system" = isso ]; then curl -s --max-time 600 -o /dev/null "$ISSO/config" || true; fi
}
many=(-t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s")
one=(-t1 -c1 -d"${SECONDS_PER_RUN}s" --latency)
echo "kith $KITH_BIN ($(git rev-parse --short HEAD)) vs Isso 0.14.0 under gunicorn (2 workers); $(nproc) × $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); $(date -u +%F)" >&2
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round of $ROUNDS" >&2
  export BENCH_ROUND=$round
  run_wrk isso read100 "${many[@]}" "$ISSO/?uri=%2Fbench-100%2F"
  run_wrk isso latency "${one[@]}" "$ISSO/?uri=%2Fbench-100%2F"
  run_wrk isso read2000 -t2 -c"$CONNECTIONS" -d"${SLOW_SECONDS}s" "$ISSO/?uri=%2Fbench-2000%2F"
  BENCH_BODY="[$COUNT_KEYS]" run_wrk isso counts "${many[@]}" -s "$WORK/body.lua" "$ISSO/count"
  run_wrk isso post "${many[@]}" -s "$WORK/post.lua" "$ISSO/new?uri=%2Fbench-post%2F"
  for name in sqlite postgres; do
    api=${URL[$name]}
    token_var="TOKEN_$name"
    run_wrk "$name" read100 "${many[@]}" "$api/thread?key=/bench-100/&limit=100"
    run_wrk "$name" static "${many[@]}" "${api%/api/v1/*}/locales/zh.json"
    run_wrk "$name" latency "${one[@]}" "$api/thread?key=/bench-100/&limit=100"
    run_wrk "$name" read2000 "${many[@]}" "$api/thread?key=/bench-2000/"
    BENCH_BODY="{\"keys\":[$COUNT_KEYS]}" run_wrk "$name" counts "${many[@]}" -s "$WORK/body.lua" "$api/counts"
    FORM_TOKEN=${!token_var} run_wrk "$name" post "${many[@]}" -s "$WORK/post.lua" "$api/comments"
  done
done

# ---- peak memory (VmHWM: the most resident memory each process ever had) ----
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
isso_kib=$(hwm_kib "$ISSO_PID")
for child in $(pgrep -P "$ISSO_PID"); do isso_kib=$((isso_kib + $(hwm_kib "$child"))); done
echo "$isso_kib" >"$WORK/results/isso.rss"
for name in sqlite postgres; do hwm_kib "${PID[$name]}" >"$WORK/results/$name.rss"; done

# ---- sizes of the 100-comment thread as sent ----
size() { curl -s --max-time 120 -o /dev/null -w '%{size_download}' "$@" || true; }
sizes="100-comment thread as sent: Isso $(size "$ISSO/?uri=%2Fbench-100%2F") bytes; kith $(size "${URL[sqlite]}/thread?key=/bench-100/&limit=100") bytes, $(size -H "$ENCODING" "${URL[sqlite]}/thread?key=/bench-100/&limit=100") compressed"

# ---- the table ----
python3 - "$WORK/results" "$ROUNDS" "$CONNECTIONS" "$sizes" <<'PY'
import os, statistics, sys
results, rounds, connections, sizes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def get(system, workload):
    path = os.path.join(results, f"{system}.{workload}")
    values = [float(v) for v in open(path).read().split()] if os.path.exists(path) else []
    return statistics.median(values) if values else float("nan")
def div(a, b): return a / b if b else float("nan")
def rate(v): return f"{v:,.0f} req/s" if v >= 10 else f"{v:,.1f} req/s"
def ratio(v): return f"{v:,.0f}x" if v >= 10 else f"{v:,.1f}x" if v >= 1 else f"{v:.2f}x"
rows = []
only = [w.strip() for w in os.environ.get("BENCH_ONLY", "").split(",") if w.strip()]
def wanted(workload): return not only or workload in only
def throughput(label, workload, target, sqlite_target, pg_target):
    if not wanted(workload): return
    isso = get("isso", workload)
    s, p = get("sqlite", workload), get("postgres", workload)
    rows.append([label, rate(isso), rate(s), ratio(div(s, isso)), rate(p), ratio(div(p, isso)), target,
                 "yes" if div(s, isso) >= sqlite_target else "no", "yes" if div(p, isso) >= pg_target else "no"])
throughput("read a 100-comment thread (all of it)", "read100", ">= 200x", 200, 200)
isso, s, p = get("isso", "latency"), get("sqlite", "latency"), get("postgres", "latency")
if wanted("latency"):
    rows.append(["same, one connection, median latency", f"{isso:.2f} ms", f"{s:.2f} ms", ratio(div(isso, s)),
                 f"{p:.2f} ms", ratio(div(isso, p)), "<= 0.3 ms", "yes" if s <= 0.3 else "no", "yes" if p <= 0.3 else "no"])
throughput("first page of a 2,000-comment thread (Isso sends all)", "read2000", ">= 1,000x", 1000, 1000)
throughput("counts of 3 pages", "counts", ">= 20x", 20, 20)
throughput("post a comment", "post", ">= 20x SQLite, >= 10x PostgreSQL", 20, 10)
mib = {system: get(system, "rss") / 1024 for system in ("isso", "sqlite", "postgres")}
rows.append(["peak memory under these loads (VmHWM; Isso: master + 2 workers)", f"{mib['isso']:.0f} MiB",
             f"{mib['sqlite']:.0f} MiB", "", f"{mib['postgres']:.0f} MiB", "", "<= 64 MiB",
             "yes" if mib["sqlite"] <= 64 else "no", "yes" if mib["postgres"] <= 64 else "no"])
s = div(get("sqlite", "read100"), get("sqlite", "static"))
p = div(get("postgres", "read100"), get("postgres", "static"))
if wanted("static") and wanted("read100"): rows.append(["a cached page vs a static file of the same size, same kith server", "",
             f"{rate(get('sqlite', 'static'))} static", ratio(s), f"{rate(get('postgres', 'static'))} static", ratio(p),
             ">= 0.5", "yes" if s >= 0.5 else "no", "yes" if p >= 0.5 else "no"])
print(f"\nwrk, {connections} connections (one for the latency row), median of {rounds} rounds; {sizes}\n")
print("| workload | Isso | kith (SQLite) | ratio | kith (PostgreSQL) | ratio | target | met (SQLite) | met (PostgreSQL) |")
print("|---|--:|--:|--:|--:|--:|---|---|---|")
for row in rows:
    print("| " + " | ".join(row) + " |")
PY
if [ -n "${BENCH_VERBOSE:-}" ]; then
  echo; echo "Every run:"; for f in "$WORK"/results/*; do echo "$(basename "$f"): $(tr '\n' ' ' <"$f")"; done
fi
if [ -s "$WARNINGS" ]; then
  echo; echo "Warnings (responses that were not 2xx/3xx, or socket errors):"; cat "$WARNINGS"
fi
