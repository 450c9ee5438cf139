#!/usr/bin/env bash
# End-to-end test of `imcore dir`: init, register (handles normalised),
# rotate, revoke, lookup (text, JSON, the signed answer written to a file),
# export with its consistency check, and the failure paths (exit codes,
# one-line errors, nothing changed by a refused update).
# Usage: test_cli_dir.sh PATH/TO/imcore
set -u

TEST_NAME=test_cli_dir
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
has() { if grep -qF -- "$3" "$2"; then pass; else fail "$1: $2 lacks '$3'"; fi; }

DIR="$IMCORE dir"
NOW=--now=1700000000000

# ---- help and usage ------------------------------------------------------------
run "dir --help" 0 $DIR --help && has "dir --help" out "register"
run "dir alone" 2 $DIR
run "dir unknown" 2 $DIR frobnicate && one_line_error "dir unknown" "imcore dir: "
for c in init register rotate revoke lookup export; do
    run "dir $c --help" 0 $DIR $c --help && has "dir $c --help" out "Usage: imcore dir $c"
done
run "register without --db" 2 $DIR register --handle a@b.cd --key x.sec &&
    one_line_error "missing --db" "imcore dir register: "

# ---- init --------------------------------------------------------------------------
run "init" 0 $DIR init --db d.lmdb
[ -s d.lmdb ] && [ "$(stat -c %s d.lmdb.key)" = 32 ] && [ "$(stat -c %s d.lmdb.pub)" = 32 ] &&
    pass || fail "init: files"
[ "$(stat -c %a d.lmdb.key)" = 600 ] && pass || fail "init: key mode $(stat -c %a d.lmdb.key)"
cp d.lmdb.key key.orig
run "init twice" 1 $DIR init --db d.lmdb && one_line_error "init twice" "imcore dir init: "
cmp -s d.lmdb.key key.orig && pass || fail "init twice changed the key"
run "lookup on a missing db" 1 $DIR lookup --db none.lmdb --handle a@b.cd &&
    one_line_error "missing db" "imcore dir lookup: "
[ -e none.lmdb ] && fail "lookup created a db" || pass

# ---- devices ------------------------------------------------------------------------
for k in 1 2 3; do "$IMCORE" keygen --device-id $k --out a$k >/dev/null || fail "keygen $k"; done
"$IMCORE" keygen --device-id 2 --out a2new >/dev/null || fail "keygen a2new"
"$IMCORE" keygen --device-id 7 --out b7 >/dev/null || fail "keygen b7"

run "register (normalised e-mail)" 0 $DIR register --db d.lmdb --handle Alice@Example.COM --key a1.sec $NOW &&
    has "register" out "alice@example.com epoch 1 (global 1): 1 device"
run "register second device" 0 $DIR register --db d.lmdb --handle alice@example.com --key a2.sec --json --out reg.bin $NOW &&
    python3 -c 'import json,sys; e=json.loads(open("out").read()); assert e["epoch"]=="2" and len(e["devices"])==2' &&
    pass || fail "register --json"
[ -s reg.bin ] && [ "$(head -c 2 reg.bin | od -An -tx1 | tr -d ' ')" = 0141 ] && pass || fail "register --out: not a response"
run "register phone" 0 $DIR register --db d.lmdb --handle "+1 (415) 555-0100" --key b7.sec $NOW &&
    has "register phone" out "+14155550100 epoch 1"
"$IMCORE" dir export --db d.lmdb --json >before.json 2>/dev/null
run "duplicate device id" 1 $DIR register --db d.lmdb --handle bob@example.com --key a1.sec $NOW &&
    one_line_error "duplicate id" "imcore dir register: " && has "duplicate id" err "never reused"
run "bad handle" 2 $DIR register --db d.lmdb --handle "415 555 0100" --key a3.sec &&
    one_line_error "bad handle" "imcore dir register: "
