#!/usr/bin/env bash
# ctest -L cluster: scripts/cluster/k8s-indexed-job.yaml is a valid Indexed
# Job (plus its volume and merge Job) for the Kubernetes API: checked by
# scripts/cluster/validate-k8s.mjs against the API's JSON schemas and
# strictly (unknown fields are errors), without a cluster. A misspelt field
# and a shard count that disagrees with completions must be refused.
# Its node packages are this test's own set-up: installed with `npm ci` from
# the lock file in scripts/cluster/k8s-validate/ into build/tools/k8s-validate
# when missing or stale (scripts/setup installs Debian packages only).
# Skips (77) outside CI if node/npm are missing or the install fails; in CI
# (CI=true) that is a failure.
set -euo pipefail
root=${1:?usage: test_k8s_manifest.sh REPO-ROOT}
tools=${IMC_K8S_TOOLS:-$root/build/tools/k8s-validate}
log() { echo "test_k8s_manifest: $*"; }

skip() {
    if [ "${CI:-}" = true ]; then log "FAIL: in CI: $*"; exit 1; fi
    log "SKIP: $*"
    exit 77
}
command -v node >/dev/null 2>&1 || skip "node is not installed (scripts/setup installs nodejs)"
src="$root/scripts/cluster/k8s-validate"
if ! cmp -s "$src/package-lock.json" "$tools/package-lock.json" ||
    [ ! -d "$tools/node_modules/kubernetes-models" ]; then
    command -v npm >/dev/null 2>&1 || skip "npm is not installed (scripts/setup installs npm)"
    mkdir -p "$tools"
    cp "$src/package.json" "$src/package-lock.json" "$tools/"
    log "installing the validator's node packages into $tools (npm ci, from the lock file)"
    (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
        skip "npm ci failed in $tools (no network?)"
fi
export IMC_K8S_TOOLS=$tools
manifest="$root/scripts/cluster/k8s-indexed-job.yaml"
node "$root/scripts/cluster/validate-k8s.mjs" "$manifest"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/completionMode: Indexed/completionMod: Indexed/' "$manifest" > "$tmp/typo.yaml"
sed '0,/value: "4"/s//value: "3"/' "$manifest" > "$tmp/shards.yaml"
sed 's/restartPolicy: Never/restartPolicy: Sometimes/' "$manifest" > "$tmp/enum.yaml"
for bad in typo shards enum; do
    if node "$root/scripts/cluster/validate-k8s.mjs" "$tmp/$bad.yaml" > "$tmp/$bad.out" 2>&1; then
        log "FAIL: the $bad variant was accepted"
        exit 1
    fi
    log "refused as expected ($bad): $(head -n 1 "$tmp/$bad.out")"
done
log "PASS"
