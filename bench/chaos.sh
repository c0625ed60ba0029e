#!/usr/bin/env bash
# The long chaos run of three `serve --state` replicas on a real PostgreSQL
# (issue 22): the suite's ChaosReplicasTest with many more kills. Usage:
#   bench/chaos.sh [ROUNDS] [BUILD_DIR]
# ROUNDS defaults to 100 (about 3 minutes); BUILD_DIR to build/test (the
# sanitized build scripts/test.sh makes). The test prints what it did.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-100}
build=${2:-$root/build/test}
LEADROUTE_CHAOS_ROUNDS=$rounds exec "$build/tests/replicas_test" \
  --gtest_filter='ChaosReplicasTest.*'