run "oversize handle" 2 $DIR register --db d.lmdb --handle "$(printf 'a%.0s' $(seq 1 300))@x.org" --key a3.sec &&
    has "oversize handle" err "longer than 255"
run "revoke by another account" 1 $DIR revoke --db d.lmdb --handle alice@example.com --device-id 1 --key b7.sec $NOW &&
    one_line_error "foreign revoke" "imcore dir revoke: "
run "rotate to another id" 1 $DIR rotate --db d.lmdb --handle alice@example.com --key a1.sec --new-key a2new.sec &&
    one_line_error "rotate other id" "imcore dir rotate: "
"$IMCORE" dir export --db d.lmdb --json >after.json 2>/dev/null
cmp -s before.json after.json && pass || fail "a refused update changed the directory"

run "rotate" 0 $DIR rotate --db d.lmdb --handle alice@example.com --key a2.sec --new-key a2new.sec $NOW &&
    has "rotate" out "epoch 3 (global 4)"
run "rotate with the old key again" 1 $DIR rotate --db d.lmdb --handle alice@example.com --key a2.sec --new-key a2new.sec &&
    one_line_error "stale rotate" "imcore dir rotate: "
run "revoke 1 from 2" 0 $DIR revoke --db d.lmdb --handle alice@example.com --device-id 1 --key a2new.sec $NOW &&
    has "revoke" out "epoch 4 (global 5): 1 device"
run "revoked device signs" 1 $DIR revoke --db d.lmdb --handle alice@example.com --device-id 2 --key a1.sec &&
    one_line_error "revoked signer" "imcore dir revoke: "
run "revoke id 0" 2 $DIR revoke --db d.lmdb --handle alice@example.com --device-id 0 --key a2new.sec

# ---- lookup and export -----------------------------------------------------------------
run "lookup batch" 0 $DIR lookup --db d.lmdb --handle alice@example.com --handle +14155550100 \
    --handle nobody@example.org --json --out look.bin $NOW
python3 - <<'PY' && pass || fail "lookup --json"
import json
lines = [json.loads(l) for l in open("out")]
assert [l["handle"] for l in lines] == ["alice@example.com", "+14155550100", "nobody@example.org"]
# docs/cli.md, "JSON": 64-bit ids and epochs are strings, a suite is its name and id.
assert [l["epoch"] for l in lines] == ["4", "1", "0"]
assert all(l["global_epoch"] == "5" for l in lines)
assert [d["device_id"] for d in lines[0]["devices"]] == ["2"]
d = lines[0]["devices"][0]
assert d["suite"] == "X25519_ED25519_CHACHA20POLY1305" and d["suite_id"] == 1, d
assert lines[2]["devices"] == []
PY
[ "$(head -c 4 look.bin | od -An -tx1 | tr -d ' ')" = 01410003 ] && pass || fail "lookup --out header"
run "lookup twice the same" 2 $DIR lookup --db d.lmdb --handle a@b.cd --handle A@B.CD
run "export" 0 $DIR export --db d.lmdb && has "export" err "2 handles, 2 active devices, global epoch 5" &&
    has "export" err "consistent"
run "wrong key file" 1 sh -c "cp d.lmdb x.lmdb && head -c 32 /dev/urandom >x.lmdb.key && '$IMCORE' dir export --db x.lmdb" &&
    one_line_error "wrong key" "imcore dir export: " && has "wrong key" err "not this directory's key"

# The largest device id survives a JSON reader that keeps numbers as doubles.
"$IMCORE" keygen --device-id 18446744073709551615 --out big >/dev/null || fail "keygen 2^64-1"
run "register 2^64-1" 0 $DIR register --db d.lmdb --handle big@example.com --key big.sec --json $NOW
python3 -c 'import json; e = json.loads(open("out").read(), parse_int=float)
assert e["devices"][0]["device_id"] == "18446744073709551615", e' && pass || fail "2^64-1 as JSON"
run "export --json" 0 $DIR export --db d.lmdb --json
grep -q '"device_id": "18446744073709551615"' out && pass || fail "export --json: id not a string"
run "lookup --out over an existing file" 1 $DIR lookup --db d.lmdb --handle big@example.com --out look.bin $NOW &&
    has "lookup existing" err "--force"
