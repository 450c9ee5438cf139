#!/usr/bin/env bash
# End-to-end test of the directory's transparency log on the command line:
# `imcore dir checkpoint` (the signed note, its vkey, JSON, the response
# with a consistency proof), `dir lookup --proofs`, `dir audit` (a ghost
# device added and revoked shows up as two versions), `dir check`, and
# `dir add-cosignature` with a witness line made in Python from the C2SP
# tlog-cosignature rules (docs/transparency.md); the failure paths.
# Usage: test_cli_kt.sh PATH/TO/imcore
set -u

TEST_NAME=test_cli_kt
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
has() { if grep -qF -- "$3" "$2"; then pass; else fail "$1: $2 lacks '$3'"; fi; }
lines() { if [ "$(wc -l <"$2")" -eq "$3" ]; then pass; else fail "$1: $(wc -l <"$2") lines, wanted $3"; fi; }

DIR="$IMCORE dir"
NOW=--now=1700000000000

for c in checkpoint audit check add-cosignature; do
    run "dir $c --help" 0 $DIR $c --help && has "dir $c --help" out "Usage: imcore dir $c"
done
run "lookup --help" 0 $DIR lookup --help && has "lookup --help" out "--proofs"

run "init" 0 $DIR init --db d.lmdb
for k in 1 2 3; do "$IMCORE" keygen --device-id $k --out a$k >/dev/null || fail "keygen $k"; done
"$IMCORE" account keygen --out alice.acct >/dev/null || fail "account keygen"
AA="--account-key alice.acct"

