#!/usr/bin/env bash
# Key transparency through the command line (docs/transparency.md), label
# kt, the client and witness side: witnesses ('imcore witness
# init|cosign|show') that cosign only along one append-only history and
# refuse a fork, a rollback and an inconsistent proof with their state
# unchanged; a 2-of-3 client that refuses a fork cosigned by one colluding
# witness and exports the evidence ('client evidence', 'verify-evidence');
# a rollback after a restart refused with client.mdb byte-identical; and end
# to end with the directory, the ghost add-then-revoke reported by the
# victim's own audit. A misbehaving log is played by forge_kt.py with the
# directory's own key.
# Usage: test_cli_kt_client.sh PATH/TO/imcore
set -u

TEST_NAME=test_cli_kt_client
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3 # Debian's, with python3-cryptography
"$PY" -c 'import cryptography' 2>/dev/null || { echo "$TEST_NAME: python3-cryptography missing: skipped"; exit 77; }
has() { if grep -qF -- "$3" "$2"; then pass; else fail "$1: $2 lacks '$3'"; fi; }
same() { if cmp -s "$2" "$3"; then pass; else fail "$1: $2 and $3 differ"; fi; }
FORGE() { "$PY" "$HERE/forge_kt.py" "$@" || fail "forge_kt.py $*"; }

I=$IMCORE
ORIGIN=example.org/dir

# ---- help --------------------------------------------------------------------
run "--help lists witness" 0 "$I" --help && has "help" out "witness"
for c in init cosign show; do
    run "witness $c --help" 0 "$I" witness $c --help && has "witness $c --help" out "Usage: imcore witness $c"
done
run "witness alone" 2 "$I" witness

# ---- witness init ------------------------------------------------------------
"$I" dir init --db d.lmdb >/dev/null || fail "dir init"
LOG=$("$PY" "$HERE/forge_kt.py" vkey d.lmdb.key $ORIGIN)
for w in w1 w2 w3; do
    run "witness init $w" 0 "$I" witness init --state $w.wit --name $w.example.net --log-key "$LOG" &&
        has "init $w prints its vkey" out "$w.example.net+"
    cp out $w.vkey
done
cp -p w2.wit w2.fresh # w2's key with no history: a colluding w2 later
if [ "$(stat -c %a w1.wit)" = 600 ]; then pass; else fail "witness state mode $(stat -c %a w1.wit)"; fi
cp w1.wit w1.before
run "init refuses an existing state" 1 "$I" witness init --state w1.wit --name w1.example.net --log-key "$LOG" &&
    one_line_error "init existing" "imcore witness init: " && has "init existing" err "--force"
same "refused init left the state" w1.wit w1.before
run "init --force replaces it" 0 "$I" witness init --state w1.wit --name w1.example.net --log-key "$LOG" --force
cp out w1.vkey
run "init bad name" 2 "$I" witness init --state wx.wit --name "has space" --log-key "$LOG"
run "init bad log key" 2 "$I" witness init --state wx.wit --name wx --log-key "not+a+key"
run "init cosignature key as log key" 2 "$I" witness init --state wx.wit --name wx --log-key "$(cat w2.vkey)"
[ ! -e wx.wit ] && pass || fail "a refused init wrote wx.wit"
run "show a fresh witness" 0 "$I" witness show --state w1.wit && has "show fresh" out "none yet" &&
    has "show log key" out "$LOG"
chmod 644 w2.wit
run "a state others can read is refused" 1 "$I" witness show --state w2.wit && has "mode" err "chmod 600"
chmod 600 w2.wit
head -c 40 w2.wit >trunc.wit && chmod 600 trunc.wit
run "a truncated state is refused" 1 "$I" witness show --state trunc.wit && has "truncated" err "not a witness state file"
python3 - w2.wit nul.wit <<'PYEOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[34 + b[33] - 1] = 0  # the last byte of the witness's name
open(sys.argv[2], "wb").write(b)
PYEOF
chmod 600 nul.wit
run "a NUL inside the name is refused" 1 "$I" witness show --state nul.wit && has "nul" err "not a witness state file"

