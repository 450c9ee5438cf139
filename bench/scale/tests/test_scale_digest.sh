#!/usr/bin/env bash
# The digest of a run is a function of (seed, population, distributions,
# suite, message range) only: not of the thread count, the sharding or, for
# suite 1, the backend (byte-identical envelopes on libsodium and OpenSSL).
# scripts/merge-results turns shard reports into the report of one run: same
# digest, same counts; merging one report reproduces its derived figures.
# Each shard must match its own digest; the driver fails when a delivery
# was not decrypted; a run killed (-9 or SIGTERM) resumes from its
# checkpoint to the same digest. The population is built once and then reused.
set -euo pipefail
bin=${1:?usage: test_scale_digest.sh IMCORE-SCALE REPO-ROOT [IMCORE-SCALE-FAULT]}
root=${2:?usage: test_scale_digest.sh IMCORE-SCALE REPO-ROOT [IMCORE-SCALE-FAULT]}
fault=${3:-} # the build that skips one decrypt (bench/scale/CMakeLists.txt)
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

# Each shard is checked against its own digest: an edited lane, a lowered
# delivery count, or fewer decrypts than deliveries are refused.
edit() { python3 - "$@" <<'PY'
import json, sys
src, dst, path, value = sys.argv[1:5]
d = json.load(open(src))
keys = path.split(".")
o = d
for k in keys[:-1]:
    o = o[int(k)] if isinstance(o, list) else o[k]
last = keys[-1]
if isinstance(o, list):
    o[int(last)] = value
else:
    o[last] = type(o[last])(value)
json.dump(d, open(dst, "w"))
PY
}
lane=$(field "$tmp/s1.json" digest.lanes | python3 -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read())[0])')
flipped=$(python3 -c "import sys; v=int('$lane',16)^1; print(f'{v:016x}')")
edit "$tmp/s1.json" "$tmp/bad-lane.json" digest.lanes.0 "$flipped"
dl=$(field "$tmp/s1.json" totals.deliveries)
edit "$tmp/s1.json" "$tmp/bad-count.json" totals.deliveries $((dl - 1))
edit "$tmp/s1.json" "$tmp/bad-decrypt.json" totals.decrypted $((dl - 1))
for b in bad-lane bad-count bad-decrypt; do
    if "$merge" "$tmp/s0.json" "$tmp/$b.json" "$tmp/s2.json" >/dev/null 2>"$tmp/err"; then
        fail "merge-results accepted a shard with $b"
    fi
    grep -q "$b.json" "$tmp/err" || fail "$b: the error does not name the shard: $(cat "$tmp/err")"
done

# The driver counts decrypts: a build that skips one delivery fails.
if [ -n "${fault:-}" ]; then
    if "$fault" --messages 240 --population 300 --seed "$seed" --pop-dir "$tmp/pop" --progress none \
        --out "$tmp/fault.json" 2>"$tmp/err"; then
        fail "a run that skipped a decrypt exited 0"
    fi
    grep -q "decrypted and checked .* of .* deliveries" "$tmp/err" || fail "fault: $(cat "$tmp/err")"
    [ ! -e "$tmp/fault.json" ] || fail "a run that skipped a decrypt wrote a report"
fi

# Checkpoints: kill -9 a run after its first checkpoint, run the same command
# again: it resumes and gives the digest of an uninterrupted run. SIGTERM
# saves a checkpoint and exits 1. A checkpoint of other options is refused.
bigargs=(--messages 3000 --population 300 --seed "$seed" --pop-dir "$tmp/pop" --threads 2)
big() { "$bin" "${bigargs[@]}" "$@"; }
wait_for() { # FILE PID: until FILE exists (or PID ended)
    for _ in $(seq 1 600); do
        [ -e "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
big --progress none --out "$tmp/big.json"
bigwant=$(field "$tmp/big.json" digest.value)
"$bin" "${bigargs[@]}" --progress none --out "$tmp/k.json" --checkpoint "$tmp/k.ck" --checkpoint-interval 0.2 &
pid=$!
wait_for "$tmp/k.ck" "$pid" || fail "no checkpoint appeared"
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ ! -e "$tmp/k.json" ] || fail "the killed run finished before the kill (make it longer)"
if "$bin" --messages 3000 --population 300 --seed 9 --pop-dir "$tmp/pop" --progress none \
    --out "$tmp/k.json" --checkpoint "$tmp/k.ck" 2>"$tmp/err"; then
    fail "a checkpoint of another seed was used"
fi
grep -q "other options" "$tmp/err" || fail "foreign checkpoint: $(cat "$tmp/err")"
big --progress lines --out "$tmp/k.json" --checkpoint "$tmp/k.ck" 2>"$tmp/err" || fail "resume failed"
grep -q "resuming from checkpoint" "$tmp/err" || fail "the second run did not resume"
[ "$(field "$tmp/k.json" digest.value)" = "$bigwant" ] || fail "killed and resumed: another digest"
[ "$(field "$tmp/k.json" time.resumes)" = 1 ] || fail "resumes is not 1"
[ ! -e "$tmp/k.ck" ] || fail "the checkpoint was left after the report"

"$bin" "${bigargs[@]}" --progress none --out "$tmp/t.json" --checkpoint "$tmp/t.ck" --checkpoint-interval 0.2 2>"$tmp/err" &
pid=$!
wait_for "$tmp/t.ck" "$pid" || fail "no checkpoint appeared (SIGTERM run)"
kill -TERM "$pid" 2>/dev/null
rc=0
wait "$pid" || rc=$?
if [ -e "$tmp/t.json" ]; then
    fail "the SIGTERM run finished before the signal (make it longer)"
else
    [ "$rc" = 1 ] || fail "SIGTERM: exit $rc, not 1"
    grep -q "stopped by signal 15" "$tmp/err" || fail "SIGTERM: $(cat "$tmp/err")"
    big --progress none --out "$tmp/t.json" --checkpoint "$tmp/t.ck" || fail "resume after SIGTERM failed"
    [ "$(field "$tmp/t.json" digest.value)" = "$bigwant" ] || fail "SIGTERM and resumed: another digest"
fi

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
