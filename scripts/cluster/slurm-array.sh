#!/usr/bin/env bash
# imcore-scale on Slurm: one array job (a task per shard, SLURM_ARRAY_TASK_ID
# picks the shard) and a merge job that runs after every task succeeded
# (--dependency=afterok). docs/scale.md ("Slurm") has the walkthrough.
#
# Run it directly: it submits itself twice with sbatch, once as the array
# (IMC_SCALE_ROLE=shard) and once as the merge (IMC_SCALE_ROLE=merge). The
# run's settings travel in OUT_DIR/job.env, so the jobs need OUT_DIR (and the
# binaries) on a file system every node sees.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: scripts/cluster/slurm-array.sh --shards N --messages M --out-dir DIR
                                      [options] [-- IMCORE-SCALE-OPTIONS...]

Submits imcore-scale as Slurm array jobs (shard i of N in one task each) and
a dependent merge job; prints the job ids. Results: DIR/shard-I.json per
shard, DIR/merged.json (scripts/merge-results), logs DIR/shard-I.log,
DIR/merge.log and Slurm's own DIR/slurm-JOB_TASK.log. A shard checkpoints into DIR/shard-I.ckpt while it runs, so a
killed or timed-out task that is run again resumes where it stopped.

  --shards N          shards, 1 or more; split into array jobs of at most the
                      cluster's MaxArraySize tasks (scontrol show config)
  --messages M        messages in the whole run (1e9-style numbers work)
  --out-dir DIR       results, logs and job.env (created; shared by the nodes)
  --resume            DIR holds an earlier submission of this same run:
                      submit only the shards without a finished report
                      (missing or failed), keep the finished ones, and merge
  --pop-dir DIR       population cache shared by the tasks (default DIR/pop)
  --cpus-per-task C   cores per task, also imcore-scale's --threads (default 1)
  --imcore-scale P    the imcore-scale binary (default: build/release, then
                      build/dev, then PATH)
  --merge P           the merge script (default: this checkout's
                      scripts/merge-results)
  --sbatch-arg ARG    passed to every sbatch call (repeatable), e.g.
                      --sbatch-arg=--partition=batch --sbatch-arg=--time=1:00:00
  --wait              wait for the jobs, then print the merged digest
                      (exit 1 if the merge did not produce it)
  --timeout SEC       with --wait: give up after SEC seconds (default 86400)

Everything after -- goes to imcore-scale (e.g. -- --backend openssl --seed 7).
Without --resume, an --out-dir that already holds shard reports is refused
(nothing is deleted).
USAGE
}

role=${IMC_SCALE_ROLE:-submit}

# ---- inside Slurm -------------------------------------------------------------
if [ "$role" != submit ]; then
    : "${IMC_SCALE_ENV:?IMC_SCALE_ENV (the job.env of the run) is not set}"
    # shellcheck source=/dev/null
    . "$IMC_SCALE_ENV"
    case "$role" in
        shard)
            : "${SLURM_ARRAY_TASK_ID:?not an array task}"
            # Arrays hold at most MaxArraySize tasks: array k covers the
            # shards from its offset on.
            i=$(( ${IMC_SCALE_SHARD_OFFSET:-0} + SLURM_ARRAY_TASK_ID ))
            eval "extra=($IMC_SCALE_EXTRA)"
            echo $$ > "$IMC_SCALE_OUT/shard-$i.pid" # the pid imcore-scale runs as (exec)
            exec >>"$IMC_SCALE_OUT/shard-$i.log" 2>&1
            exec "$IMC_SCALE_BIN" --messages "$IMC_SCALE_MESSAGES" \
                --shard "$i/$IMC_SCALE_SHARDS" \
                --threads "${SLURM_CPUS_PER_TASK:-$IMC_SCALE_CPUS}" \
                --pop-dir "$IMC_SCALE_POP_DIR" --progress lines --progress-interval 60 \
                --checkpoint "$IMC_SCALE_OUT/shard-$i.ckpt" \
                --out "$IMC_SCALE_OUT/shard-$i.json" "${extra[@]}"
            ;;
        merge)
            shards=()
            for ((i = 0; i < IMC_SCALE_SHARDS; i++)); do
                shards+=("$IMC_SCALE_OUT/shard-$i.json")
            done
            exec "$IMC_SCALE_MERGE" --out "$IMC_SCALE_OUT/merged.json" "${shards[@]}"
            ;;
        *) echo "slurm-array.sh: unknown IMC_SCALE_ROLE '$role'" >&2; exit 2 ;;
    esac
fi