run "lookup --out --force" 0 $DIR lookup --db d.lmdb --handle big@example.com --out look.bin --force $NOW
cp d.lmdb before-out.lmdb
run "register --out over an existing file changes nothing" 1 $DIR register --db d.lmdb --handle late@example.com --key a3.sec --out look.bin $NOW
cmp -s d.lmdb before-out.lmdb && pass || fail "a refused --out still applied the update"
run "register --out = --db" 2 $DIR register --db d.lmdb --handle late@example.com --key a3.sec --out d.lmdb --force $NOW

# Concurrent updates of one handle: a lost race is retried (the epoch read
# again, the update signed again), so every one succeeds.
for k in 11 12 13 14 15 16; do "$IMCORE" keygen --device-id $k --out r$k >/dev/null || fail "keygen r$k"; done
pids=()
for k in 11 12 13 14 15 16; do
    $DIR register --db d.lmdb --handle race@example.com --key r$k.sec $NOW >/dev/null 2>race$k.err &
    pids+=($!)
done
for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then pass; else fail "concurrent register $i: $(cat race$((i + 11)).err)"; fi
done
run "after the race" 0 $DIR lookup --db d.lmdb --handle race@example.com $NOW &&
    has "race" out "race@example.com epoch 6"

# ---- damaged and foreign directory files -------------------------------------------
# Checked before LMDB maps them: a clear one-line error, never a signal, never
# a new empty history in their place, and the file left as it was.
"$IMCORE" dir export --db d.lmdb --json >good.json 2>/dev/null
for size in 0 100 4096 8192 16384 20000 $(($(stat -c %s d.lmdb) - 1)); do
    cp d.lmdb cut.lmdb && cp d.lmdb.key cut.lmdb.key && rm -f cut.lmdb-lock && truncate -s "$size" cut.lmdb
    for c in "lookup --handle alice@example.com $NOW" "export"; do
        run "$c on a file cut to $size bytes" 1 $DIR $c --db cut.lmdb &&
            one_line_error "$c cut $size" "imcore dir ${c%% *}: "
    done
    has "cut $size" err "$([ "$size" = 0 ] && echo "is an empty file" || echo "is not a directory")"
    run "register on a file cut to $size bytes" 1 $DIR register --db cut.lmdb --handle new@example.com --key a3.sec $NOW &&
        one_line_error "register cut $size" "imcore dir register: "
    [ "$(stat -c %s cut.lmdb)" = "$size" ] && pass || fail "cut $size: the file changed"
done
head -c 24576 /dev/urandom >cut.lmdb
run "a file of random bytes" 1 $DIR export --db cut.lmdb && has "random file" err "is not a directory"

# A read-only directory file: lookup and export work, an update says why not.
mkdir ro && cp d.lmdb d.lmdb.key a3.sec ro/ && chmod 444 ro/d.lmdb
AS=()
if [ "$(id -u)" = 0 ]; then
    # root ignores file modes: run as nobody, in a directory it may write
    # (LMDB's lock file) but with the database file read-only.
    chmod 755 "$T" && chown -R 65534:65534 ro && AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
run "lookup on a read-only file" 0 "${AS[@]}" $DIR lookup --db ro/d.lmdb --handle alice@example.com $NOW &&
    has "read-only lookup" out "alice@example.com epoch 4"
run "export a read-only file" 0 "${AS[@]}" $DIR export --db ro/d.lmdb
run "register on a read-only file" 1 "${AS[@]}" $DIR register --db ro/d.lmdb --handle new@example.com --key ro/a3.sec $NOW &&
    one_line_error "read-only register" "imcore dir register: " && has "read-only register" err "Permission denied"

finish
