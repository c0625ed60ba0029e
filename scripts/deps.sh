#!/usr/bin/env bash
# Installs the Debian 12 packages leadroute needs, and only those missing.
# `deps.sh` is what building and serving need; `deps.sh --test` adds what the
# test suite needs. Non-interactive; as root or through sudo.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  tao-pegtl-dev libabsl-dev libcli11-dev nlohmann-json3-dev libcivetweb-dev
  libsqlite3-dev libcurl4-openssl-dev libssl-dev libpq-dev libjs-chart.js
  libgoogle-perftools-dev
)
if [ "${1:-}" = "--test" ]; then
  packages+=(
    libgtest-dev libgmock-dev libbenchmark-dev
    python3 python3-grpcio python3-grpc-tools python3-protobuf
    clang libclang-rt-dev openssl postgresql-15
    chromium chromium-driver python3-selenium
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  sudo=(sudo)
fi
echo "deps: installing ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