# ---- witness cosign: one history ------------------------------------------------
FORGE note d.lmdb.key $ORIGIN a,b,c 3 n3
FORGE note d.lmdb.key $ORIGIN a,b,c,d,e 5 n5
FORGE proof a,b,c,d,e 3 p3-5
FORGE note d.lmdb.key $ORIGIN a,b,c,d,e,f,g 7 n7
FORGE proof a,b,c,d,e,f,g 5 p5-7
run "first checkpoint (trust on first use)" 0 "$I" witness cosign --state w1.wit --checkpoint n3 --out c3 --time 1700000000
has "cosigned note" c3 "— w1.example.net "
head -c "$(wc -c <n3)" c3 >c3.head
same "the cosigned note starts with the note" c3.head n3
run "same checkpoint again" 0 "$I" witness cosign --state w1.wit --checkpoint n3 --out c3b --time 1700000000
cp w1.wit w1.at3
run "larger without a proof" 1 "$I" witness cosign --state w1.wit --checkpoint n5 --out c5 &&
    one_line_error "no proof" "imcore witness cosign: refused" && has "no proof" err "--proof"
same "refusal left the state" w1.wit w1.at3
[ ! -e c5 ] && pass || fail "a refused cosign wrote its output"
run "proof for the wrong sizes" 1 "$I" witness cosign --state w1.wit --checkpoint n7 --proof p3-5 --out c7
same "refusal left the state" w1.wit w1.at3
run "extension 3 -> 5" 0 "$I" witness cosign --state w1.wit --checkpoint n5 --proof p3-5 --out c5
run "show after" 0 "$I" witness show --state w1.wit && has "show after" out "size 5, epoch 5"
cp w1.wit w1.at5

# A second witness cosigns the first witness's output: both lines kept.
run "w2 first" 0 "$I" witness cosign --state w2.wit --checkpoint n3
run "w2 cosigns w1's output" 0 "$I" witness cosign --state w2.wit --checkpoint c5 --proof p3-5 --out c5w12
has "both cosignatures" c5w12 "— w1.example.net "
has "both cosignatures" c5w12 "— w2.example.net "

# ---- witness cosign: a misbehaving log is refused ----------------------------------
FORGE note d.lmdb.key $ORIGIN a,b,c,X,e 5 f5
FORGE proof a,b,c,X,e 3 pf3-5
FORGE note d.lmdb.key $ORIGIN a,b,Y,d,e,f,g 7 f7
FORGE proof a,b,Y,d,e,f,g 5 pf5-7
run "fork at a cosigned size" 1 "$I" witness cosign --state w1.wit --checkpoint f5 --proof pf3-5 --out x &&
    one_line_error "fork" "imcore witness cosign: refused" && has "fork" err "fork"
same "fork refusal left the state" w1.wit w1.at5
run "rewritten history (inconsistent proof)" 1 "$I" witness cosign --state w1.wit --checkpoint f7 --proof pf5-7 --out x &&
    has "inconsistent" err "consistency proof"
same "inconsistent refusal left the state" w1.wit w1.at5
run "rollback to size 3" 1 "$I" witness cosign --state w1.wit --checkpoint n3 --out x && has "rollback" err "rollback"
same "rollback refusal left the state" w1.wit w1.at5
FORGE note d.lmdb.key $ORIGIN a,b,c,d,e,f,g 4 e7
run "smaller epoch" 1 "$I" witness cosign --state w1.wit --checkpoint e7 --proof p5-7 --out x && has "epoch" err "rollback"
"$I" dir init --db other.lmdb >/dev/null || fail "dir init other"
FORGE note other.lmdb.key $ORIGIN a,b,c,d,e,f,g 7 o7
run "signed by another key" 1 "$I" witness cosign --state w1.wit --checkpoint o7 --proof p5-7 --out x &&
    has "other key" err "not signed by the log key"
