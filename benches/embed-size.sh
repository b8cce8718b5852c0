#!/usr/bin/env bash
# Prints raw and gzipped (gzip -9) sizes of the embed assets and fails when over budget:
#   embed.js <= 10 KB gzipped (what the first paint needs: the thread, script and styles together,
#   the styles are built into it), embed-form.js <= 6 KB gzipped (the posting UI: form, editor,
#   dialogs, proof of work; loaded on demand after the first paint), embed-live.js <= 3 KB gzipped
#   (live updates: loaded after the first paint when the server has them on), embed-signin.js
#   <= 4 KB gzipped (the sign-in panel, loaded when the reader presses "Sign in"), count.js <= 2 KB
#   gzipped.
#   embed.css (the same styles as a stylesheet, which the embed does not load) is listed for
#   information.
set -euo pipefail
cd "$(dirname "$0")/../embed"
raw() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9c "$1" | wc -c | tr -d ' '; }
printf '%-14s %8s %8s\n' file raw gzip
for f in embed.js embed-form.js embed-live.js embed-signin.js embed.css count.js; do printf '%-14s %8s %8s\n' "$f" "$(raw $f)" "$(gz $f)"; done
main=$(gz embed.js)
form=$(gz embed-form.js)
live=$(gz embed-live.js)
signin=$(gz embed-signin.js)
count=$(gz count.js)
status=0
printf 'embed.js (first paint: script and styles): %d bytes gzipped (budget 10240)\n' "$main"
printf 'embed-form.js (posting UI, on demand):     %d bytes gzipped (budget 6144)\n' "$form"
printf 'embed-live.js (live updates, on demand):   %d bytes gzipped (budget 3072)\n' "$live"
printf 'embed-signin.js (sign-in panel, on demand): %d bytes gzipped (budget 4096)\n' "$signin"
printf 'count.js:                                  %d bytes gzipped (budget 2048)\n' "$count"
if (( main > 10240 )); then echo "OVER BUDGET: embed.js" >&2; status=1; fi
if (( form > 6144 )); then echo "OVER BUDGET: embed-form.js" >&2; status=1; fi
if (( live > 3072 )); then echo "OVER BUDGET: embed-live.js" >&2; status=1; fi
if (( signin > 4096 )); then echo "OVER BUDGET: embed-signin.js" >&2; status=1; fi
if (( count > 2048 )); then echo "OVER BUDGET: count.js" >&2; status=1; fi
exit $status
