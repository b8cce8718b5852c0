#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (default 60 s each), or the ones named:
#
#   fuzz/run.sh                       # all targets, 60 s each
#   FUZZ_SECS=600 fuzz/run.sh markdown tokens
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz
# (`cargo install cargo-fuzz`); both are installed here when missing. New inputs that widen
# coverage go to fuzz/corpus/NAME/ (commit the small, interesting ones: the api tests replay
# them on stable); a crash is saved in fuzz/artifacts/NAME/ with the command to reproduce it.
# Not part of CI: it needs nightly and minutes per target. See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")"
SECS="${FUZZ_SECS:-60}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-/var/tmp/kith-fuzz-target}"
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
failed=()
for target in "${targets[@]}"; do
  echo "== $target ($SECS s)"
  mkdir -p "corpus/$target"
  # New corpus entries go to a scratch folder first, so the committed corpus only grows by hand.
  scratch="$CARGO_TARGET_DIR/corpus/$target"
  mkdir -p "$scratch"
  if ! cargo +nightly fuzz run "$target" "$scratch" "corpus/$target" -- \
      -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1; then
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} failed: ${failed[*]} (see fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} passed, 0 failed"
