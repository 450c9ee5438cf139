#!/usr/bin/env bash
# Runs .clusterfuzzlite/build.sh the way OSS-Fuzz / ClusterFuzzLite do (CC
# CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE OUT SRC WORK set, libFuzzer engine,
# AddressSanitizer) into a temporary $OUT, then checks that every target of
# fuzz/targets.txt is there, runs, and has its seed corpus zip (holding
# every committed seed and regression input) and, for parser targets, its
# dictionary. Exit 77 (skipped) without clang's libFuzzer.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if ! command -v clang >/dev/null || ! command -v zip >/dev/null || ! command -v unzip >/dev/null; then
    echo "skipped: needs clang, zip and unzip"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; return (int)n * 0; }' |
    clang -x c -fsanitize=fuzzer - -o "$tmp/probe" 2>/dev/null; then
    echo "skipped: clang has no libFuzzer runtime (libclang-rt-14-dev)"; exit 77
fi

mkdir -p "$tmp/src" "$tmp/out" "$tmp/work"
ln -s "$root" "$tmp/src/imcore"
# What OSS-Fuzz's base-builder sets for a libFuzzer + ASan build (without
# -O1 and debug info, to keep this test quick).
export CC=clang CXX=clang++
export CFLAGS="-O0 -fno-omit-frame-pointer -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
export SRC="$tmp/src" OUT="$tmp/out" WORK="$tmp/work" SANITIZER=address FUZZING_ENGINE=libfuzzer
fail=0
start=$(date +%s)
if ! bash "$root/.clusterfuzzlite/build.sh" > "$tmp/build.log" 2>&1; then
    cat "$tmp/build.log"; echo "FAIL: build.sh failed"; exit 1
fi
echo "build.sh: $(( $(date +%s) - start )) s"

# shellcheck source=../scripts/lib/fuzz-build.sh
. "$root/scripts/lib/fuzz-build.sh"
targets=$(imc_fuzz_targets)
# The build directory is keyed by sanitizer and engine.
if [ ! -d "$WORK/build-address-libfuzzer" ]; then
    echo "FAIL: build.sh did not build in \$WORK/build-address-libfuzzer"; fail=1
fi
for t in $targets; do
    bin="$OUT/$t" zipf="$OUT/${t}_seed_corpus.zip"
    if [ ! -x "$bin" ]; then echo "FAIL: $t: no fuzzer in \$OUT"; fail=1; continue; fi
    if [ ! -s "$zipf" ]; then echo "FAIL: $t: no seed corpus zip"; fail=1; continue; fi
    want=$(find "$root/corpus/$t" "$root/corpus/regressions/$t" -type f ! -name '.*' 2>/dev/null | wc -l)
    have=$(unzip -Z1 "$zipf" | wc -l)
    if [ "$have" -ne "$want" ]; then echo "FAIL: $t: zip has $have inputs, corpus $want"; fail=1; fi
    if [ -f "$root/corpus/$t.dict" ] && [ ! -f "$OUT/$t.dict" ]; then
        echo "FAIL: $t: dictionary not copied"; fail=1
    fi
    if [ ! -f "$OUT/$t.options" ] || ! grep -q '^max_len' "$OUT/$t.options"; then
        echo "FAIL: $t: no .options with max_len"; fail=1
    fi
    # The fuzzer runs: the whole seed corpus once, no crash.
    mkdir -p "$tmp/seeds/$t"
    unzip -q -o "$zipf" -d "$tmp/seeds/$t"
    if ! "$bin" -runs=0 "$tmp/seeds/$t" > "$tmp/run-$t.log" 2>&1; then
        tail -30 "$tmp/run-$t.log"; echo "FAIL: $t: does not run its seed corpus"; fail=1
    else
        echo "ok: $t ($have seeds)"
    fi
done
exit "$fail"