# ---- submitting -------------------------------------------------------------------
die() { echo "slurm-array.sh: $*" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
self="$root/scripts/cluster/slurm-array.sh"
shards="" messages="" out="" pop="" cpus=1 bin="" merge="$root/scripts/merge-results"
wait=0 timeout=86400 resume=0
sbatch_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --shards) shards=${2:?--shards needs a value}; shift ;;
        --shards=*) shards=${1#*=} ;;
        --messages) messages=${2:?--messages needs a value}; shift ;;
        --messages=*) messages=${1#*=} ;;
        --out-dir) out=${2:?--out-dir needs a value}; shift ;;
        --out-dir=*) out=${1#*=} ;;
        --pop-dir) pop=${2:?--pop-dir needs a value}; shift ;;
        --pop-dir=*) pop=${1#*=} ;;
        --cpus-per-task) cpus=${2:?--cpus-per-task needs a value}; shift ;;
        --cpus-per-task=*) cpus=${1#*=} ;;
        --imcore-scale) bin=${2:?--imcore-scale needs a value}; shift ;;
        --imcore-scale=*) bin=${1#*=} ;;
        --merge) merge=${2:?--merge needs a value}; shift ;;
        --merge=*) merge=${1#*=} ;;
        --sbatch-arg) sbatch_args+=("${2:?--sbatch-arg needs a value}"); shift ;;
        --sbatch-arg=*) sbatch_args+=("${1#*=}") ;;
        --wait) wait=1 ;;
        --resume) resume=1 ;;
        --timeout) timeout=${2:?--timeout needs a value}; shift ;;
        --timeout=*) timeout=${1#*=} ;;
        --) shift; break ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
[[ "$shards" =~ ^[0-9]+$ ]] && [ "${#shards}" -le 12 ] && [ "$shards" -ge 1 ] ||
    die "--shards: '$shards' is not a number of shards (see --help)"
[ -n "$messages" ] || die "--messages is required (see --help)"
[ -n "$out" ] || die "--out-dir is required (see --help)"
[[ "$cpus" =~ ^[0-9]+$ ]] && [ "$cpus" -ge 1 ] || die "--cpus-per-task: '$cpus' is not a positive number"
[[ "$timeout" =~ ^[0-9]+$ ]] || die "--timeout: '$timeout' is not a number of seconds"
if [ -z "$bin" ]; then
    for c in "$root/build/release/bench/scale/imcore-scale" "$root/build/dev/bench/scale/imcore-scale"; do
        if [ -x "$c" ]; then bin=$c; break; fi
    done
    [ -n "$bin" ] || bin=$(command -v imcore-scale || true)
    [ -n "$bin" ] || die "no imcore-scale found: build it (cmake --preset release) or pass --imcore-scale"
fi
[ -x "$bin" ] || die "--imcore-scale: $bin is not executable"
[ -x "$merge" ] || die "--merge: $merge is not executable"
command -v sbatch >/dev/null || die "sbatch not found (is Slurm installed? scripts/setup installs slurm-wlm)"

mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
merge=$(cd "$(dirname "$merge")" && pwd)/$(basename "$merge")
[ -n "$pop" ] || pop="$out/pop"
mkdir -p "$pop"
pop=$(cd "$pop" && pwd)
# Fail now, not in every task, if imcore-scale refuses the options.
"$bin" --messages "$messages" --shard "0/$shards" --threads "$cpus" --pop-dir "$pop" \
    "$@" --dry-run >/dev/null || die "imcore-scale refused the options above"

env_file="$out/job.env"
new_env=$(
    printf 'IMC_SCALE_BIN=%q\n' "$bin"
    printf 'IMC_SCALE_MERGE=%q\n' "$merge"
    printf 'IMC_SCALE_MESSAGES=%q\n' "$messages"
    printf 'IMC_SCALE_SHARDS=%q\n' "$shards"
    printf 'IMC_SCALE_CPUS=%q\n' "$cpus"
    printf 'IMC_SCALE_OUT=%q\n' "$out"
    printf 'IMC_SCALE_POP_DIR=%q\n' "$pop"
    extra=""
    for a in "$@"; do extra+=$(printf '%q ' "$a"); done
    printf 'IMC_SCALE_EXTRA=%q\n' "$extra"
)
if [ "$resume" -eq 1 ]; then
    [ -f "$env_file" ] || die "--resume: $out holds no earlier submission (no job.env)"
    [ "$(cat "$env_file")" = "$new_env" ] ||
        die "--resume: $env_file is another run's (other options, shards, binary or directory)"
else
    if compgen -G "$out/shard-*.json" >/dev/null || [ -e "$out/merged.json" ]; then
        die "$out already holds results: --resume to finish that run, or choose another --out-dir"
    fi
    rm -f "$out"/shard-*.ckpt
    printf '%s\n' "$new_env" > "$env_file"
