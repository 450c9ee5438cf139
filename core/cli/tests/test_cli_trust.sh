#!/usr/bin/env bash
# Directory trust end to end through the command line, as users would run it
# (docs/directory.md, "Accounts", "Client state"): account keys, client
# states that verify lookup answers ('imcore client apply'), encrypt
# --to-handle and decrypt --state; and the scenarios of label `trust`:
#   1. a device registered without the account key is refused by the
#      directory; a directory that serves such a list anyway is refused by
#      the client (or, with a key of its own, reported and not used);
#   2. the ghost add-then-revoke signed by the account key shows up as two
#      device-list versions on the account's own device;
#   3. an older answer replayed to a restarted client is refused, the
#      revoked device stays revoked (each command is a new process);
#   4. an account reset is reported and blocks encrypt --to-handle until
#      'imcore client accept';
#   5. kill -9 during 'client apply', in a loop, leaves a usable state.
# Usage: test_cli_trust.sh PATH/TO/imcore
set -u

TEST_NAME=test_cli_trust
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3 # Debian's, with python3-cryptography
has() { if grep -qF -- "$3" "$2"; then pass; else fail "$1: $2 lacks '$3'"; fi; }
lacks() { if grep -qF -- "$3" "$2"; then fail "$1: $2 has '$3'"; else pass; fi; }

I=$IMCORE
A=alice@example.com
B=bob@example.com

# ---- help ----------------------------------------------------------------------
run "--help lists client and account" 0 "$I" --help && has "help" out "client" && has "help" out "account"
for c in init apply show accept; do
    run "client $c --help" 0 "$I" client $c --help && has "client $c --help" out "Usage: imcore client $c"
done
run "account keygen --help" 0 "$I" account keygen --help
run "client alone" 2 "$I" client
run "apply without a state" 1 "$I" client apply --state nowhere.state --in /dev/null &&
    one_line_error "no state" "imcore client apply: " && has "no state" err "imcore client init"

# ---- set-up: a directory, two accounts, four devices ---------------------------
"$I" dir init --db d.lmdb >/dev/null || fail "dir init"
"$I" account keygen --out alice.acct >/dev/null || fail "account keygen alice"
"$I" account keygen --out bob.acct >/dev/null || fail "account keygen bob"
"$I" account keygen --out bob-new.acct >/dev/null || fail "account keygen bob-new"
for d in "1 alice-phone" "2 alice-tablet" "1001 bob-phone" "1002 bob-laptop" "1003 bob-new" "666 ghost"; do
    set -- $d
    "$I" keygen --device-id "$1" --out "$2" >/dev/null || fail "keygen $2"
done
run "alice creates her account" 0 "$I" dir register --db d.lmdb --handle Alice@Example.COM --key alice-phone.sec --account-key alice.acct --out push-a1.bin
run "alice adds her tablet" 0 "$I" dir register --db d.lmdb --handle $A --key alice-tablet.sec --account-key alice.acct
run "bob creates his account" 0 "$I" dir register --db d.lmdb --handle $B --key bob-phone.sec --account-key bob.acct
run "bob adds his laptop" 0 "$I" dir register --db d.lmdb --handle $B --key bob-laptop.sec --account-key bob.acct
for s in alice-phone alice-tablet bob-laptop; do
    run "client init $s" 0 "$I" client init --state $s.state --directory-key d.lmdb.pub && has "init $s" out "pinned directory key"
done
run "client init twice" 1 "$I" client init --state alice-phone.state --directory-key d.lmdb.pub

run "lookup" 0 "$I" dir lookup --db d.lmdb --handle $A --handle $B --out look1.bin
for s in alice-phone alice-tablet bob-laptop; do
    run "apply look1 on $s" 0 "$I" client apply --state $s.state --in look1.bin
done
has "apply look1" out "bob@example.com: account key pinned (first seen)"
has "apply look1" out "bob@example.com: device 1002 added"
has "apply look1" out "bob@example.com: device list version 0 -> 2"
run "show bob" 0 "$I" client show --state alice-phone.state --handle BOB@example.com --me $A &&
    has "show" out "device list version 2" && has "show" out "device 1001 suite" && has "show" out "safety number with alice@example.com: "
sn_alice=$(sed -n 's/.*safety number with [^:]*: //p' out)
run "show alice from bob" 0 "$I" client show --state bob-laptop.state --handle $A --me $B
sn_bob=$(sed -n 's/.*safety number with [^:]*: //p' out)
[ -n "$sn_alice" ] && [ "$sn_alice" = "$sn_bob" ] && pass || fail "safety numbers differ: '$sn_alice' '$sn_bob'"

