# Configures and builds the fuzzing trees; sourced by scripts/gen-corpus
# (scripts/fuzz has the same commands in Python). Build directories:
#   build/h-fuzz              libFuzzer, ASan+UBSan (the `fuzz` preset)
#   build/h-fuzz-afl          AFL++ persistent mode, ASan+UBSan
#   build/h-fuzz-afl-cmplog   the same with AFL_LLVM_CMPLOG=1 (afl-fuzz -c)
#   build/h-fuzz-msan         libFuzzer, MemorySanitizer (deps: scripts/lib/msan-deps.sh)
#   build/h-fuzz-replay       plain replay drivers and the corpus generator
#   build/h-fuzz-cov          replay drivers with clang source coverage
#                             (scripts/fuzz-coverage)

imc_fuzz_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The fuzz targets, one per line: fuzz/targets.txt without its comments
# (the one list; fuzz/targets.cmake reads the same file).
imc_fuzz_targets() {
    sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$imc_fuzz_root/fuzz/targets.txt"
}

# imc_fuzz_configure ENGINE JOBS: configure (once) and build one tree.
imc_fuzz_configure() {
    local engine=$1 jobs=$2 dir args=()
    local common=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMC_WERROR=ON
                  -DIMC_BUILD_TESTS=OFF -DIMC_BUILD_FUZZ=ON)
    case "$engine" in
        libfuzzer) dir=build/h-fuzz
            args=(-DIMC_FUZZ_ENGINE=libfuzzer -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
        afl) dir=build/h-fuzz-afl
            args=(-DIMC_FUZZ_ENGINE=afl -DCMAKE_C_COMPILER=afl-clang-fast -DCMAKE_CXX_COMPILER=afl-clang-fast++) ;;
        afl-cmplog) dir=build/h-fuzz-afl-cmplog
            args=(-DIMC_FUZZ_ENGINE=afl -DIMC_FUZZ_CMPLOG=ON -DCMAKE_C_COMPILER=afl-clang-fast -DCMAKE_CXX_COMPILER=afl-clang-fast++) ;;
        msan) dir=build/h-fuzz-msan
            # libFuzzer + MemorySanitizer over the dependencies that
            # scripts/lib/msan-deps.sh built from Debian's sources; only the
            # libsodium and OpenSSL backends (the others would need their own
            # instrumented builds).
            local deps="$imc_fuzz_root/build/msan-deps" msan="-fsanitize=memory -fsanitize-memory-track-origins -fno-omit-frame-pointer"
            export PKG_CONFIG_PATH="$deps/lib/pkgconfig"
            args=(-DIMC_FUZZ_ENGINE=libfuzzer -DIMC_FUZZ_SANITIZE=OFF
                  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
                  "-DCMAKE_C_FLAGS=$msan" "-DCMAKE_CXX_FLAGS=$msan"
                  "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=memory"
                  -DOPENSSL_ROOT_DIR="$deps" -DOPENSSL_USE_STATIC_LIBS=TRUE
                  -DIMC_OPTIONAL_BACKENDS=OFF) ;;
        replay) dir=build/h-fuzz-replay
            args=(-DIMC_FUZZ_ENGINE=replay) ;;
        coverage) dir=build/h-fuzz-cov
            args=(-DIMC_FUZZ_ENGINE=replay -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
                  "-DCMAKE_C_FLAGS=-fprofile-instr-generate -fcoverage-mapping"
                  "-DCMAKE_EXE_LINKER_FLAGS=-fprofile-instr-generate") ;;
        *) echo "imc_fuzz_configure: unknown engine $engine" >&2; return 2 ;;
    esac
    local log
    log=$(mktemp)
    # Always (re)configure: the target list depends on which sources exist.
    AFL_QUIET=1 cmake -S "$imc_fuzz_root" -B "$imc_fuzz_root/$dir" "${common[@]}" "${args[@]}" \
        >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }
    AFL_QUIET=1 cmake --build "$imc_fuzz_root/$dir" -j "$jobs" >"$log" 2>&1 ||
        { cat "$log" >&2; rm -f "$log"; return 1; }
    rm -f "$log"
}
