#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script for imcore.
#
# Uses the variables OSS-Fuzz sets: CC CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE
# OUT SRC (and WORK if set). Builds every harness of fuzz/targets.cmake with
# the engine's flags and puts into $OUT, for each target T:
#   T                  the fuzzer
#   T_seed_corpus.zip  corpus/T/ and corpus/regressions/T/
#   T.dict             corpus/T.dict, where there is one
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
deps="$work/deps"
cmake_extra=()

# Dependencies are built without the sanitizer and coverage flags: only
# imcore's own code is instrumented.
dep_env=(env -u CFLAGS -u CXXFLAGS CC="${CC}" CXX="${CXX}")
if [ -d "$SRC/openssl" ] && [ ! -f "$deps/lib/libcrypto.a" ]; then
    (cd "$SRC/openssl" && "${dep_env[@]}" ./config no-shared no-tests no-apps \
        --prefix="$deps" --libdir=lib && make -j"$jobs" build_libs >/dev/null &&
        make install_dev >/dev/null)
fi
if [ -d "$SRC/libsodium" ] && [ ! -f "$deps/lib/libsodium.a" ]; then
    (cd "$SRC/libsodium" && { [ -x configure ] || ./autogen.sh -s; } &&
        "${dep_env[@]}" ./configure --disable-shared --enable-static --prefix="$deps" >/dev/null &&
        make -j"$jobs" >/dev/null && make install >/dev/null)
fi
if [ -d "$SRC/lmdb" ] && [ ! -f "$deps/lib/liblmdb.a" ]; then
    (cd "$SRC/lmdb/libraries/liblmdb" && make -j"$jobs" CC="$CC" liblmdb.a >/dev/null &&
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
build="$work/build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE= \
    -DIMC_BUILD_TESTS=OFF -DIMC_BUILD_FUZZ=ON -DIMC_FUZZ_ENGINE=external \
    -DIMC_FUZZ_LINK="$LIB_FUZZING_ENGINE" "${cmake_extra[@]}"

targets=$(sed -n '/^set(IMC_FUZZ_TARGETS/,/^)/p' "$root/fuzz/targets.cmake" |
          grep -E '^\s+[a-z_]+\s*$' | tr -d ' ')
if [ -f "$root/core/include/imcore/dir.h" ] && [ -f "$root/fuzz/fuzz_dir_ops.c" ]; then
    targets="$targets dir_response_parse dir_update_parse dir_ops dir_malicious"
fi
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
    if [ -f "$root/corpus/$t.dict" ]; then
        cp "$root/corpus/$t.dict" "$OUT/$t.dict"
    fi
done
echo "imcore: built $(echo $targets | wc -w) fuzzers into $OUT"