# ---- a message through the verified state --------------------------------------
printf 'hello bob\n' >msg.txt
run "encrypt --to-handle" 0 "$I" encrypt --state alice-phone.state --from ALICE@example.com --key alice-phone.sec \
    --to-handle Bob@Example.com --in msg.txt --out env.bin
run "fanout" 0 "$I" fanout --in env.bin --out-dir out1 &&
    has "fanout" out "2 " && has "fanout" out "1001 " && has "fanout" out "1002 "
lacks "fanout" out "1 0" # not to the sending device itself
run "decrypt --state" 0 "$I" decrypt --state bob-laptop.state --from alice@example.com --key bob-laptop.sec \
    --in out1/*/1002.dlv --out got.txt && cmp -s msg.txt got.txt && pass || fail "decrypt --state: body"
run "decrypt --state, wrong sender handle" 1 "$I" decrypt --state bob-laptop.state --from $B --key bob-laptop.sec --in out1/*/1002.dlv
run "encrypt --from not a handle" 2 "$I" encrypt --state alice-phone.state --from "alice at example" --key alice-phone.sec --to-handle $B --in msg.txt --out x.bin
run "encrypt --to-handle without --state" 2 "$I" encrypt --from $A --key alice-phone.sec --to-handle $B --in msg.txt --out x.bin
run "encrypt to a handle not looked up" 1 "$I" encrypt --state alice-phone.state --from $A --key alice-phone.sec --to-handle carol@example.com --in msg.txt --out x.bin &&
    has "not looked up" err "carol@example.com: not in the client state"

# ---- 1. no device without the account key --------------------------------------
run "ghost without the account key" 1 "$I" dir register --db d.lmdb --handle $B --key ghost.sec --account-key alice.acct &&
    has "ghost refused" err "not signed by this account's key"
run "lookup after" 0 "$I" dir lookup --db d.lmdb --handle $B --out look-b.bin && lacks "lookup after" out "device 666"
if $PY "$HERE/forge_dir_answer.py" look-b.bin forged.bin d.lmdb.key $B keep-sig; then
    run "client refuses a list the account did not sign" 1 "$I" client apply --state alice-phone.state --in forged.bin &&
        has "forged" err "not signed by its account key"
    $PY "$HERE/forge_dir_answer.py" look-b.bin forged2.bin d.lmdb.key $B own-key
    cp -r alice-phone.state scratch.state
    run "a key of the directory's choosing" 0 "$I" client apply --state scratch.state --in forged2.bin &&
        has "own key" out "WARNING: ACCOUNT KEY CHANGED WITHOUT THE OLD KEY'S SIGNATURE"
    run "... is not used" 1 "$I" encrypt --state scratch.state --from $A --key alice-phone.sec --to-handle $B --in msg.txt --out x.bin &&
        has "not used" err "client accept"
else
    echo "test_cli_trust: no python3-cryptography, forged answers skipped"
fi

# ---- 2. ghost add-then-revoke, signed by the account key ----------------------
run "ghost added with the account key" 0 "$I" dir register --db d.lmdb --handle $A --key ghost.sec --account-key alice.acct --out push-g1.bin
run "ghost revoked" 0 "$I" dir revoke --db d.lmdb --handle $A --device-id 666 --account-key alice.acct --out push-g2.bin
run "alice's phone gets the first push" 0 "$I" client apply --state alice-phone.state --in push-g1.bin &&
    has "push 1" out "alice@example.com: device list version 2 -> 3" && has "push 1" out "alice@example.com: device 666 added"
run "and the second" 0 "$I" client apply --state alice-phone.state --in push-g2.bin &&
    has "push 2" out "alice@example.com: device list version 3 -> 4" && has "push 2" out "alice@example.com: device 666 removed"
run "lookup" 0 "$I" dir lookup --db d.lmdb --handle $A --out look-a.bin
run "alice's tablet sees the gap" 0 "$I" client apply --state alice-tablet.state --in look-a.bin &&
    has "gap" out "device list version 2 -> 4 (1 versions in between were not seen here)"