fi

# The shards to run: all, or with --resume those without a finished report
# (a report that parses, of this shard of this run, every delivery checked;
# the merge job then checks each against its own digest).
todo=$(python3 - "$out" "$shards" <<'PY'
import json, os, sys
out, n = sys.argv[1], int(sys.argv[2])
def done(i):
    try:
        with open(os.path.join(out, f"shard-{i}.json"), encoding="utf-8") as f:
            d = json.load(f)
        t = d["totals"]
        return (d["tool"] == "imcore-scale" and d["config"]["shard"] == [i, n]
                and t["messages"] == d["digest"]["range"][1] - d["digest"]["range"][0]
                and t.get("decrypted") == t["deliveries"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return False
print(" ".join(str(i) for i in range(n) if not done(i)))
PY
)
read -r -a todo_list <<<"$todo"
if [ "$resume" -eq 1 ]; then
    rm -f "$out/merged.json"
    echo "slurm-array.sh: --resume: $(( shards - ${#todo_list[@]} )) of $shards shards finished," \
        "submitting ${#todo_list[@]}"
fi

# MaxArraySize: array indices run 0..MaxArraySize-1 (Slurm's default is 1001).
max_array=$(scontrol show config 2>/dev/null | awk -F= '/^MaxArraySize/ {gsub(/ /, "", $2); print $2}')
[[ "${max_array:-}" =~ ^[0-9]+$ ]] && [ "$max_array" -ge 1 ] || max_array=1001

# One array job per block of max_array shards that has something to run;
# its tasks are the block's shards to run, as a list of index ranges.
array_ids=()
submit_block() { # OFFSET INDEX-LIST
    local id
    id=$(sbatch --parsable --job-name=imcore-scale --array="$2" \
        --cpus-per-task="$cpus" --ntasks=1 --chdir="$out" --output="$out/slurm-%A_%a.log" \
        --export="ALL,IMC_SCALE_ROLE=shard,IMC_SCALE_ENV=$env_file,IMC_SCALE_SHARD_OFFSET=$1" \
        "${sbatch_args[@]}" "$self")
    array_ids+=("${id%%;*}")
}
block=-1 list="" prev=-2 start=-1
flush_range() {
    [ "$start" -ge 0 ] || return 0
    local r=$start
    [ "$prev" -gt "$start" ] && r="$start-$prev"
    list+="${list:+,}$r"
}
for i in "${todo_list[@]}"; do
    b=$(( i / max_array )) k=$(( i % max_array ))
    if [ "$b" -ne "$block" ]; then
        flush_range
        [ -n "$list" ] && submit_block $(( block * max_array )) "$list"
        block=$b list="" start=-1 prev=-2
    fi
    if [ "$k" -ne $(( prev + 1 )) ]; then
        flush_range
        start=$k
    fi
    prev=$k
done
flush_range
[ -n "$list" ] && submit_block $(( block * max_array )) "$list"

dep=()
if [ "${#array_ids[@]}" -gt 0 ]; then
    dep=(--dependency="afterok:$(IFS=:; echo "${array_ids[*]}")" --kill-on-invalid-dep=yes)
fi
merge_id=$(sbatch --parsable --job-name=imcore-scale-merge "${dep[@]}" \
    --ntasks=1 --cpus-per-task=1 --chdir="$out" \
    --output="$out/merge.log" --export="ALL,IMC_SCALE_ROLE=merge,IMC_SCALE_ENV=$env_file" \
    "${sbatch_args[@]}" "$self")
merge_id=${merge_id%%;*}
printf 'arrays=%q\nmerge=%s\n' "${array_ids[*]}" "$merge_id" > "$out/jobs"
echo "slurm-array.sh: shards: job(s) ${array_ids[*]:-none} (arrays of at most $max_array tasks)," \
    "merge: job $merge_id (afterok); results in $out"

[ "$wait" -eq 1 ] || exit 0
deadline=$(( $(date +%s) + timeout ))
all_ids=$(IFS=,; echo "${array_ids[*]}${array_ids[*]:+,}$merge_id")
while [ -n "$(squeue -h -j "$all_ids" -o %i 2>/dev/null)" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "slurm-array.sh: jobs $all_ids still queued or running after $timeout s" >&2
        exit 1
    fi
    sleep 2
done
if [ ! -s "$out/merged.json" ]; then
    echo "slurm-array.sh: no merged report; see $out/shard-*.log and $out/merge.log" \
        "(--resume reruns the shards that did not finish)" >&2
    exit 1
fi
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"]["value"])' "$out/merged.json"
