#!/usr/bin/env bash
# Quick start: install what is missing, build a Release leadroute, and serve
# the bundled example rules. Extra arguments go to `leadroute serve`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/release"

"$root/scripts/deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DLEADROUTE_BUILD_TESTS=OFF -DLEADROUTE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target leadroute

listen=127.0.0.1:50051
admin=127.0.0.1:9090
cat <<MSG

leadroute is starting on $listen with examples/acme.route (Ctrl-C stops it).
The routing dashboard: http://$admin/
From another terminal, route the example lead:

  $build/leadroute route --server $listen $root/examples/leads/demo_request.json

MSG
exec "$build/leadroute" serve --listen "$listen" --admin-listen "$admin" \
  --rules "$root/examples/acme.route" \
  --data-dir "${LEADROUTE_DATA_DIR:-$root/build/data}" "$@"
