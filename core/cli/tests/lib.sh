# Shared by the CLI test scripts: sourced after `set -u` with the script's
# name in $TEST_NAME and the binary as $1. Resolves IMCORE, makes and enters
# a scratch directory removed on exit, and defines the check helpers below.

IMCORE=${1:?usage: $TEST_NAME PATH/TO/imcore}
case $IMCORE in /*) ;; *) IMCORE=$PWD/$IMCORE ;; esac
[ -x "$IMCORE" ] || { echo "$TEST_NAME: $IMCORE is not an executable" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/imcore-$TEST_NAME.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
command -v python3 >/dev/null || { echo "$TEST_NAME: python3 is needed" >&2; exit 1; }

failures=0
passes=0
pass() { passes=$((passes + 1)); }
fail() {
    failures=$((failures + 1))
    echo "FAIL: $*"
    if [ -s err ]; then sed 's/^/    stderr: /' err | head -5; fi
}

# run NAME WANT_RC CMD... : runs CMD with stdout in ./out, stderr in ./err.
run() {
    local name=$1 want=$2
    shift 2
    "$@" >out 2>err
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "$name: exit $rc, wanted $want"
        return 1
    fi
    pass
    return 0
}

# An error is exactly one line on stderr starting with "imcore <cmd>: ".
one_line_error() {
    local name=$1 prefix=$2
    if [ "$(wc -l <err)" -ne 1 ]; then
        fail "$name: wanted one line on stderr, got $(wc -l <err)"
    elif ! head -c ${#prefix} err | grep -qF -- "$prefix"; then
        fail "$name: stderr does not start with '$prefix'"
    else
        pass
    fi
}

# The last line of every script: the counts, and the exit status. A script
# that made no check at all fails (it tested nothing).
finish() {
    echo "$TEST_NAME: $passes checks passed, $failures failed"
    if [ "$passes" -eq 0 ] && [ "$failures" -eq 0 ]; then
        echo "$TEST_NAME: no check ran" >&2
        exit 1
    fi
    [ "$failures" -eq 0 ]
}