printf 'not a note\n' >junk
run "not a note" 1 "$I" witness cosign --state w1.wit --checkpoint junk --out x
same "refusals left the state" w1.wit w1.at5
[ ! -e x ] && pass || fail "a refused cosign wrote x"
run "the honest extension still works" 0 "$I" witness cosign --state w1.wit --checkpoint n7 --proof p5-7 --out c7
# The directory's checkpoint answer (note and proof in one file) works too.
FORGE head d.lmdb.key $ORIGIN a,b,c,d,e,f,g,h 8 7 head8
run "cosign a checkpoint answer" 0 "$I" witness cosign --state w1.wit --in head8 --out c8 && has "c8" c8 "— w1.example.net "
run "--in and --proof together" 2 "$I" witness cosign --state w1.wit --in head8 --proof p5-7 --out x
run "neither --in nor --checkpoint" 2 "$I" witness cosign --state w1.wit --out x
run "cosign output onto its input" 2 "$I" witness cosign --state w1.wit --checkpoint n7 --out n7 --force

# ---- the verifying client: witnesses, threshold, rollback, split view ------------
run "client init with a log" 0 "$I" client init --state alice.state --directory-key d.lmdb.pub --log-key "$LOG" \
    --witness "$(cat w1.vkey)" --witness "$(cat w2.vkey)" --witness "$(cat w3.vkey)" --threshold 2 &&
    has "init kt" out "2 of 3 witnesses"
run "client init: threshold above the witnesses" 2 "$I" client init --state x.state --directory-key d.lmdb.pub \
    --log-key "$LOG" --witness "$(cat w1.vkey)" --threshold 2
run "client init: witness without a log" 2 "$I" client init --state x.state --directory-key d.lmdb.pub --witness "$(cat w1.vkey)"
run "client init: a log key as a witness" 2 "$I" client init --state x.state --directory-key d.lmdb.pub \
    --log-key "$LOG" --witness "$LOG"
[ ! -e x.state/client.mdb ] && pass || fail "a refused init created x.state/client.mdb"
run "no evidence yet" 1 "$I" client evidence --state alice.state --out none.ev && has "no evidence" err "no evidence"

# Honest checkpoints, cosigned by w1 and w3 (w3 starts at size 3).
run "size 3 with one cosignature: under the threshold" 1 "$I" client checkpoint --state alice.state --note c3 &&
    has "threshold" err "too few valid witness"
"$I" witness cosign --state w3.wit --checkpoint c3 --out c3w13 2>/dev/null || fail "w3 cosigns c3"
run "size 3, 2 of 3" 0 "$I" client checkpoint --state alice.state --note c3w13 && has "accepted" out "size 3 epoch 3"
FORGE proof a,b,c,d,e,f,g 3 p3-7
"$I" witness cosign --state w3.wit --checkpoint c7 --proof p3-7 --out c7w13 2>/dev/null || fail "w3 cosigns c7"
run "size 7 without a proof" 1 "$I" client checkpoint --state alice.state --note c7w13
run "size 7 with a proof" 0 "$I" client checkpoint --state alice.state --note c7w13 --proof p3-7 &&
    has "moved" out "size 7 epoch 7"
cp alice.state/client.mdb held7.mdb

# Restart (every command is a new process): the older checkpoint is refused.
run "rollback to size 3 after a restart" 1 "$I" client checkpoint --state alice.state --note c3w13 &&
    one_line_error "rollback" "imcore client checkpoint: refused" && has "rollback" err "rollback"
same "rollback left client.mdb" alice.state/client.mdb held7.mdb

# The split view: the log forks at size 7 (leaf 2 rewritten). One colluding
# witness cannot make a 2-of-3 client take it; the two signed size-7 texts
# are kept as evidence.
FORGE note d.lmdb.key $ORIGIN a,b,Y,d,e,f,g 7 fork7
run "w2, colluding (its key, no history), cosigns the fork" 0 "$I" witness cosign --state w2.fresh --checkpoint fork7 --out fork7w2
run "the real w1 refuses the fork" 1 "$I" witness cosign --state w1.wit --checkpoint fork7 --proof pf5-7 --out x
"$I" witness cosign --state w3.wit --checkpoint fork7 --out x 2>err && fail "w3 cosigned the fork" || pass
has "w3 refuses" err "fork"
run "the fork with 1 of 3" 1 "$I" client checkpoint --state alice.state --note fork7w2 &&
    has "evidence" err "kept as evidence"
run "evidence exported" 0 "$I" client evidence --state alice.state --out split.ev
run "export refuses to overwrite" 1 "$I" client evidence --state alice.state --out split.ev
run "verify-evidence" 0 "$I" verify-evidence --in split.ev --log-key "$LOG" &&
    has "proven" out "PROVEN: the log signed two different checkpoints for one tree size" &&
    has "sizes" out "checkpoint B: size 7"
