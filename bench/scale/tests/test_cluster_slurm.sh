#!/usr/bin/env bash
# ctest -L cluster: a real single-node Slurm (munge, slurmctld, slurmd from
# Debian's packages) on localhost, started by this test in a temporary
# directory, with MaxArraySize=3. scripts/cluster/slurm-array.sh submits 4
# shards (so two array jobs: shards 0-2 and shard 3) and the dependent merge
# job through sbatch. Shard 1 is killed with SIGKILL halfway, after its
# first checkpoint: its array fails, the merge job is cancelled, and
# `slurm-array.sh --resume` reruns only that shard, which resumes from its
# checkpoint, and merges. The merged digest must equal the digest of one
# uninterrupted single-process run, and the finished shards' reports must
# be the ones of the first submission. Only the daemons this test started
# are stopped (by their PIDs), and the directory is removed.
#
# Skips (exit 77) only where Slurm cannot run at all: not root. Missing
# binaries skip outside CI but fail in CI (CI=true), where scripts/setup
# must have installed slurm-wlm and munge.
#
# usage: test_cluster_slurm.sh IMCORE-SCALE REPO-ROOT
set -euo pipefail

bin=${1:?usage: test_cluster_slurm.sh IMCORE-SCALE REPO-ROOT}
root=${2:?usage: test_cluster_slurm.sh IMCORE-SCALE REPO-ROOT}
SKIP=77
t_start=$(date +%s)
log() { echo "test_cluster_slurm: $*"; }

if [ "$(id -u)" -ne 0 ]; then
    log "SKIP: Slurm cannot run here: slurmd and munged need root, and this is uid $(id -u)"
    exit $SKIP
fi
missing=()
for c in munged munge unmunge slurmctld slurmd sbatch squeue sinfo scontrol; do
    command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || missing+=("$c")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "${CI:-}" = true ]; then
        log "FAIL: ${missing[*]} missing in CI: scripts/setup installs slurm-wlm and munge"
        exit 1
    fi
    log "SKIP: ${missing[*]} not installed (run scripts/setup: it installs slurm-wlm and munge)"
    exit $SKIP
fi
PATH=$PATH:/usr/sbin

