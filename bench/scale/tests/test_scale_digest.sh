#!/usr/bin/env bash
# The digest of a run is a function of (seed, population, distributions,
# suite, message range) only: not of the thread count, the sharding or, for
# suite 1, the backend (byte-identical envelopes on libsodium and OpenSSL).
# scripts/merge-results turns shard reports into the report of one run: same
# digest, same counts; merging one report reproduces its derived figures.
# The population is built once and then reused.
set -euo pipefail
bin=${1:?usage: test_scale_digest.sh IMCORE-SCALE REPO-ROOT}
root=${2:?usage: test_scale_digest.sh IMCORE-SCALE REPO-ROOT}
merge="$root/scripts/merge-results"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
field() { python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = d[k]
print(d)' "$1" "$2"; }

seed=5
run() { "$bin" --messages 240 --population 300 --seed "$seed" --pop-dir "$tmp/pop" --progress none "$@"; }
have_openssl=0
"$bin" --backend openssl --dry-run >/dev/null 2>&1 && have_openssl=1

run --threads 2 --out "$tmp/full.json"
want=$(field "$tmp/full.json" digest.value)
[ "$(field "$tmp/full.json" population.built)" = True ] || fail "the first run did not build the population"
[ "$(field "$tmp/full.json" totals.messages)" = 240 ] || fail "not 240 messages"

run --threads 1 --out "$tmp/t1.json"
[ "$(field "$tmp/t1.json" digest.value)" = "$want" ] || fail "1 thread: another digest"
[ "$(field "$tmp/t1.json" population.built)" = False ] || fail "the population was not reused"

shard_backend=sodium
[ "$have_openssl" -eq 1 ] && shard_backend=openssl
run --threads 2 --shard 0/3 --out "$tmp/s0.json"
run --threads 1 --shard 1/3 --backend "$shard_backend" --out "$tmp/s1.json"
run --threads 3 --shard 2/3 --out "$tmp/s2.json"
"$merge" --out "$tmp/merged.json" "$tmp/s2.json" "$tmp/s0.json" "$tmp/s1.json" 2>/dev/null ||
    fail "merge-results failed"
[ "$(field "$tmp/merged.json" digest.value)" = "$want" ] || fail "3 shards merged: another digest"
[ "$(field "$tmp/merged.json" totals.deliveries)" = "$(field "$tmp/full.json" totals.deliveries)" ] ||
    fail "3 shards merged: another delivery count"
"$merge" --expect-digest "$want" "$tmp/s0.json" "$tmp/s1.json" "$tmp/s2.json" >/dev/null 2>&1 ||
    fail "--expect-digest refused the right digest"
if "$merge" --expect-digest "00$want" "$tmp/s0.json" "$tmp/s1.json" "$tmp/s2.json" >/dev/null 2>&1; then
    fail "--expect-digest accepted a wrong digest"
fi

if [ "$have_openssl" -eq 1 ]; then
    run --threads 2 --backend openssl --out "$tmp/ossl.json"
    [ "$(field "$tmp/ossl.json" digest.value)" = "$want" ] ||
        fail "suite 1 on OpenSSL: another digest than on libsodium"
else
    echo "note: no OpenSSL backend in this build; backend comparison not run"
fi

# Incomplete, overlapping or foreign shards are refused.
if "$merge" "$tmp/s0.json" "$tmp/s2.json" >/dev/null 2>&1; then fail "a missing shard was accepted"; fi
if "$merge" "$tmp/s0.json" "$tmp/s0.json" "$tmp/s1.json" "$tmp/s2.json" >/dev/null 2>&1; then
    fail "an overlapping shard was accepted"
fi
seed=6 run --shard 1/3 --out "$tmp/other.json"
if "$merge" "$tmp/s0.json" "$tmp/other.json" "$tmp/s2.json" >/dev/null 2>&1; then
    fail "a shard of another seed was accepted"
fi
[ "$(field "$tmp/other.json" digest.value)" != "$(field "$tmp/s1.json" digest.value)" ] ||
    fail "another seed gave the same digest"

# Merging one report gives back its own derived figures.
"$merge" --out "$tmp/one.json" "$tmp/full.json" 2>/dev/null || fail "merging one report failed"
python3 - "$tmp/full.json" "$tmp/one.json" <<'PY' || fail "merge-results recomputes figures differently"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
bad = []
def cmp(x, y, at):
    if isinstance(x, dict):
        for k in x:
            if k in y:
                cmp(x[k], y[k], f"{at}.{k}")
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        if abs(x - y) > 1e-5 * max(abs(x), abs(y), 1e-9):
            bad.append(f"{at}: {x} vs {y}")
for k in ("latency_us", "throughput", "projection", "totals", "digest"):
    cmp(a[k], b[k], k)
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY

if [ "$fails" -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "test_scale_digest: digest $want from 1 and 2 threads, 3 shards (one on $shard_backend), both backends"
