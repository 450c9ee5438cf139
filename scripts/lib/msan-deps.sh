#!/usr/bin/env bash
# Builds imcore's crypto and storage dependencies with MemorySanitizer from
# Debian's source packages (MSan needs every byte-writing function
# instrumented, so the system libraries cannot be used): libsodium, LMDB and
# OpenSSL, static, without assembly, into PREFIX (default
# build/msan-deps). Used by `scripts/fuzz --sanitizer memory`.
#
# usage: scripts/lib/msan-deps.sh [PREFIX]
#
# Adds deb-src lines for the configured Debian suites when apt has none
# (apt-get source needs them), and installs dpkg-dev. Each library is built
# once; delete PREFIX to rebuild. Prints the seconds each build took.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prefix=${1:-$root/build/msan-deps}
src=$prefix/src
mkdir -p "$src" "$prefix/lib/pkgconfig" "$prefix/include"
jobs=$(nproc 2>/dev/null || echo 2)
export CC=clang CXX=clang++
msan="-fsanitize=memory -fsanitize-memory-track-origins -fno-omit-frame-pointer -g -O1"

apt_sources() {
    if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        local f=/etc/apt/sources.list.d/imcore-deb-src.sources
        # The same archives and suites as the binary packages.
        sed -n '/^Types: deb$/,/^$/p' /etc/apt/sources.list.d/debian.sources |
            sed 's/^Types: deb$/Types: deb-src/' > "$f"
        apt-get update -qq
    fi
    command -v dpkg-source >/dev/null || apt-get install -y -qq dpkg-dev >/dev/null
}

# fetch PACKAGE: unpacks Debian's source of PACKAGE under $src, prints its dir.
fetch() {
    local d
    d=$(find "$src" -maxdepth 1 -type d -name "$1-[0-9]*" | head -1)
    if [ -z "$d" ]; then
        (cd "$src" && apt-get source -qq "$1" >/dev/null 2>&1)
        d=$(find "$src" -maxdepth 1 -type d -name "$1-[0-9]*" | head -1)
    fi
    [ -n "$d" ] || { echo "msan-deps: apt-get source $1 failed" >&2; return 1; }
    echo "$d"
}

timed() {
    local name=$1 t0
    shift
    t0=$(date +%s)
    "$@"
    echo "msan-deps: $name built in $(( $(date +%s) - t0 )) s"
}

build_sodium() {
    local d
    d=$(fetch libsodium)
    (cd "$d" && make distclean >/dev/null 2>&1 || true
     { [ -x configure ] || ./autogen.sh -s >/dev/null 2>&1; } &&
     CFLAGS="$msan" ./configure -q --disable-shared --enable-static --disable-asm \
         --disable-ssp --prefix="$prefix" >/dev/null &&
     make -j"$jobs" >/dev/null && make install >/dev/null)
}

build_lmdb() {
    local d
    d=$(fetch lmdb)
    (cd "$d/libraries/liblmdb" && make clean >/dev/null 2>&1 || true
     make -j"$jobs" CC=clang XCFLAGS="$msan" liblmdb.a >/dev/null &&
     cp liblmdb.a "$prefix/lib/" && cp lmdb.h "$prefix/include/")
    printf 'prefix=%s\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: lmdb\nDescription: LMDB (MSan)\nVersion: 0.9\nLibs: -L${libdir} -llmdb -lpthread\nCflags: -I${includedir}\n' \
        "$prefix" > "$prefix/lib/pkgconfig/lmdb.pc"
}

build_openssl() {
    local d
    d=$(fetch openssl)
    # no-asm: MSan cannot see stores made by assembly. The minimal set of
    # algorithms the backend uses is not cut down further: the default
    # provider needs its own dependencies, and a missing one fails at run
    # time rather than at build time.
    (cd "$d" && make distclean >/dev/null 2>&1 || true
     ./Configure linux-x86_64-clang no-asm no-shared no-tests no-apps no-docs no-threads \
         no-engine no-dso no-afalgeng no-ui-console no-legacy no-module \
         -DPEDANTIC $msan --prefix="$prefix" --libdir=lib >/dev/null &&
     make -j"$jobs" build_libs >/dev/null && make install_dev >/dev/null)
}

apt_sources
[ -f "$prefix/lib/libsodium.a" ] || timed libsodium build_sodium
[ -f "$prefix/lib/liblmdb.a" ] || timed lmdb build_lmdb
[ -f "$prefix/lib/libcrypto.a" ] || timed openssl build_openssl
echo "msan-deps: ready in $prefix"
