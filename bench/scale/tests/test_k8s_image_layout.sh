#!/usr/bin/env bash
# The Kubernetes image runs merge-results: rebuild the final stage's file
# layout from scripts/cluster/Dockerfile (its COPY lines from the build
# context, and its ENV PATH) in a temporary root, without Docker, and run
# merge-results from there, as the manifest's merge Job does (by name, on
# that PATH, with nothing else of the repository around): it must merge two
# shard reports into the digest of one run. Before the fix the image held
# merge-results alone and it died importing scripts/lib/helptext.
# usage: test_k8s_image_layout.sh IMCORE-SCALE REPO-ROOT
set -euo pipefail
bin=${1:?usage: test_k8s_image_layout.sh IMCORE-SCALE REPO-ROOT}
root=${2:?usage: test_k8s_image_layout.sh IMCORE-SCALE REPO-ROOT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log() { echo "test_k8s_image_layout: $*"; }
img="$tmp/image"

# The final stage: everything after the last FROM.
stage=$(awk '/^FROM /{buf=""} {buf = buf $0 "\n"} END {printf "%s", buf}' "$root/scripts/cluster/Dockerfile")
path_env=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin # Debian's default
while read -r kw a b rest; do
    case "$kw" in
        COPY)
            case "$a" in --from=*) continue ;; esac # built files: not in the context
            mkdir -p "$img$(dirname "$b")"
            cp "$root/$a" "$img$b"
            ;;
        ENV)
            case "$a" in PATH=*) path_env=${a#PATH=} ;; esac
            ;;
    esac
done <<<"$stage"
# The image's PATH, rooted in $img, then the system's (python3, sh).
img_path=""
IFS=: read -r -a parts <<<"${path_env//\$PATH/}"
for p in "${parts[@]}"; do [ -n "$p" ] && img_path+="$img$p:"; done

"$bin" --messages 60 --population 200 --seed 3 --pop-dir "$tmp/pop" --progress none --out "$tmp/full.json"
"$bin" --messages 60 --population 200 --seed 3 --pop-dir "$tmp/pop" --progress none --shard 0/2 --out "$tmp/s0.json"
"$bin" --messages 60 --population 200 --seed 3 --pop-dir "$tmp/pop" --progress none --shard 1/2 --out "$tmp/s1.json"
cd "$tmp"
if ! PATH="$img_path/usr/bin:/bin" merge-results --out "$tmp/merged.json" s0.json s1.json 2>"$tmp/err"; then
    log "FAIL: merge-results does not run from the image's layout:"
    cat "$tmp/err"
    exit 1
fi
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"]["value"])' "$tmp/full.json")
got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"]["value"])' "$tmp/merged.json")
[ "$got" = "$want" ] || { log "FAIL: merged digest $got, one run $want"; exit 1; }
log "PASS: merge-results from the image layout merges to the run's digest $want"
