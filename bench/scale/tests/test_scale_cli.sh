#!/usr/bin/env bash
# imcore-scale's command line: --help documents every option; each usage
# error is exactly one line on stderr and exit status 2; 1e6-style numbers
# and shard ranges parse exactly (checked through --dry-run).
set -euo pipefail
bin=${1:?usage: test_scale_cli.sh IMCORE-SCALE}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

help=$("$bin" --help) || fail "--help exited $?"
for o in messages threads seed shard population devices group-size body-size backend suite \
    pop-dir out progress progress-interval project-messages project-machines project-cores \
    key-cache no-warm dry-run; do
    grep -q -- "--$o" <<<"$help" || fail "--help does not document --$o"
done

usage_error() { # ARGS... : exit 2, one line on stderr, nothing on stdout
    local out err rc=0
    out=$("$bin" "$@" 2>/tmp/scale_cli_err.$$) || rc=$?
    err=$(cat /tmp/scale_cli_err.$$)
    rm -f /tmp/scale_cli_err.$$
    [ "$rc" -eq 2 ] || fail "'$*' exited $rc, not 2"
    [ -z "$out" ] || fail "'$*' printed to stdout"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "'$*' printed not one line: $err"
    case "$err" in imcore-scale:*) ;; *) fail "'$*': message without the program name: $err" ;; esac
}
usage_error --messages 1e
usage_error --messages 1.5
usage_error --messages 0
usage_error --messages -3
usage_error --messages 1e40
usage_error --threads 0
usage_error --shard 2/2
usage_error --shard 1
usage_error --messages 3 --shard 0/4
usage_error --population 10
usage_error --devices 0:1
usage_error --devices 1:30,
usage_error --devices 2-1:5
usage_error --group-size 1:1
usage_error --body-size 0-70000:1
usage_error --devices 1:1.1234567
usage_error --backend nosuch
usage_error --suite 9
usage_error --progress sometimes
usage_error --progress-interval 0
usage_error --bogus
usage_error --no-warm=yes
usage_error --messages
usage_error positional
usage_error --seed 1 --seed 2
if "$bin" --backend sodium --suite 2 --dry-run >/dev/null 2>&1; then
    fail "sodium accepted suite 2 (P-256)"
fi

dry() { "$bin" "$@" --dry-run | head -n 1; }
[[ "$(dry --messages 1e6)" == "messages 1000000, shard 0/1: indices [0, 1000000);"* ]] ||
    fail "1e6: $(dry --messages 1e6)"
[[ "$(dry --messages 2.5e3 --shard 1/3)" == "messages 2500, shard 1/3: indices [833, 1666);"* ]] ||
    fail "2.5e3 shard 1/3: $(dry --messages 2.5e3 --shard 1/3)"
[[ "$(dry --messages 3e11 --shard 7/8)" == *"indices [262500000000, 300000000000);"* ]] ||
    fail "3e11 shard 7/8: $(dry --messages 3e11 --shard 7/8)"
# Past 2^32 shards the bounds need 128-bit products (M*i overflows 64 bits).
[[ "$(dry --messages 299999999999 --shard 99999999999/100000000000)" == *"indices [299999999996, 299999999999);"* ]] ||
    fail "shard 99999999999/100000000000: $(dry --messages 299999999999 --shard 99999999999/100000000000)"
[[ "$(dry --messages 9223372036854775807 --shard 9223372036854775806/9223372036854775807)" == *"indices [9223372036854775806, 9223372036854775807);"* ]] ||
    fail "2^63-1 shards: $(dry --messages 9223372036854775807 --shard 9223372036854775806/9223372036854775807)"
# Shards of M = 10 over N = 3 partition [0, 10) exactly.
got=$(for i in 0 1 2; do dry --messages 10 --shard "$i/3" | sed 's/.*indices \(\[[^)]*)\).*/\1/'; done | tr '\n' ' ')
[ "$got" = "[0, 3) [3, 6) [6, 10) " ] || fail "shards of 10 by 3: $got"
# Distributions are re-spelled canonically (the config id hashes that form).
a=$("$bin" --devices "1:30,2:40,3:20,4-8:10" --dry-run | tail -n 1)
b=$("$bin" --devices "1:30.0,2:40.000,3:20,4-8:10" --dry-run | tail -n 1)
[ "$a" = "$b" ] || fail "equal distributions give different config ids"

if [ "$fails" -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "test_scale_cli: all checks passed"
