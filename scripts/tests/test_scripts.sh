#!/usr/bin/env bash
# The scripts' command lines: every usage error is one line on stderr and
# exit status 2, never a Python traceback; a run does not write tracked
# files unless asked; a filtered benchmark report draws no broken plot.
# usage: test_scripts.sh REPO-ROOT
set -uo pipefail
root=${1:?usage: test_scripts.sh REPO-ROOT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0
pass() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# usage_error NAME CMD...: exit 2, one line on stderr, no traceback.
usage_error() {
    local name=$1 rc=0
    shift
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    if [ "$rc" -ne 2 ]; then fail "$name: exit $rc, not 2: $(head -c 300 "$tmp/err")"; return; fi
    if grep -q Traceback "$tmp/err"; then fail "$name: a traceback"; return; fi
    if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then fail "$name: $(wc -l <"$tmp/err") lines on stderr"; return; fi
    pass
}

cd "$tmp"
echo "not json" >bad.json
printf '{"benchmarks": []}\n' >empty.json
cmp="$root/scripts/compare"
usage_error "compare: missing file" "$cmp" missing.json empty.json
usage_error "compare: not JSON" "$cmp" bad.json empty.json
usage_error "compare: not a benchmark file" "$cmp" <(echo '[1]') empty.json
usage_error "compare: bad regex" "$cmp" --filter '(' empty.json empty.json
usage_error "compare: one file" "$cmp" empty.json
usage_error "compare: bad --alpha" "$cmp" --alpha x empty.json empty.json
usage_error "compare: --backends arity" "$cmp" --backends empty.json sodium

ap="$root/scripts/auto-profile"
usage_error "auto-profile: missing file" "$ap" missing.json
usage_error "auto-profile: not JSON" "$ap" bad.json
usage_error "auto-profile: not a benchmark file" "$ap" <(echo '[1]')
usage_error "auto-profile: no floor rows" "$ap" empty.json
# Per primitive, the library whose rows add up to less: openssl's X25519
# (keygen + derive 3 + 3 against 1 + 9), sodium's random (medians win over
# a failed row); a library without all of a primitive's rows does not count.
row() { printf '{"name": "%s", "run_name": "%s", "run_type": "%s", "aggregate_name": "median", "real_time": %s, "time_unit": "us"%s}' "$1" "$1" "$2" "$3" "${4:-}"; }
{
    echo '{"benchmarks": ['
    row prim/sodium/x25519-keygen aggregate 1; echo ,
    row prim/sodium/x25519-derive aggregate 9; echo ,
    row prim/openssl/x25519-keygen aggregate 3; echo ,
    row prim/openssl/x25519-derive aggregate 3; echo ,
    row prim/sodium/random/32 aggregate 2; echo ,
    row prim/openssl/random/32 aggregate 1 ', "error_occurred": true'; echo ,
    row prim/wolfssl/random/32 aggregate 5; echo ,
    row prim/wolfssl/x25519-derive aggregate 0.1; echo ,
    row prim/auto/random/32 aggregate 0.1
    echo ']}'
} >floor.json
if "$ap" floor.json >profile.txt 2>"$tmp/err" &&
    [ "$(grep -v '^#' profile.txt | tr '\n' ' ')" = "random=sodium x25519=openssl " ]; then
    pass
else
    fail "auto-profile: $(cat profile.txt "$tmp/err" | head -c 400)"
fi

fz="$root/scripts/fuzz"
usage_error "fuzz: unknown target" "$fz" --no-build --target bogus
usage_error "fuzz: negative seconds" "$fz" --no-build --seconds -5
usage_error "fuzz: not a number" "$fz" --seconds five
usage_error "fuzz: unknown option" "$fz" --bogus
usage_error "fuzz: --summary and --publish" "$fz" --no-build --summary x.json --publish
# --no-build without a build: one line, exit 1, no traceback (a copy of the
# scripts in a tree that has no build/).
mkdir -p fake/scripts fake/fuzz
cp -r "$root/scripts/fuzz" "$root/scripts/lib" fake/scripts/
cp "$root/fuzz/targets.txt" fake/fuzz/
rc=0
fake/scripts/fuzz --no-build --target decrypt --seconds 1 >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" = 1 ] && ! grep -q Traceback "$tmp/err" && [ "$(wc -l <"$tmp/err")" = 1 ] &&
    grep -q "no libfuzzer build" "$tmp/err"; then pass; else fail "fuzz --no-build without a build: rc $rc: $(cat "$tmp/err")"; fi
# The default summary is not a tracked file.
grep -q '"results", "" if args.publish else "tmp"' "$root/scripts/fuzz" && pass ||
    fail "fuzz: the default summary is not under results/tmp/"

usage_error "bench: unknown option" "$root/scripts/bench" --bogus
usage_error "bench: --jobs 0" "$root/scripts/bench" --jobs 0
usage_error "bench: --jobs x" "$root/scripts/bench" --jobs x
usage_error "setup: unknown option" "$root/scripts/setup" --bogus
usage_error "merge-results: no shards" "$root/scripts/merge-results"
usage_error "scale-curve: bad option" "$root/scripts/scale-curve" --bogus

# setup --check: its words and its status agree.
rc=0
"$root/scripts/setup" --check >"$tmp/out" 2>&1 || rc=$?
if grep -q "all .* packages present" "$tmp/out"; then
    [ "$rc" = 0 ] && pass || fail "setup --check: says all present, exits $rc"
else
    [ "$rc" = 1 ] && grep -q missing "$tmp/out" && pass || fail "setup --check: rc $rc: $(cat "$tmp/out")"
fi
grep -q "npm ci" "$root/scripts/setup" && fail "setup runs npm (Debian packages only)" || pass

# A filtered benchmark run's report: only the plots it has data for, no
# gnuplot error, no link to a plot that was not drawn.
if command -v gnuplot >/dev/null; then
    # A google-benchmark run: results/<UTC date and time>-<cpu model>.json.
    src=$(ls -t "$root"/results/[0-9]*T*Z-*.json 2>/dev/null | head -n 1)
    if [ -n "$src" ]; then
        python3 - "$src" sub.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
keep = lambda n: n.startswith("encrypt/sodium/") or n.startswith("prim/")
d["benchmarks"] = [b for b in d["benchmarks"] if keep(b.get("run_name", b["name"]))]
json.dump(d, open(sys.argv[2], "w"))
PY
        mkdir plots
        touch plots/threads.svg # a stale plot of an earlier run
        rc=0
        python3 "$root/scripts/lib/bench_report.py" sub.json --markdown plots/README.md --plots plots \
            >"$tmp/out" 2>&1 || rc=$?
        [ "$rc" = 0 ] && pass || fail "bench_report on a filtered run: exit $rc"
        grep -q "undefined\|gnuplot.*failed" "$tmp/out" && fail "bench_report: gnuplot errors: $(grep -m1 undefined "$tmp/out")" || pass
        [ ! -e plots/fanout.svg ] && [ ! -e plots/threads.svg ] && pass ||
            fail "bench_report drew (or kept) a plot without data: $(ls plots)"
        grep -q "fanout.svg\|threads.svg" plots/README.md && fail "README links a plot not drawn" || pass
    else
        echo "note: no results/*.json to filter; bench_report check not run"
    fi
fi

echo "test_scripts: $passes checks passed, $fails failed"
[ "$passes" -gt 0 ] && [ "$fails" -eq 0 ]
