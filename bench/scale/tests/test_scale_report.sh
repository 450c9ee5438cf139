#!/usr/bin/env bash
# scripts/scale-curve --report-only over reports the real imcore-scale wrote:
# every section renders, each section names the commit its runs came from,
# and an empty results directory is a one-line error, not a traceback.
set -euo pipefail
bin=${1:?usage: test_scale_report.sh IMCORE-SCALE REPO-ROOT}
root=${2:?usage: test_scale_report.sh IMCORE-SCALE REPO-ROOT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
run() { "$bin" --population 200 --seed 3 --pop-dir "$tmp/pop" --progress none "$@" >/dev/null; }

res="$tmp/scale"
mkdir -p "$res/curve/sodium-suite1" "$res/projection" "$res/scaling"
run --messages 100 --out "$res/curve/sodium-suite1/n1e2.json"
run --messages 1000 --out "$res/curve/sodium-suite1/n1e3.json"
run --messages 100 --threads 1 --out "$res/scaling/sodium-suite1-t1.json"
run --messages 100 --threads 2 --out "$res/scaling/sodium-suite1-t2.json"
run --messages 100 --out "$res/projection/sodium-suite1.json"
# A projection run from another commit: the report must say so, not quote
# the curve's commit for it.
python3 - "$res/projection/sodium-suite1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["context"]["git_commit"] = "0000000-other"
json.dump(d, open(sys.argv[1], "w"))
PY

if ! out=$(python3 "$root/scripts/scale-curve" --report-only --results "$res" 2>&1); then
    fail "--report-only failed: $out"
fi
readme="$res/README.md"
if [ -f "$readme" ]; then
    grep -q '^- \*\*Projection runs:\*\* 1, .*`0000000-other`$' "$readme" ||
        fail "the projection's own commit is not named"
    grep -q '^- \*\*Curve runs:\*\* 2, ' "$readme" || fail "no curve provenance line"
    grep -q '^- \*\*Curve runs:\*\* .*0000000-other' "$readme" &&
        fail "the curve is credited with the projection's commit"
    grep -q '^| 1,000 | ' "$readme" || fail "no 1,000-message curve row"
    grep -q '^| sodium | 1 | 2 | ' "$readme" || fail "no 2-thread scaling row"
    grep -q '^| sodium | 1 X25519' "$readme" || fail "no projection row"
    [ -s "$res/SUMMARY.md" ] || fail "no SUMMARY.md"
else
    fail "no README.md written"
fi

# Nothing to report: one line on stderr, exit 1, no traceback.
mkdir -p "$tmp/empty"
rc=0
err=$(python3 "$root/scripts/scale-curve" --report-only --results "$tmp/empty" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "empty results: exit $rc, not 1"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "empty results: not one line: $err"
case "$err" in *Traceback*) fail "empty results: a traceback" ;; esac

[ "$fails" -eq 0 ] || exit 1
echo "test_scale_report: ok"
