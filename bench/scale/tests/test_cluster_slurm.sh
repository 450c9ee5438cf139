#!/usr/bin/env bash
# ctest -L cluster: a real single-node Slurm (munge, slurmctld, slurmd from
# Debian's packages) on localhost, started by this test in a temporary
# directory; scripts/cluster/slurm-array.sh submits a 4-shard array job and
# the dependent merge job through sbatch; the merged digest must equal the
# digest of one single-process run. Only the daemons this test started are
# stopped (by their PIDs), and the directory is removed.
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
        (. "$jobs_file"; scancel "$array" "$merge" 2>/dev/null || true)
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

# ---- the reference: one process, every message ------------------------------
common=(--messages 400 --population 600 --seed 11 --progress none)
"$bin" "${common[@]}" --threads 2 --pop-dir "$tmp/pop-single" --out "$tmp/single.json"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"]["value"])' \
    "$tmp/single.json")

# ---- the array job and the merge job, through sbatch ------------------------
got=$("$root/scripts/cluster/slurm-array.sh" --shards 4 --messages 400 --out-dir "$tmp/out" \
    --imcore-scale "$bin" --wait --timeout 150 -- --population 600 --seed 11 | tail -n 1)
for i in 0 1 2 3; do
    [ -s "$tmp/out/shard-$i.json" ] || { log "FAIL: shard $i wrote no report"; exit 1; }
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
log "PASS: 4 Slurm array tasks + merge job give the single run's digest $want" \
    "($(( $(date +%s) - t_start )) s)"