run "verify-evidence without a key" 0 "$I" verify-evidence --in split.ev && has "no key" out "compare the key"
run "verify-evidence against another log key" 1 "$I" verify-evidence --in split.ev --log-key "$("$PY" "$HERE/forge_kt.py" vkey other.lmdb.key $ORIGIN)" &&
    has "other key" err "NOT PROVEN"
run "verify-evidence --directory-key" 0 "$I" verify-evidence --in split.ev --directory-key d.lmdb.pub
python3 - split.ev bad.ev <<'PYEOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-3] ^= 1
open(sys.argv[2], "wb").write(b)
PYEOF
run "tampered evidence" 1 "$I" verify-evidence --in bad.ev && has "tampered" err "NOT PROVEN"
head -c 20 split.ev >short.ev
run "truncated evidence" 1 "$I" verify-evidence --in short.ev && has "truncated" err "not evidence"
run "verify-evidence bad key option" 2 "$I" verify-evidence --in split.ev --log-key nope
# The client still holds the honest size 7 and moves on along it.
run "honest checkpoint still accepted" 0 "$I" client checkpoint --state alice.state --note c7w13 && has "held" out "size 7"
FORGE head d.lmdb.key $ORIGIN a,b,c,d,e,f,g,h 8 7 head7-8
cp alice.state/client.mdb held7b.mdb
run "a checkpoint answer without cosignatures" 1 "$I" client checkpoint --state alice.state --in head7-8 &&
    has "answer" err "too few valid witness"
same "refused answer left client.mdb" alice.state/client.mdb held7b.mdb
run "--in and --proof together" 2 "$I" client checkpoint --state alice.state --in head7-8 --proof p3-7

# ---- requests carry the held checkpoint size and the audit point ------------------
for c in checkpoint request audit evidence; do
    run "client $c --help" 0 "$I" client $c --help && has "client $c --help" out "Usage: imcore client $c"
done
run "verify-evidence --help" 0 "$I" verify-evidence --help
run "request --checkpoint" 0 "$I" client request --state alice.state --checkpoint --out req.bin
if [ "$(od -An -tx1 -N10 req.bin | tr -d ' \n')" = "02430000000000000007" ]; then pass; else fail "request bytes $(od -An -tx1 req.bin)"; fi
run "request --lookup" 0 "$I" client request --state alice.state --lookup Alice@Example.COM --lookup bob@example.com --out reql.bin
run "request needs one kind" 2 "$I" client request --state alice.state --checkpoint --lookup a@example.com --out x.bin
run "audit request for a handle never seen" 1 "$I" client request --state alice.state --audit alice@example.com --out x.bin &&
    has "never seen" err "look it up first"
"$I" client init --state plain.state --directory-key d.lmdb.pub >/dev/null || fail "plain client init"
run "request on a state without a log" 1 "$I" client request --state plain.state --checkpoint --out x.bin &&
    has "no log" err "no transparency log"
[ ! -e x.bin ] && pass || fail "a refused request wrote x.bin"

# ---- end to end with the directory: 2 of 3 witnesses, lookups with proofs, -------
# ---- and the ghost add-then-revoke found by the victim's own audit -----------------
E=alice@example.com
"$I" dir init --db e.lmdb >/dev/null || fail "dir init e"
ELOG=$("$I" dir checkpoint --db e.lmdb --vkey)
for w in ew1 ew2 ew3; do
    "$I" witness init --state $w.wit --name $w.example.net --log-key "$ELOG" >$w.vkey || fail "init $w"
done
"$I" account keygen --out ea.acct >/dev/null || fail "account keygen"
for d in "11 phone" "666 ghost" "12 tablet"; do
    set -- $d
    "$I" keygen --device-id "$1" --out "$2" >/dev/null || fail "keygen $2"
done
run "client init against the directory's log" 0 "$I" client init --state phone.state --directory-key e.lmdb.pub \
    --log-key "$ELOG" --witness "$(cat ew1.vkey)" --witness "$(cat ew2.vkey)" --witness "$(cat ew3.vkey)" --threshold 2

