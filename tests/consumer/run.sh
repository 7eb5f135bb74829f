#!/bin/sh
# Installs the build into a temporary prefix, then builds and runs the two consumer projects
# against it: tests/consumer/cmake (find_package + corebpf_add_bpf) and tests/consumer/make
# (pkg-config and a plain Makefile). Needs root (the programs load and attach). Exit 77: skipped.
#   run.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
source=$2
if [ "$(id -u)" != 0 ]; then
  echo "needs root (kernel test): run as root"
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
tmp=$(mktemp -d /tmp/corebpf-consumer.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -x "$tmp/prefix/bin/corebpf"
test -s "$tmp/prefix/share/bash-completion/completions/corebpf"
test -s "$tmp/prefix/share/man/man8/corebpf.8" && test -s "$tmp/prefix/share/man/man8/corebpf-prog.8"
test -f "$tmp/prefix/lib/libcorebpf.a"
test -f "$tmp/prefix/lib/cmake/corebpf/corebpfConfig.cmake"
test -f "$tmp/prefix/lib/cmake/corebpf/corebpfConfigVersion.cmake"
test -f "$tmp/prefix/include/corebpf/skeleton.hpp"

echo "== find_package(corebpf) + corebpf_add_bpf()"
cmake -S "$source/tests/consumer/cmake" -B "$tmp/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cmake-build"
"$tmp/cmake-build/minimal"
"$tmp/cmake-build/from_btf/minimal_from_btf"
"$tmp/cmake-build/from_header/minimal_from_header"

echo "== pkg-config + make"
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs --static corebpf
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" make -s -f "$source/tests/consumer/make/Makefile" \
  COREBPF="$tmp/prefix/bin/corebpf" O="$tmp/make-build"
# One self-contained binary: it runs from anywhere, without the object beside it.
mv "$tmp/make-build/minimal" "$tmp/minimal" && rm "$tmp/make-build/minimal.bpf.o"
"$tmp/minimal"
echo "consumers ok"
