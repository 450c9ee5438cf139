#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script for imcore.
#
# Uses the variables OSS-Fuzz sets: CC CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE
# OUT SRC SANITIZER FUZZING_ENGINE (and WORK if set). Builds every harness of
# fuzz/targets.txt with the engine's flags and puts into $OUT, for each
# target T:
#   T                  the fuzzer
#   T_seed_corpus.zip  corpus/T/ and corpus/regressions/T/
#   T.dict             corpus/T.dict, where there is one
#   T.options          corpus/T.options (max_len), where there is one
# Build directories are keyed by sanitizer and engine, so a build made with
# other flags is never reused.
# Dependencies found under $SRC (openssl, libsodium, lmdb: cloned by the
# Dockerfile) are built first as static libraries; without them the system's
# are used (a Debian 12 machine: what fuzz/test_cflite_build.sh does).

if [ -f "$SRC/imcore/CMakeLists.txt" ]; then
    root="$SRC/imcore"
else
    root=$(cd "$(dirname "$0")/.." && pwd)
fi
work="${WORK:-$OUT/../imcore-work}"
mkdir -p "$work" "$OUT"
jobs=$(nproc 2>/dev/null || echo 2)
key="${SANITIZER:-address}-${FUZZING_ENGINE:-libfuzzer}"
deps="$work/deps-$key"
cmake_extra=()

# Dependencies are built without the sanitizer and coverage flags (only
# imcore's own code is instrumented), except under MemorySanitizer, which
# must see every store: there they get the same flags and no assembly.
if [ "${SANITIZER:-}" = memory ]; then
    dep_env=(env CC="${CC}" CXX="${CXX}")
    ossl_extra=(no-asm no-threads)
    sodium_extra=(--disable-asm)
else
    dep_env=(env -u CFLAGS -u CXXFLAGS CC="${CC}" CXX="${CXX}")
    ossl_extra=()
    sodium_extra=()
fi
if [ -d "$SRC/openssl" ] && [ ! -f "$deps/lib/libcrypto.a" ]; then
    (cd "$SRC/openssl" && make distclean >/dev/null 2>&1; "${dep_env[@]}" ./config no-shared \
        no-tests no-apps "${ossl_extra[@]}" --prefix="$deps" --libdir=lib &&
        make -j"$jobs" build_libs >/dev/null && make install_dev >/dev/null)
fi
if [ -d "$SRC/libsodium" ] && [ ! -f "$deps/lib/libsodium.a" ]; then
    (cd "$SRC/libsodium" && { [ -x configure ] || ./autogen.sh -s; } && make distclean \
        >/dev/null 2>&1; "${dep_env[@]}" ./configure --disable-shared --enable-static \
        "${sodium_extra[@]}" --prefix="$deps" >/dev/null &&
        make -j"$jobs" >/dev/null && make install >/dev/null)
fi
if [ -d "$SRC/lmdb" ] && [ ! -f "$deps/lib/liblmdb.a" ]; then
    (cd "$SRC/lmdb/libraries/liblmdb" && make clean >/dev/null 2>&1;
        make -j"$jobs" CC="$CC" XCFLAGS="${CFLAGS:-}" liblmdb.a >/dev/null &&
        mkdir -p "$deps/lib/pkgconfig" "$deps/include" &&
        cp liblmdb.a "$deps/lib/" && cp lmdb.h "$deps/include/" &&
        printf 'prefix=%s\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: lmdb\nDescription: LMDB\nVersion: 0.9\nLibs: -L${libdir} -llmdb -lpthread\nCflags: -I${includedir}\n' \
            "$deps" > "$deps/lib/pkgconfig/lmdb.pc")
fi
if [ -d "$deps/lib" ]; then
    export PKG_CONFIG_PATH="$deps/lib/pkgconfig:${PKG_CONFIG_PATH:-}"
    cmake_extra+=(-DOPENSSL_ROOT_DIR="$deps" -DOPENSSL_USE_STATIC_LIBS=TRUE
                  -DCMAKE_PREFIX_PATH="$deps")
fi

# CFLAGS / CXXFLAGS reach CMake through the environment (first configure).
build="$work/build-$key"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE= \
    -DIMC_BUILD_TESTS=OFF -DIMC_BUILD_FUZZ=ON -DIMC_FUZZ_ENGINE=external \
    -DIMC_FUZZ_LINK="$LIB_FUZZING_ENGINE" "${cmake_extra[@]}"

# shellcheck source=../scripts/lib/fuzz-build.sh
. "$root/scripts/lib/fuzz-build.sh"
targets=$(imc_fuzz_targets)
bins=()
for t in $targets; do bins+=("fuzz_$t"); done
cmake --build "$build" -j"$jobs" --target "${bins[@]}"

for t in $targets; do
    cp "$build/fuzz/fuzz_$t" "$OUT/$t"
    zip_list=()
    for d in "corpus/$t" "corpus/regressions/$t"; do
        [ -d "$root/$d" ] && zip_list+=("$d")
    done
    rm -f "$OUT/${t}_seed_corpus.zip"
    seeds=$(cd "$root" && find "${zip_list[@]}" -type f ! -name '.*' -print)
    if [ -n "$seeds" ]; then
        (cd "$root" && echo "$seeds" | zip -q -j -@ "$OUT/${t}_seed_corpus.zip")
    else
        echo "imcore: warning: no seed corpus for $t" >&2
    fi
    for ext in dict options; do
        if [ -f "$root/corpus/$t.$ext" ]; then
            cp "$root/corpus/$t.$ext" "$OUT/$t.$ext"
        fi
    done
done
echo "imcore: built $(echo $targets | wc -w) fuzzers into $OUT"