# ---- 3. rollback after a restart ------------------------------------------------
run "bob revokes his lost phone" 0 "$I" dir revoke --db d.lmdb --handle $B --device-id 1001 --account-key bob.acct
run "lookup" 0 "$I" dir lookup --db d.lmdb --handle $A --handle $B --out look2.bin
run "alice applies it" 0 "$I" client apply --state alice-phone.state --in look2.bin &&
    has "revoked" out "bob@example.com: device 1001 removed (revoked)"
run "the old answer replayed" 1 "$I" client apply --state alice-phone.state --in look1.bin &&
    one_line_error "replayed" "imcore client apply: " && has "replayed" err "older than what this state has already seen"
run "show: still revoked" 0 "$I" client show --state alice-phone.state --handle $B && lacks "still revoked" out "device 1001"
run "bob's phone sends to alice" 0 "$I" encrypt --from $B --key bob-phone.sec --to alice-phone.pub --in msg.txt --out stolen.bin
run "fanout" 0 "$I" fanout --in stolen.bin --out-dir out2
run "from a revoked device: refused" 1 "$I" decrypt --state alice-phone.state --from $B --key alice-phone.sec --in out2/*/1.dlv &&
    has "revoked sender" err "device 1001 is not a current device"
run "encrypt skips the revoked device" 0 "$I" encrypt --state alice-phone.state --from $A --key alice-phone.sec --to-handle $B --in msg.txt --out env2.bin
run "fanout" 0 "$I" fanout --in env2.bin --out-dir out3 && lacks "no 1001" out "1001 "

# ---- 4. account reset ------------------------------------------------------------------
run "bob resets his account" 0 "$I" dir reset --db d.lmdb --handle $B --new-account-key bob-new.acct --key bob-new.sec
run "lookup" 0 "$I" dir lookup --db d.lmdb --handle $A --handle $B --out look3.bin
run "alice applies it" 0 "$I" client apply --state alice-phone.state --in look3.bin &&
    has "reset" out "bob@example.com: WARNING: ACCOUNT KEY CHANGED WITHOUT THE OLD KEY'S SIGNATURE (account reset)" &&
    has "reset" out "bob@example.com: device 1003 added" && has "reset" out "bob@example.com: device 1002 removed"
rm -f x.bin
run "encrypt to bob is refused" 1 "$I" encrypt --state alice-phone.state --from $A --key alice-phone.sec --to-handle $B --in msg.txt --out x.bin &&
    one_line_error "blocked" "imcore encrypt: " && has "blocked" err "client accept"
[ -e x.bin ] && fail "a refused encrypt wrote output" || pass
run "show bob" 0 "$I" client show --state alice-phone.state --handle $B --me $A &&
    has "show pending" out "UNCONFIRMED new account key" && has "show pending" out "(for the unconfirmed key)"
sn_new=$(sed -n 's/.*safety number with [^:]*: \([0-9 ]*\).*/\1/p' out)
[ -n "$sn_new" ] && [ "$sn_new" != "$sn_alice" ] && pass || fail "the safety number did not change: '$sn_new'"
run "accept" 0 "$I" client accept --state alice-phone.state --handle BOB@example.com && has "accept" out "accepted and pinned"
run "accept again" 0 "$I" client accept --state alice-phone.state --handle $B && has "accept again" out "nothing to accept"
run "encrypt to bob now" 0 "$I" encrypt --state alice-phone.state --from $A --key alice-phone.sec --to-handle $B --in msg.txt --out env3.bin
run "fanout" 0 "$I" fanout --in env3.bin --out-dir out4 && has "to the new device" out "1003 "

# ---- 5. kill -9 during client apply, in a loop ------------------------------------------
run "lookup" 0 "$I" dir lookup --db d.lmdb --handle $A --handle $B --out look4.bin
cp -r bob-laptop.state kill.state
killed=0
for i in $(seq 1 12); do
    "$I" client apply --state kill.state --in look4.bin >/dev/null 2>&1 &
    pid=$!
    sleep "0.00$((RANDOM % 10))"
    kill -9 $pid 2>/dev/null && killed=$((killed + 1))
    wait $pid 2>/dev/null
    run "state usable after kill $i" 0 "$I" client show --state kill.state --handle $A
done
run "apply after the kills" 0 "$I" client apply --state kill.state --in look4.bin
run "show after the kills" 0 "$I" client show --state kill.state --handle $B && has "after kills" out "device 1003"
echo "test_cli_trust: $killed of 12 applies killed"

echo "test_cli_trust: $passes checks passed, $failures failed"
[ "$failures" -eq 0 ]
