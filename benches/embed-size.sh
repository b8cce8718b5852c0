#!/usr/bin/env bash
# Prints raw and gzipped (gzip -9) sizes of the embed assets and fails when over budget:
#   embed.js + embed.css <= 10 KB gzipped (each file gzipped on its own, as served), count.js <= 2 KB gzipped.
set -euo pipefail
cd "$(dirname "$0")/../embed"
raw() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9c "$1" | wc -c | tr -d ' '; }
printf '%-10s %8s %8s\n' file raw gzip
for f in embed.js embed.css count.js; do printf '%-10s %8s %8s\n' "$f" "$(raw $f)" "$(gz $f)"; done
main=$(( $(gz embed.js) + $(gz embed.css) ))
count=$(gz count.js)
status=0
printf 'embed.js+embed.css: %d bytes gzipped (budget 10240)\n' "$main"
printf 'count.js:           %d bytes gzipped (budget 2048)\n' "$count"
if (( main > 10240 )); then echo "OVER BUDGET: embed.js+embed.css" >&2; status=1; fi
if (( count > 2048 )); then echo "OVER BUDGET: count.js" >&2; status=1; fi
exit $status
