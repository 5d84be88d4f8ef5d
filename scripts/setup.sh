#!/usr/bin/env bash
# Installs goro's build dependencies from Debian 12 packages (nothing is downloaded elsewhere).
# As root: installs what is missing. Otherwise: prints the exact command to run, and fails if
# something is missing.
#   scripts/setup.sh          core: compiler, CMake, Boost.Context, Catch2
#   scripts/setup.sh --bench  also the peers and tools for bench/ and the network examples
#                             (Go, Boost.Fiber, benchmark, gnuplot, wrk, redis-tools, redis-server)
#   scripts/setup.sh --dev    also clang (second compiler, sanitizers' runtimes), clang-format/-tidy, doxygen
set -euo pipefail
pkgs=(g++ cmake make libboost-context1.81-dev catch2)
for arg in "$@"; do
  case "$arg" in
    --bench) pkgs+=(golang-go libboost-fiber1.81-dev libbenchmark-dev hyperfine gnuplot-nox python3 wrk redis-tools redis-server) ;;
    --dev) pkgs+=(clang libclang-rt-14-dev clang-format clang-tidy doxygen) ;;
    *) echo "setup.sh: unknown option '$arg' (use --bench and/or --dev)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "setup.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
else
  echo "setup.sh: missing packages; run:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
