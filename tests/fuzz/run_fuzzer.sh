#!/usr/bin/env bash
# Runs the fuzzer for a bounded time from a fresh copy of the seed corpus.
# Usage: run_fuzzer.sh FUZZER WORK_DIR SEED_DIR... [-dict=FILE]
# FUZZ_SECONDS bounds the run; without it, FUZZ_DEFAULT_SECONDS (the
# test's own budget) or 60.
set -euo pipefail
fuzzer=$1 work=$2
shift 2
rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
# Inputs run with the work folder as the current directory, so relative
# includes in fuzzed text cannot reach the source tree's files by accident.
cd "$work"
exec "$fuzzer" -max_total_time="${FUZZ_SECONDS:-${FUZZ_DEFAULT_SECONDS:-60}}" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
  "$work/corpus" "$@"