tmp=$(mktemp -d /tmp/imcore-slurm.XXXXXX)
chmod 755 "$tmp"
pids=()
jobs_file="$tmp/out/jobs"
cleanup() {
    local rc=$?
    if [ -s "$jobs_file" ] && [ -n "${SLURM_CONF:-}" ]; then
        # shellcheck disable=SC1090
        (. "$jobs_file"; scancel $arrays "$merge" 2>/dev/null || true)
    fi
    # Stop exactly what we started, newest first: slurmd, slurmctld, munged.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[$i]}" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ] && [ "$rc" -ne $SKIP ]; then
        for f in "$tmp"/log/*.log "$tmp"/out/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 30 lines)"
            tail -n 30 "$f"
        done
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/munge" "$tmp/log" "$tmp/state" "$tmp/spool" "$tmp/out"

# ---- munge: our own key, socket and files ----------------------------------
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
chmod 700 "$tmp/munge"
sock="$tmp/munge/munge.socket"
munged --foreground --force --key-file="$tmp/munge/munge.key" --socket="$sock" \
    --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" \
    --seed-file="$tmp/munge/munged.seed" >"$tmp/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
if ! munge --socket="$sock" -n </dev/null | unmunge --socket="$sock" >/dev/null 2>&1; then
    log "FAIL: munged did not start (log below)"
    cat "$tmp/log/munged.out" "$tmp/log/munged.log" 2>/dev/null || true
    exit 1
fi

# ---- slurm.conf: one node, this host, free ports ----------------------------
read -r port_ctld port_d < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024 ))
[ "$mem_mb" -ge 512 ] || mem_mb=512
cat > "$tmp/slurm.conf" <<EOF
ClusterName=imctest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port_ctld
SlurmdPort=$port_d
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=30
MaxArraySize=3
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=imctest Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$tmp/slurm.conf"

slurmctld -D -c -f "$SLURM_CONF" >"$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" >"$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 150); do
    state=$(sinfo -h -N -n "$host" -o %T 2>/dev/null | head -n 1 || true)
    [ "$state" = idle ] && break
    for p in "${pids[@]}"; do
        kill -0 "$p" 2>/dev/null || { log "FAIL: a daemon exited (pid $p)"; exit 1; }
    done
    sleep 0.2
done
if [ "$state" != idle ]; then
    log "FAIL: node $host is '${state:-unknown}', not idle, 30 s after start"
    exit 1
fi
log "Slurm up on $host (ports $port_ctld/$port_d) in $(( $(date +%s) - t_start )) s"

# ---- the reference: one uninterrupted process, every message ------------------
M=6000
common=(--population 600 --seed 11)
"$bin" --messages $M "${common[@]}" --progress none --threads 2 --pop-dir "$tmp/pop-single" \
    --out "$tmp/single.json"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"]["value"])' \
    "$tmp/single.json")
log "single run: $M messages, digest $want ($(( $(date +%s) - t_start )) s)"

# ---- 4 shards in arrays of at most MaxArraySize=3; shard 1 killed halfway ----
submit() {
    "$root/scripts/cluster/slurm-array.sh" --shards 4 --messages $M --out-dir "$tmp/out" \
        --imcore-scale "$bin" "$@" -- "${common[@]}" --checkpoint-interval 0.3
}
submit >"$tmp/submit1.log"
grep -q "arrays of at most 3 tasks" "$tmp/submit1.log" || { log "FAIL: MaxArraySize not read"; cat "$tmp/submit1.log"; exit 1; }
# shellcheck disable=SC1090
. "$jobs_file"
read -r -a first_arrays <<<"$arrays"
[ "${#first_arrays[@]}" = 2 ] || { log "FAIL: 4 shards with MaxArraySize=3 made ${#first_arrays[@]} array job(s), not 2"; exit 1; }
# Wait for shard 1's first checkpoint, then SIGKILL its imcore-scale (the pid
# its task recorded before exec).
killed=0
for _ in $(seq 1 1200); do
    if [ -s "$tmp/out/shard-1.ckpt" ] && [ -s "$tmp/out/shard-1.pid" ]; then
        pid=$(cat "$tmp/out/shard-1.pid")
        if kill -KILL "$pid" 2>/dev/null; then killed=1; fi
        break
    fi
    [ -e "$tmp/out/shard-1.json" ] && break
    sleep 0.1
done
[ "$killed" = 1 ] || { log "FAIL: could not kill shard 1 before it finished (make it longer)"; exit 1; }
log "killed shard 1 (pid $pid) after its first checkpoint"
while [ -n "$(squeue -h -o %i 2>/dev/null)" ]; do sleep 1; done
[ ! -e "$tmp/out/merged.json" ] || { log "FAIL: merged although shard 1 was killed"; exit 1; }
[ ! -e "$tmp/out/shard-1.json" ] || { log "FAIL: the killed shard wrote a report"; exit 1; }
for i in 0 2 3; do
    [ -s "$tmp/out/shard-$i.json" ] || { log "FAIL: shard $i wrote no report"; exit 1; }
    cp "$tmp/out/shard-$i.json" "$tmp/first-$i.json"
done
if submit >/dev/null 2>"$tmp/refused.log"; then
    log "FAIL: a second submission without --resume into the same directory was accepted"; exit 1
fi

# ---- --resume: only shard 1 runs again, from its checkpoint ---------------------
got=$(submit --resume --wait --timeout 240 2>&1 | tee "$tmp/submit2.log" | tail -n 1)
grep -q "3 of 4 shards finished, submitting 1" "$tmp/submit2.log" ||
    { log "FAIL: --resume did not submit exactly the one missing shard"; cat "$tmp/submit2.log"; exit 1; }
grep -q "resuming from checkpoint" "$tmp/out/shard-1.log" ||
    { log "FAIL: shard 1 did not resume from its checkpoint"; exit 1; }
for i in 0 2 3; do
    cmp -s "$tmp/out/shard-$i.json" "$tmp/first-$i.json" ||
        { log "FAIL: --resume replaced finished shard $i"; exit 1; }
done
ranges=$(python3 -c '
import json, sys
print(" ".join("%d-%d" % tuple(json.load(open(f))["digest"]["range"]) for f in sys.argv[1:]))' \
    "$tmp"/out/shard-{0,1,2,3}.json)
log "shards ran indices $ranges; merged digest $got"
if [ "$got" != "$want" ]; then
    log "FAIL: merged digest $got differs from the single run's $want"
    exit 1
fi
log "PASS: 4 Slurm array tasks in 2 arrays (MaxArraySize 3), shard 1 killed and resumed," \
    "merge job: the single run's digest $want ($(( $(date +%s) - t_start )) s)"
