#!/usr/bin/env bash
# Runs the README's walkthrough exactly as written (the ```sh block under
# "## Walkthrough"), against the imcore binary under test instead of a fresh
# build: only the build line is replaced and IMCORE pointed at $1.
# usage: test_readme_walkthrough.sh IMCORE_BINARY README.md
set -euo pipefail
bin=$1
readme=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

awk '/^## Walkthrough/{f=1} f&&/^```sh/{g=1;next} g&&/^```/{exit} g{print}' "$readme" > "$work/walk.sh"
grep -q '^cmake --preset dev && cmake --build --preset dev$' "$work/walk.sh" ||
    { echo "README walkthrough: build line not found"; exit 1; }
grep -q '^IMCORE=\$PWD/build/dev/core/cli/imcore$' "$work/walk.sh" ||
    { echo "README walkthrough: IMCORE line not found"; exit 1; }
sed -i -e 's|^cmake --preset dev && cmake --build --preset dev$|: build skipped, binary under test|' \
    -e "s|^IMCORE=\$PWD/build/dev/core/cli/imcore\$|IMCORE=$bin|" \
    -e "s|/tmp/imcore-demo|$work/demo|g" "$work/walk.sh"

out=$(bash -e "$work/walk.sh" 2>&1) || { echo "$out"; echo "README walkthrough failed"; exit 1; }
if ! grep -q '^all three devices read the message$' <<<"$out"; then
    echo "$out"
    echo "README walkthrough: final check did not print"
    exit 1
fi
echo "README walkthrough ran as written"
echo "1 passed, 0 failed"