# The two honest witnesses cosign the directory's current checkpoint, each
# from the size it cosigned last, and hand their lines to the directory.
cosign_dir() {
    for w in ew1 ew2; do
        local known
        known=$("$I" witness show --state $w.wit | sed -n 's/^last cosigned: size \([0-9]*\),.*/\1/p')
        "$I" dir checkpoint --db e.lmdb --known-size "${known:-0}" --out $w.head --force >cur.note || fail "dir checkpoint"
        "$I" witness cosign --state $w.wit --in $w.head --out $w.cos --force 2>/dev/null || fail "$w cosign"
        tail -n 1 $w.cos >$w.line
        "$I" dir add-cosignature --db e.lmdb --witness "$(cat $w.vkey)" --checkpoint cur.note \
            --cosignature $w.line >/dev/null || fail "$w add-cosignature"
    done
}
KNOWN=0
# The phone looks its own handle up with proofs and applies the answer.
lookup_apply() {
    "$I" dir lookup --db e.lmdb --handle $E --proofs --known-size $KNOWN --out look.bin --force >/dev/null || fail "dir lookup --proofs"
    run "$1" "$2" "$I" client apply --state phone.state --in look.bin
    local k
    k=$(sed -n 's/^checkpoint .* size \([0-9]*\) epoch.*/\1/p' out)
    [ -n "$k" ] && KNOWN=$k
    return 0
}
run "phone registers (version 1)" 0 "$I" dir register --db e.lmdb --handle $E --key phone.sec --account-key ea.acct
cp phone.state/client.mdb before.mdb
lookup_apply "an uncosigned checkpoint is refused" 1
has "uncosigned" err "witness cosignatures"
same "refusal left client.mdb" phone.state/client.mdb before.mdb
cosign_dir
lookup_apply "a cosigned lookup with proofs" 0 && has "pinned" out "account key pinned" && has "held" out "size 1"
run "a plain answer is refused by a transparency state" 0 "$I" dir lookup --db e.lmdb --handle $E --out plain.bin
run "plain apply" 1 "$I" client apply --state phone.state --in plain.bin && has "plain" err "carries no proofs"

# The ghost: added with the account key and revoked again before the
# phone's next lookup.
run "ghost added (version 2)" 0 "$I" dir register --db e.lmdb --handle $E --key ghost.sec --account-key ea.acct
run "ghost revoked (version 3)" 0 "$I" dir revoke --db e.lmdb --handle $E --device-id 666 --account-key ea.acct
cosign_dir
lookup_apply "the phone's next lookup" 0 && has "gap" out "version 1 -> 3 (1 versions in between were not seen here)"
audit_phone() {
    "$I" client request --state phone.state --audit $E --out areq.bin --force 2>since.txt || fail "audit request"
    SINCE=$(sed -n 's/.*audit from version \([0-9]*\),.*/\1/p' since.txt)
    "$I" dir audit --db e.lmdb --handle $E --since "$SINCE" --known-size $KNOWN --out aud.bin --force >/dev/null 2>&1 || fail "dir audit"
    run "$1" "$2" "$I" client audit --state phone.state --handle $E --in aud.bin "${@:3}"
}
audit_phone "the victim's own audit reports the ghost version" 1 &&
    has "ghost" out "WARNING: alice@example.com version 2 was not seen by this device" &&
    has "pinned key" out "signed by the pinned account key"
audit_phone "reported again (after a restart) until acknowledged" 1 --acknowledge && has "again" out "version 2"
audit_phone "then a clean audit" 0 && has "clean" out "0 versions not seen"
run "her own tablet (version 4)" 0 "$I" dir register --db e.lmdb --handle $E --key tablet.sec --account-key ea.acct
cosign_dir
lookup_apply "the tablet, seen" 0
audit_phone "a clean audit after her own tablet" 0
# A forged audit answer (another handle's) is refused, state unchanged.
"$I" dir audit --db e.lmdb --handle bob@example.com --since 1 --known-size $KNOWN --out bob.bin >/dev/null 2>&1
cp phone.state/client.mdb before.mdb
run "an audit answer for another handle" 1 "$I" client audit --state phone.state --handle $E --in bob.bin
same "refused audit left client.mdb" phone.state/client.mdb before.mdb

finish
