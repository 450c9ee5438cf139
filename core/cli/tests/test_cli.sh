#!/usr/bin/env bash
# End-to-end test of the imcore command-line tool:
#   keygen (a sender and three recipient devices) -> encrypt -> fanout ->
#   decrypt on every device, inspect as JSON, and the failure paths (exit
#   codes, one-line errors, no output on failure).
# Usage: test_cli.sh PATH/TO/imcore
set -u

TEST_NAME=test_cli
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

err_has() {
    local name=$1 text=$2
    if grep -qF -- "$text" err; then pass; else fail "$name: stderr lacks '$text'"; fi
}

absent() {
    local name=$1 file=$2
    if [ -e "$file" ]; then fail "$name: '$file' exists"; else pass; fi
}

# Flips one bit of the byte at offset OFF of FILE into OUT.
flip() {
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
src, off, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
b = bytearray(open(src, 'rb').read())
b[off % len(b)] ^= 0x01
open(dst, 'wb').write(bytes(b))
EOF
}

# ---- global ------------------------------------------------------------------

run "--version" 0 "$IMCORE" --version && grep -q '^backend sodium' out || fail "--version lists sodium"
HAVE_OPENSSL=0
grep -q '^backend openssl .*suites' out && HAVE_OPENSSL=1
run "--help" 0 "$IMCORE" --help && grep -q 'encrypt' out || fail "--help lists commands"
run "no arguments" 2 "$IMCORE"
run "unknown command" 2 "$IMCORE" frobnicate && one_line_error "unknown command" "imcore: "
run "help CMD" 0 "$IMCORE" help decrypt && grep -q '^Usage: imcore decrypt' out || fail "help CMD"

