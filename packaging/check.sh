#!/usr/bin/env bash
# Checks that goro can be consumed as a package:
#   1. installs goro from a build directory into a temporary prefix (cmake --install --prefix)
#      and checks that headers, library, CMake package and pkg-config file are there;
#   2. checks `pkg-config --cflags --libs goro` with PKG_CONFIG_PATH set to the prefix: the
#      include directory must be the prefix's, and a plain compiler command with those flags must
#      build a program that runs;
#   3. builds and runs packaging/find_package against the prefix: find_package(goro CONFIG
#      REQUIRED) and goro::goro, plus the same program through pkg-config's imported target;
#   4. builds and runs packaging/add_subdirectory, which builds this checkout with add_subdirectory.
# A failing step is reported and the next ones still run; the exit status is 1 if any failed.
#
# Usage: packaging/check.sh [build-dir]     (default: build/, as made by scripts/test)
# The build directory must be configured; its goro library is built if needed. The consumers use
# the build's compiler (and its sanitizer flags, for a GORO_SANITIZE build). JOBS=n limits the
# parallelism of the builds (default: nproc). KEEP=1 keeps the temporary directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" 2>/dev/null && pwd)" || {
  echo "check.sh: no build directory '${1:-$root/build}' (run scripts/test first)" >&2
  exit 2
}
[ -f "$build/CMakeCache.txt" ] || { echo "check.sh: $build is not a CMake build directory" >&2; exit 2; }
jobs="${JOBS:-$(nproc)}"

cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
cxx="$(cache CMAKE_CXX_COMPILER)"
build_type="$(cache CMAKE_BUILD_TYPE)"
case "$(cache GORO_SANITIZE)" in
  address) san_flags="-fsanitize=address,undefined -fno-omit-frame-pointer" ;;
  thread) san_flags="-fsanitize=thread" ;;
  *) san_flags="" ;;
esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/goro-packaging.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then echo "check.sh: keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
prefix="$tmp/prefix"
failures=0
fatal() { echo "check.sh: FAIL: $*" >&2; exit 1; }
failed() { echo "check.sh: FAIL: $*" >&2; failures=$((failures + 1)); }
step() { echo "== $*"; }
# Runs a command quietly; on failure shows its output and returns 1.
quiet() {
  local log="$1"
  shift
  "$@" >>"$log" 2>&1 || { cat "$log" >&2; return 1; }
}
# Runs a consumer program; it must exit with 0 and report OK.
run_consumer() {
  local out status=0
  out="$("$@" 2>&1)" || status=$?
  echo "   $out"
  if [ $status -ne 0 ] || ! grep -q ": OK$" <<<"$out"; then
    failed "$1 (exit status $status)"
    return 1
  fi
}

step "install $build into $prefix"
quiet "$tmp/install.log" cmake --build "$build" --target goro -j"$jobs" || fatal "building goro in $build"
quiet "$tmp/install.log" cmake --install "$build" --prefix "$prefix" || fatal "cmake --install"
[ -f "$prefix/include/goro/goro.hpp" ] || fatal "no include/goro/goro.hpp in the prefix"
config="$(find "$prefix" -name goroConfig.cmake -print -quit)"
pc="$(find "$prefix" -name goro.pc -print -quit)"
lib="$(find "$prefix" -name 'libgoro.*' -print -quit)"
[ -n "$config" ] || fatal "no goroConfig.cmake in the prefix"
[ -n "$pc" ] || fatal "no goro.pc in the prefix"
[ -n "$lib" ] || fatal "no libgoro in the prefix"
echo "   ${config#"$prefix"/}, ${pc#"$prefix"/}, ${lib#"$prefix"/}"

consumer_args=(-DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE="${build_type:-RelWithDebInfo}")
[ -n "$san_flags" ] && consumer_args+=(-DCMAKE_CXX_FLAGS="$san_flags")

step "pkg-config --cflags --libs goro (PKG_CONFIG_PATH=$(dirname "$pc"))"
PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
pc_ok=ON
if ! flags="$(pkg-config --cflags --libs goro)"; then
  failed "pkg-config --cflags --libs goro"
  pc_ok=OFF
else
  echo "   $flags"
  incdir="$(pkg-config --variable=includedir goro)"
  if [ "$(realpath -m "$incdir")" != "$(realpath -m "$prefix/include")" ]; then
    failed "goro.pc's includedir is '$incdir', not '$prefix/include': goro.pc does not follow the prefix given to cmake --install"
    pc_ok=OFF
  else
    # shellcheck disable=SC2086  # the flags are meant to be split
    if quiet "$tmp/pkgconfig.log" "$cxx" $san_flags "$root/packaging/find_package/main.cpp" $flags \
      -o "$tmp/pkgconfig-consumer"; then
      run_consumer "$tmp/pkgconfig-consumer" || true
    else
      failed "compiling with pkg-config's flags"
    fi
  fi
fi

step "find_package consumer$([ $pc_ok = ON ] && echo " (and pkg-config's imported target)")"
if quiet "$tmp/find_package.log" cmake -S "$root/packaging/find_package" -B "$tmp/find_package" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCONSUMER_PKG_CONFIG=$pc_ok "${consumer_args[@]}"; then
  if ! grep -q "goro .* from $prefix/" "$tmp/find_package.log"; then
    cat "$tmp/find_package.log" >&2
    failed "find_package did not find the goro installed in $prefix"
  elif quiet "$tmp/find_package.log" cmake --build "$tmp/find_package" -j"$jobs"; then
    run_consumer "$tmp/find_package/consumer" || true
    [ $pc_ok = ON ] && { run_consumer "$tmp/find_package/consumer_pkgconfig" || true; }
  else
    failed "building packaging/find_package"
  fi
else
  failed "configuring packaging/find_package"
fi

step "add_subdirectory consumer (builds goro from $root)"
if quiet "$tmp/add_subdirectory.log" cmake -S "$root/packaging/add_subdirectory" \
  -B "$tmp/add_subdirectory" -DGORO_SOURCE_DIR="$root" "${consumer_args[@]}" &&
  quiet "$tmp/add_subdirectory.log" cmake --build "$tmp/add_subdirectory" -j"$jobs"; then
  run_consumer "$tmp/add_subdirectory/consumer" || true
else
  failed "configuring or building packaging/add_subdirectory"
fi

if [ $failures -ne 0 ]; then
  echo "packaging checks: $failures failed" >&2
  exit 1
fi
echo "packaging checks passed"