# The empty log.
run "checkpoint (empty)" 0 $DIR checkpoint --db d.lmdb && lines "empty note" out 7 &&
    [ "$(sed -n 2p out)" = 0 ] && [ "$(sed -n 3p out)" = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" ] &&
    [ "$(sed -n 5p out)" = "epoch 0" ] && pass || fail "empty checkpoint: $(cat out)"

# alice: her device 1; a ghost device 3 added and revoked; her device 2.
run "register 1" 0 $DIR register --db d.lmdb --handle alice@example.com --key a1.sec $AA $NOW
run "checkpoint at 1" 0 $DIR checkpoint --db d.lmdb && cp out note1
run "ghost added" 0 $DIR register --db d.lmdb --handle alice@example.com --key a3.sec $AA $NOW
run "ghost revoked" 0 $DIR revoke --db d.lmdb --handle alice@example.com --device-id 3 $AA $NOW
run "register 2" 0 $DIR register --db d.lmdb --handle alice@example.com --key a2.sec $AA $NOW

run "checkpoint" 0 $DIR checkpoint --db d.lmdb && cp out note4 && lines "note" out 7 &&
    [ "$(sed -n 2p out)" = 4 ] && [ "$(sed -n 5p out)" = "epoch 4" ] &&
    grep -q '^index [A-Za-z0-9+/]*=$' out && [ -z "$(sed -n 6p out)" ] &&
    sed -n 7p out | grep -q "^— $(head -1 out) " && pass || fail "checkpoint: $(cat out)"
run "checkpoint --vkey" 0 $DIR checkpoint --db d.lmdb --vkey &&
    grep -qE "^$(head -1 note4)\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$" out && pass || fail "vkey: $(cat out)"
VKEY=$(cat out)
run "checkpoint --json" 0 $DIR checkpoint --db d.lmdb --json &&
    python3 - "$VKEY" <<'PY' && pass || fail "checkpoint --json: $(cat out)"
import json, sys
c = json.loads(open("out").read())
assert c["size"] == "4" and c["epoch"] == "4" and c["vkey"] == sys.argv[1]
assert len(bytes.fromhex(c["root"])) == 32 and len(bytes.fromhex(c["index_root"])) == 32
assert c["note"] == open("note4").read()
PY
run "checkpoint --out" 0 $DIR checkpoint --db d.lmdb --known-size 1 --out c.bin &&
    [ "$(head -c 2 c.bin | od -An -tx1 | tr -d ' ')" = 0263 ] && pass || fail "checkpoint --out"
run "checkpoint --out twice" 1 $DIR checkpoint --db d.lmdb --out c.bin &&
    one_line_error "--out exists" "imcore dir checkpoint: "
run "known size too large" 1 $DIR checkpoint --db d.lmdb --known-size 5 &&
    one_line_error "too large" "imcore dir checkpoint: " && has "too large" err "larger than"

# Lookups with proofs.
run "lookup --proofs" 0 $DIR lookup --db d.lmdb --handle alice@example.com --handle bob@example.com --proofs $NOW &&
    has "lookup" out "proofs: leaf 3 of a log of 4, in the index" &&
    has "lookup absent" out "proofs: absent from the index of a log of 4"
run "lookup --proofs --json" 0 $DIR lookup --db d.lmdb --handle alice@example.com --proofs --json --out p.bin $NOW &&
    python3 -c 'import json; e=json.loads(open("out").read()); assert e["log_size"]=="4" and e["leaf_index"]=="3" and e["epoch"]=="4"' &&
    pass || fail "lookup --json: $(cat out)"
[ "$(head -c 2 p.bin | od -An -tx1 | tr -d ' ')" = 0270 ] && pass || fail "lookup --out: not a 'p' response"
run "lookup without --proofs" 0 $DIR lookup --db d.lmdb --handle alice@example.com $NOW &&
    grep -q proofs out && fail "plain lookup printed proofs" || pass

# The audit of alice's own handle: four versions, the ghost's two among them.
run "audit" 0 $DIR audit --db d.lmdb --handle alice@example.com && lines "audit" out 4 &&
    has "audit v2" out "alice@example.com version 2 leaf 1 " &&
    has "audit v3" out "alice@example.com version 3 leaf 2 " && has "audit summary" err "complete"
run "audit --json --since 3" 0 $DIR audit --db d.lmdb --handle Alice@Example.com --since 3 --json &&
    python3 -c '
import json
v = [json.loads(l) for l in open("out")]
assert [x["version"] for x in v] == ["3", "4"] and all(len(x["list_hash"]) == 64 for x in v)' &&
    pass || fail "audit --json: $(cat out)"
run "audit nothing new" 0 $DIR audit --db d.lmdb --handle alice@example.com --since 5 &&
    lines "nothing new" out 0 && has "nothing new" err "0 leaves from version 5, latest version 4"
run "audit beyond" 1 $DIR audit --db d.lmdb --handle alice@example.com --since 7 &&
    one_line_error "beyond" "imcore dir audit: "
run "audit unregistered" 0 $DIR audit --db d.lmdb --handle bob@example.com && lines "bob" out 0 &&
    has "bob" err "latest version 0"
run "audit since 0" 2 $DIR audit --db d.lmdb --handle alice@example.com --since 0 &&
    one_line_error "since 0" "imcore dir audit: "
run "audit bad handle" 2 $DIR audit --db d.lmdb --handle "not a handle"

run "check" 0 $DIR check --db d.lmdb && has "check" out "consistent: global epoch 4, a log of 4 leaves"

# A directory stamped with the format from before the log (2) is refused,
# for reading and for writing, with one line (mdb_load rewrites the stamp).
if command -v mdb_load >/dev/null; then
    cp d.lmdb old.lmdb && cp d.lmdb.key old.lmdb.key
    printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n format\n \\02\nDATA=END\n' |
        mdb_load -n -s meta old.lmdb || fail "mdb_load"
    run "format 2 lookup" 1 $DIR lookup --db old.lmdb --handle alice@example.com &&
        one_line_error "format 2" "imcore dir lookup: " && has "format 2" err "before the transparency log"
    cp old.lmdb old.copy
    run "format 2 revoke" 1 $DIR revoke --db old.lmdb --handle alice@example.com --device-id 1 $AA &&
        one_line_error "format 2 revoke" "imcore dir revoke: "
    cmp -s old.lmdb old.copy && pass || fail "a refused old file was changed"
fi

# A witness cosignature (C2SP tlog-cosignature/v1, Ed25519), made in Python.
python3 - <<'PY' >wit.out 2>wit.err
import base64, hashlib, struct
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
sk = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
name = "witness.example"
kid = hashlib.sha256(name.encode() + b"\n" + b"\x04" + pk).digest()[:4]
vk = base64.b64encode(b"\x04" + pk).decode()
print(name + "+" + kid.hex() + "+" + vk)
note = open("note4", "rb").read()
text = note[: note.index(b"\n\n") + 1]
t = 1700000000
sig = sk.sign(b"cosignature/v1\ntime %d\n" % t + text)
line = "\u2014 " + name + " " + base64.b64encode(kid + struct.pack(">Q", t) + sig).decode() + "\n"
open("cosig", "wb").write(line.encode())
stale = sk.sign(b"cosignature/v1\ntime %d\n" % t + open("note1", "rb").read().split(b"\n\n")[0] + b"\n")
open("cosig1", "wb").write(("\u2014 " + name + " " + base64.b64encode(kid + struct.pack(">Q", t) + stale).decode() + "\n").encode())
PY
if [ -s wit.out ]; then
    WIT=$(cat wit.out)
    run "add-cosignature" 0 $DIR add-cosignature --db d.lmdb --witness "$WIT" --checkpoint note4 --cosignature cosig
    run "checkpoint cosigned" 0 $DIR checkpoint --db d.lmdb && lines "cosigned" out 8 &&
        [ "$(tail -1 out)" = "$(cat cosig)" ] && pass || fail "cosigned note: $(cat out)"
    run "add-cosignature twice" 1 $DIR add-cosignature --db d.lmdb --witness "$WIT" --checkpoint note4 --cosignature cosig &&
        one_line_error "twice" "imcore dir add-cosignature: " && has "twice" err "already"
    run "add-cosignature stale" 1 $DIR add-cosignature --db d.lmdb --witness "$WIT" --checkpoint note1 --cosignature cosig1 &&
        has "stale" err "no longer"
    run "add-cosignature not a vkey" 2 $DIR add-cosignature --db d.lmdb --witness "$VKEY" --checkpoint note4 --cosignature cosig
    run "check cosigned" 0 $DIR check --db d.lmdb
elif python3 -c 'import cryptography' 2>/dev/null; then
    fail "the witness line could not be made: $(head -3 wit.err)"
else
    echo "$TEST_NAME: no Python cryptography, cosignature checks skipped" >&2
fi
finish