# --help for every command, found in `imcore --help` (so commands added later,
# and the subcommands of groups such as `dir`, are covered too).
commands_of() { sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p'; }
check_help() {
    run "$* --help" 0 "$IMCORE" "$@" --help || return
    grep -q "^Usage: imcore $*" out || fail "$* --help: no usage line"
    local subs
    subs=$(commands_of <out)
    run "$* -h" 0 "$IMCORE" "$@" -h
    for s in $subs; do check_help "$@" "$s"; done
}
"$IMCORE" --help >help.txt 2>&1
for c in keygen encrypt fanout decrypt inspect; do
    grep -q "^  $c " help.txt && pass || fail "--help does not list $c"
done
for c in $(commands_of <help.txt); do check_help "$c"; done

# ---- keys --------------------------------------------------------------------

run "keygen alice" 0 "$IMCORE" keygen --device-id 1 --out alice
run "keygen bob phone" 0 "$IMCORE" keygen --device-id 1001 --out bob-phone
run "keygen bob laptop" 0 "$IMCORE" keygen --device-id 1002 --out bob-laptop --suite 1
run "keygen carol" 0 "$IMCORE" keygen --device-id 2001 --out carol --suite X25519_ED25519_CHACHA20POLY1305
for k in alice bob-phone bob-laptop carol; do
    [ -s "$k.sec" ] && [ -s "$k.pub" ] && pass || fail "keygen $k: files missing"
    [ "$(stat -c %a "$k.sec")" = 600 ] && pass || fail "keygen $k: .sec mode $(stat -c %a "$k.sec")"
done
cp alice.sec alice.sec.orig
run "keygen refuses to overwrite" 1 "$IMCORE" keygen --device-id 9 --out alice &&
    one_line_error "keygen overwrite" "imcore keygen: " && err_has "keygen overwrite" "already exists"
cmp -s alice.sec alice.sec.orig && pass || fail "keygen overwrote alice.sec"
run "keygen --force" 0 "$IMCORE" keygen --device-id 9 --out scratch
run "keygen --force again" 0 "$IMCORE" keygen --device-id 9 --out scratch --force
run "keygen missing --device-id" 2 "$IMCORE" keygen --out x &&
    one_line_error "keygen missing option" "imcore keygen: " && err_has "keygen missing option" "--device-id"
run "keygen bad device id" 2 "$IMCORE" keygen --device-id 12x --out x && err_has "bad id" "--device-id"
run "keygen unknown suite" 2 "$IMCORE" keygen --device-id 1 --out x --suite 99 &&
    one_line_error "unknown suite" "imcore keygen: " && err_has "unknown suite" "unknown suite '99'"
run "keygen unknown backend" 2 "$IMCORE" keygen --device-id 1 --out x --backend nope &&
    one_line_error "unknown backend" "imcore keygen: " && err_has "unknown backend" "unknown backend 'nope'"
absent "failed keygen leaves nothing" x.sec
run "inspect public key" 0 "$IMCORE" inspect --in bob-phone.pub &&
    python3 -m json.tool out >/dev/null && grep -q '"device_id": "1001"' out && pass ||
    fail "inspect public key JSON"

# ---- encrypt, fan out, decrypt -----------------------------------------------

printf 'Hello Bob and Carol.\nThis is one envelope for three devices.\n' >msg.txt
FROM=alice@example.com
# Now, to the second: decrypt refuses timestamps older than the maximum age.
TS=$(($(date +%s) * 1000))
run "encrypt" 0 "$IMCORE" encrypt --from "$FROM" --key alice.sec --to bob-phone.pub \
    --to bob-laptop.pub --to carol.pub --in msg.txt --out env.bin --timestamp "$TS"
[ -s env.bin ] && pass || fail "encrypt: no envelope"
run "encrypt stdin to stdout" 0 sh -c "'$IMCORE' encrypt --from '$FROM' --key alice.sec --to carol.pub <msg.txt >env2.bin"
[ -s env2.bin ] && pass || fail "encrypt via pipes: no envelope"

# fanout OUT-DIR ENVELOPE LINK: fan out, and link LINK to the message's directory.
fanout_to() {
    run "fanout $2" 0 "$IMCORE" fanout --in "$2" --out-dir "$1" || return
    local d
    d=$(sed -n '1s/^[0-9]* [0-9]* \(.*\)\/[0-9]*\.dlv$/\1/p' out)
    [ -d "$d" ] && ln -sfn "$d" "$3" && pass || fail "fanout $2: no message directory"
}
fanout_to outbox env.bin dlv
[ "$(wc -l <out)" -eq 3 ] && pass || fail "fanout: wanted 3 lines, got $(wc -l <out)"
msgid=$(python3 -c 'import json,subprocess,sys; print(json.loads(subprocess.run([sys.argv[1], "inspect", "--in", "env.bin"], capture_output=True).stdout)["message_id"])' "$IMCORE")
[ "$(readlink dlv)" = "outbox/$msgid" ] && pass || fail "fanout: directory is not named by the message id $msgid"
for id in 1001 1002 2001; do
    grep -q "^$id [0-9][0-9]* outbox/$msgid/$id.dlv\$" out && pass || fail "fanout: no line for $id"
    [ -s "dlv/$id.dlv" ] && pass || fail "fanout: dlv/$id.dlv missing"
done
[ "$(ls -A outbox)" = "$msgid" ] && pass || fail "fanout left temporary files: $(ls -A outbox)"
# A second envelope for overlapping devices gets its own directory; the
# first message's deliveries stay as they were.
cp -r outbox/"$msgid" first-copy
run "encrypt second" 0 "$IMCORE" encrypt --from "$FROM" --key alice.sec --to bob-phone.pub \
    --in msg.txt --out env3.bin --timestamp 1700000000001
run "fanout second" 0 "$IMCORE" fanout --in env3.bin --out-dir outbox
[ "$(ls outbox | wc -l)" = 2 ] && pass || fail "fanout second: not two message directories"
diff -r first-copy outbox/"$msgid" >/dev/null && pass || fail "fanout second: first message changed"
run "fanout again" 1 "$IMCORE" fanout --in env.bin --out-dir outbox &&
    one_line_error "fanout again" "imcore fanout: " && err_has "fanout again" "already exists"
run "fanout again --force" 0 "$IMCORE" fanout --in env.bin --out-dir outbox --force
diff -r first-copy outbox/"$msgid" >/dev/null && pass || fail "fanout --force: other contents"
[ "$(ls -A outbox | wc -l)" = 2 ] && pass || fail "fanout --force left files: $(ls -A outbox)"
# A write that fails halfway leaves nothing (file size limit: writes fail with EFBIG).
head -c 65536 /dev/zero >max0.txt
"$IMCORE" encrypt --from "$FROM" --key alice.sec --to carol.pub --to bob-phone.pub --in max0.txt \
    --out max0.bin >/dev/null 2>&1 || fail "encrypt max0"
run "fanout failing" 1 sh -c "trap '' XFSZ; ulimit -f 1; exec '$IMCORE' fanout --in max0.bin --out-dir failbox"
[ -z "$(ls -A failbox 2>/dev/null)" ] && pass || fail "a failed fanout left: $(ls -A failbox)"

decrypt_ok() { # KEY DEVICE-ID [BACKEND]
    run "decrypt $1 ${3:-sodium}" 0 "$IMCORE" decrypt --key "$1.sec" --from "$FROM" \
        --sender alice.pub --in "dlv/$2.dlv" --out "plain-$1" --backend "${3:-sodium}" || return
    cmp -s msg.txt "plain-$1" && pass || fail "decrypt $1: plaintext differs"
    grep -q "alice@example.com" err && grep -q "device 1" err && pass ||
        fail "decrypt $1: sender not reported"
    rm -f "plain-$1"
}
decrypt_ok bob-phone 1001
decrypt_ok bob-laptop 1002
decrypt_ok carol 2001
if [ "$HAVE_OPENSSL" = 1 ]; then
    decrypt_ok bob-phone 1001 openssl # encrypted with libsodium, decrypted with OpenSSL
fi

run "decrypt to stdout --json" 0 "$IMCORE" decrypt --key carol.sec --from "$FROM" \
    --sender alice.pub --in dlv/2001.dlv --json
cmp -s msg.txt out && pass || fail "decrypt to stdout: plaintext differs"
python3 - err "$TS" <<'EOF' && pass || fail "decrypt --json: bad sender info"
import datetime, json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 2 and "cannot be detected" in lines[0], lines  # no --state
info = json.loads(lines[1])
ts = int(sys.argv[2])
utc = datetime.datetime.fromtimestamp(ts // 1000, datetime.timezone.utc)
assert info["sender_handle"] == "alice@example.com", info
assert info["sender_device"] == "1", info
assert info["timestamp_ms"] == ts, info
assert info["timestamp"] == utc.strftime("%Y-%m-%dT%H:%M:%S.000Z"), info
assert len(info["message_id"]) == 32, info
EOF
run "decrypt from stdin" 0 sh -c "'$IMCORE' decrypt --key carol.sec --from '$FROM' --sender alice.pub <dlv/2001.dlv"
cmp -s msg.txt out && pass || fail "decrypt from stdin: plaintext differs"

# ---- replay state and the clock ------------------------------------------------

# With --state, a delivery is accepted once, across runs; without it, each
# run says that it cannot tell.
state_decrypt() { # NAME WANT_RC DELIVERY [STATE-DIR]
    run "$1" "$2" "$IMCORE" decrypt --key carol.sec --from "$FROM" --sender alice.pub \
        --in "$3" --out plain-state ${4:+--state "$4"}
}
state_decrypt "decrypt --state, first" 0 dlv/2001.dlv st && cmp -s msg.txt plain-state && pass ||
    fail "decrypt --state: plaintext differs"
grep -qF "cannot be detected" err && fail "decrypt --state: warned about replays" || pass
[ -f st/replay.mdb ] && pass || fail "decrypt --state: no st/replay.mdb"
rm -f plain-state
state_decrypt "decrypt --state, replayed" 1 dlv/2001.dlv st &&
    one_line_error "replayed delivery" "imcore decrypt: " && err_has "replayed delivery" "replayed"
absent "replayed delivery: no output" plain-state
state_decrypt "decrypt without --state" 0 dlv/2001.dlv && err_has "no --state" "cannot be detected"
rm -f plain-state
# The clock rule holds with and without a state: 20 minutes ahead is refused,
# and so is a message older than the maximum age (31 days).
for when in future:$((TS + 20 * 60 * 1000)) old:$((TS - 31 * 86400 * 1000)); do
    name=${when%%:*}
    run "encrypt $name" 0 "$IMCORE" encrypt --from "$FROM" --key alice.sec --to carol.pub \
        --in msg.txt --out "env-$name.bin" --timestamp "${when#*:}"
    fanout_to "outbox-$name" "env-$name.bin" "dlv-$name"
    want=$([ "$name" = future ] && echo "stale" || echo "older than the maximum age")
    for st in "" st; do
        state_decrypt "decrypt $name ${st:-without state}" 1 "dlv-$name/2001.dlv" "$st" &&
            one_line_error "decrypt $name" "imcore decrypt: " && err_has "decrypt $name" "$want"
        absent "decrypt $name: no output" plain-state
    done
done
# A state that is not one: refused with one line, nothing written.
mkdir -p st-bad && : >st-bad/replay.mdb
state_decrypt "decrypt, empty state file" 1 dlv/2001.dlv st-bad &&
    one_line_error "empty state file" "imcore decrypt: " && err_has "empty state file" "malformed"
head -c 100000 /dev/urandom >st-bad/replay.mdb
state_decrypt "decrypt, garbage state file" 1 dlv/2001.dlv st-bad &&
    one_line_error "garbage state file" "imcore decrypt: "
: >st-file
state_decrypt "decrypt, --state is a file" 1 dlv/2001.dlv st-file &&
    one_line_error "state is a file" "imcore decrypt: "
absent "bad states: no output" plain-state

# ---- inspect -----------------------------------------------------------------

run "inspect envelope" 0 "$IMCORE" inspect --in env.bin
python3 -m json.tool out >/dev/null && pass || fail "inspect envelope: invalid JSON"
python3 - out "$TS" <<'EOF' && pass || fail "inspect envelope: wrong fields"
import json, os, sys
e = json.load(open(sys.argv[1]))
assert e["kind"] == "envelope" and e["version"] == 2, e
assert e["suite"] == "X25519_ED25519_CHACHA20POLY1305" and e["suite_id"] == 1, e
assert e["sender_handle"] == "alice@example.com" and e["sender_device"] == "1", e
assert e["timestamp_ms"] == int(sys.argv[2]), e
assert [r["device_id"] for r in e["recipients"]] == ["1001", "1002", "2001"], e
assert e["recipient_ids"] == ["1001", "1002", "2001"], e
assert all(len(r["wrap"]) == 96 for r in e["recipients"]), e
assert len(e["eph_pk"]) == 64 and len(e["commitment"]) == 64 and len(e["signature"]) == 128, e
n = os.path.getsize("msg.txt")
assert e["body_plaintext_len"] == n and e["body_ciphertext_len"] == n + 16, e
EOF
run "inspect delivery from stdin" 0 sh -c "'$IMCORE' inspect <dlv/1002.dlv"
python3 - out <<'EOF' && pass || fail "inspect delivery: wrong fields"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "delivery", d
assert [r["device_id"] for r in d["recipients"]] == ["1002"], d
assert d["recipient_ids"] == ["1001", "1002", "2001"] and d["index"] == 1, d
EOF

# A handle that is not valid UTF-8 and has quotes and control characters still
# gives valid JSON.
run "encrypt odd handle" 0 "$IMCORE" encrypt --from "$(printf 'a"b\\\001\377')" --key alice.sec \
    --to carol.pub --in msg.txt --out odd.bin
run "inspect odd handle" 0 "$IMCORE" inspect --in odd.bin
python3 -m json.tool out >/dev/null && pass || fail "inspect odd handle: invalid JSON"

head -c 50 env.bin >trunc.bin
run "inspect truncated" 1 "$IMCORE" inspect --in trunc.bin &&
    one_line_error "inspect truncated" "imcore inspect: " && err_has "inspect truncated" "50 bytes"
cp env.bin trailing.bin && printf 'x' >>trailing.bin
run "inspect trailing byte" 1 "$IMCORE" inspect --in trailing.bin &&
    one_line_error "inspect trailing" "imcore inspect: " && err_has "inspect trailing" "malformed"
printf 'not an imcore message at all' >junk.bin
run "inspect junk" 1 "$IMCORE" inspect --in junk.bin && one_line_error "inspect junk" "imcore inspect: "
: >empty.bin
run "inspect empty" 1 "$IMCORE" inspect --in empty.bin && one_line_error "inspect empty" "imcore inspect: "
run "inspect missing file" 1 "$IMCORE" inspect --in nonexistent && one_line_error "inspect missing" "imcore inspect: "

# ---- failures: nothing is released -------------------------------------------

for off in 20 100 -10; do # header, body, signature
    flip dlv/1001.dlv "$off" bad.dlv
    run "decrypt flipped byte @$off" 1 "$IMCORE" decrypt --key bob-phone.sec --from "$FROM" \
        --sender alice.pub --in bad.dlv --out plain-bad &&
        one_line_error "flipped byte" "imcore decrypt: "
    absent "flipped byte @$off: no output" plain-bad
done
run "decrypt flipped byte to stdout" 1 "$IMCORE" decrypt --key bob-phone.sec --from "$FROM" \
    --sender alice.pub --in bad.dlv
[ ! -s out ] && pass || fail "flipped byte: plaintext on stdout"

echo "previous contents" >keep.txt
run "decrypt wrong key" 1 "$IMCORE" decrypt --key carol.sec --from "$FROM" --sender alice.pub \
    --in dlv/1001.dlv --out keep.txt --force && one_line_error "wrong key" "imcore decrypt: " &&
    err_has "wrong key" "authentication failed"
[ "$(cat keep.txt)" = "previous contents" ] && pass || fail "wrong key: existing output touched"

# ---- outputs: never an input, never an existing file without --force ----------

cp dlv/1001.dlv same.dlv
run "decrypt --out = --in" 2 "$IMCORE" decrypt --key bob-phone.sec --from "$FROM" --sender alice.pub \
    --in same.dlv --out same.dlv --force && one_line_error "out = in" "imcore decrypt: " &&
    err_has "out = in" "is an input"
cmp -s same.dlv dlv/1001.dlv && pass || fail "decrypt --out = --in: the delivery changed"
ln -s same.dlv alias.dlv
run "decrypt --out = --in by another name" 2 "$IMCORE" decrypt --key bob-phone.sec --from "$FROM" \
    --sender alice.pub --in same.dlv --out alias.dlv --force
run "decrypt --out = --key" 2 "$IMCORE" decrypt --key bob-phone.sec --from "$FROM" --sender alice.pub \
    --in same.dlv --out bob-phone.sec --force
run "encrypt --out = --to" 2 "$IMCORE" encrypt --from "$FROM" --key alice.sec --to carol.pub \
    --in msg.txt --out carol.pub --force
run "decrypt over an existing file" 1 "$IMCORE" decrypt --key bob-phone.sec --from "$FROM" \
    --sender alice.pub --in same.dlv --out keep.txt && err_has "existing" "--force"
[ "$(cat keep.txt)" = "previous contents" ] && pass || fail "decrypt replaced keep.txt without --force"
run "decrypt --force over an existing file" 0 "$IMCORE" decrypt --key bob-phone.sec --from "$FROM" \
    --sender alice.pub --in same.dlv --out keep.txt --force
cmp -s keep.txt msg.txt && pass || fail "decrypt --force: not the plaintext"
run "encrypt over an existing file" 1 "$IMCORE" encrypt --from "$FROM" --key alice.sec \
    --to carol.pub --in msg.txt --out keep.txt && err_has "encrypt existing" "already exists"
run "encrypt --force" 0 "$IMCORE" encrypt --from "$FROM" --key alice.sec --to carol.pub \
    --in msg.txt --out keep.txt --force

# ---- keys, backends, times, terminals ---------------------------------------------

run "keygen device id 0" 2 "$IMCORE" keygen --device-id 0 --out zero &&
    one_line_error "id 0" "imcore keygen: " && err_has "id 0" "reserved"
absent "keygen id 0: no key" zero.sec
cp carol.sec open.sec && chmod 644 open.sec
run "a secret key readable by others" 1 "$IMCORE" decrypt --key open.sec --from "$FROM" \
    --sender alice.pub --in dlv/2001.dlv && one_line_error "open .sec" "imcore decrypt: " &&
    err_has "open .sec" "chmod 600"
run "timestamp after 9999" 2 "$IMCORE" encrypt --from "$FROM" --key alice.sec --to carol.pub \
    --in msg.txt --out late.bin --timestamp 99999999999999999 && err_has "late" "9999"
absent "timestamp after 9999: no envelope" late.bin
for c in keygen encrypt decrypt; do
    "$IMCORE" $c --help | grep -q -- "--backend.*auto" && pass || fail "$c --help does not list auto"
done
run "inspect on a terminal" 2 script -qec "'$IMCORE' inspect" /dev/null </dev/null
grep -q "terminal" out && pass || fail "inspect on a terminal: $(cat out)"
run "decrypt wrong sender key" 1 "$IMCORE" decrypt --key bob-phone.sec --from "$FROM" \
    --sender carol.pub --in dlv/1001.dlv --out plain-x
absent "wrong sender key: no output" plain-x
run "decrypt wrong handle" 1 "$IMCORE" decrypt --key bob-phone.sec --from mallory@example.com \
    --sender alice.pub --in dlv/1001.dlv --out plain-x
absent "wrong handle: no output" plain-x
run "decrypt an envelope" 1 "$IMCORE" decrypt --key bob-phone.sec --from "$FROM" \
    --sender alice.pub --in env.bin --out plain-x && err_has "decrypt envelope" "fanout"
absent "decrypt envelope: no output" plain-x
run "decrypt with a public key as --key" 1 "$IMCORE" decrypt --key bob-phone.pub --from "$FROM" \
    --sender alice.pub --in dlv/1001.dlv && err_has "pub as key" "public key file"
run "encrypt with a secret key as --to" 1 "$IMCORE" encrypt --from "$FROM" --key alice.sec \
    --to carol.sec --in msg.txt --out x.bin && err_has "sec as to" "secret key file"
run "encrypt duplicate device" 1 "$IMCORE" encrypt --from "$FROM" --key alice.sec \
    --to carol.pub --to carol.pub --in msg.txt --out x.bin && err_has "dup" "both device 2001"
absent "failed encrypt: no envelope" x.bin
head -c 65537 /dev/zero >big.txt
run "encrypt body over the limit" 1 "$IMCORE" encrypt --from "$FROM" --key alice.sec \
    --to carol.pub --in big.txt --out x.bin && err_has "big body" "larger than 65536"
head -c 65536 /dev/zero >max.txt
run "encrypt body at the limit" 0 "$IMCORE" encrypt --from "$FROM" --key alice.sec \
    --to carol.pub --in max.txt --out max.bin
run "fanout a delivery" 1 "$IMCORE" fanout --in dlv/1001.dlv --out-dir d2 &&
    err_has "fanout delivery" "is a delivery"
run "fanout flipped structure" 1 "$IMCORE" fanout --in trunc.bin --out-dir d3 &&
    one_line_error "fanout truncated" "imcore fanout: "
[ -z "$(ls -A . | grep '\.tmp-')" ] && pass || fail "temporary files left behind"

# ---- usage errors --------------------------------------------------------------

run "unknown option" 2 "$IMCORE" encrypt --frm "$FROM" && one_line_error "unknown option" "imcore encrypt: " &&
    err_has "unknown option" "unknown option --frm"
run "missing required option" 2 "$IMCORE" encrypt --key alice.sec --to carol.pub &&
    one_line_error "missing option" "imcore encrypt: " && err_has "missing option" "--from"
run "missing --to" 2 "$IMCORE" encrypt --from "$FROM" --key alice.sec && err_has "missing --to" "--to"
run "option without value" 2 "$IMCORE" decrypt --key && err_has "no value" "needs a value"
run "repeated option" 2 "$IMCORE" decrypt --key a --key b --from x --sender y &&
    err_has "repeated" "more than once"
run "unexpected positional" 2 "$IMCORE" inspect stray && one_line_error "positional" "imcore inspect: "
run "flag with value" 2 "$IMCORE" decrypt --json=yes --key a --from x --sender y
run "empty handle" 2 "$IMCORE" encrypt --from "" --key alice.sec --to carol.pub && err_has "empty handle" "--from"
run "bad timestamp" 2 "$IMCORE" encrypt --from "$FROM" --key alice.sec --to carol.pub --timestamp -5
run "encrypt unknown backend" 2 "$IMCORE" encrypt --backend bogus --from "$FROM" --key alice.sec \
    --to carol.pub --in msg.txt && one_line_error "encrypt backend" "imcore encrypt: " &&
    err_has "encrypt backend" "unknown backend 'bogus'"
run "--opt=value form" 0 "$IMCORE" inspect --in=env.bin

# ---- other suites and backends ------------------------------------------------

if [ "$HAVE_OPENSSL" = 1 ]; then
    # Keys and envelope from OpenSSL, decrypted by libsodium (suite 1).
    run "keygen openssl" 0 "$IMCORE" keygen --backend openssl --device-id 7 --out o-send
    run "keygen openssl rcpt" 0 "$IMCORE" keygen --backend openssl --device-id 8 --out o-rcpt
    run "encrypt openssl" 0 "$IMCORE" encrypt --backend openssl --from o@example.com --key o-send.sec \
        --to o-rcpt.pub --in msg.txt --out o-env.bin
    fanout_to o-box o-env.bin o-dlv
    run "decrypt with sodium" 0 "$IMCORE" decrypt --backend sodium --key o-rcpt.sec --from o@example.com \
        --sender o-send.pub --in o-dlv/8.dlv --out o-plain
    cmp -s msg.txt o-plain && pass || fail "openssl -> sodium: plaintext differs"

    # Suite 2 (P-256) exists in OpenSSL only.
    run "keygen suite 2" 0 "$IMCORE" keygen --backend openssl --suite P256_ECDSA_AES256GCM --device-id 1 --out p-send
    run "keygen suite 2 rcpt" 0 "$IMCORE" keygen --backend openssl --suite 2 --device-id 2 --out p-rcpt
    run "encrypt suite 2" 0 "$IMCORE" encrypt --backend openssl --from p@example.com --key p-send.sec \
        --to p-rcpt.pub --in msg.txt --out p-env.bin
    fanout_to p-box p-env.bin p-dlv
    run "decrypt suite 2" 0 "$IMCORE" decrypt --backend openssl --key p-rcpt.sec --from p@example.com \
        --sender p-send.pub --in p-dlv/2.dlv --out p-plain
    cmp -s msg.txt p-plain && pass || fail "suite 2: plaintext differs"
    run "inspect suite 2" 0 "$IMCORE" inspect --in p-env.bin && grep -q '"suite_id": 2' out && pass ||
        fail "inspect suite 2"
    run "suite 2 key into a suite 1 envelope" 1 "$IMCORE" encrypt --backend openssl --from "$FROM" \
        --key alice.sec --to p-rcpt.pub --in msg.txt --out x.bin && err_has "suite mix" "suite"
fi
run "keygen suite 2 on sodium" 1 "$IMCORE" keygen --backend sodium --suite 2 --device-id 1 --out s2 &&
    one_line_error "suite 2 on sodium" "imcore keygen: " && err_has "suite 2 on sodium" "not supported"
if [ "$HAVE_OPENSSL" = 1 ]; then
    err_has "suite 2 on sodium names the backends that have it" "--backend openssl"
    run "a suite 2 key on sodium" 1 "$IMCORE" decrypt --key p-rcpt.sec --from p@example.com \
        --sender p-send.pub --in p-dlv/2.dlv && one_line_error "suite 2 key" "imcore decrypt: " &&
        err_has "suite 2 key" "--backend openssl"
fi

finish
