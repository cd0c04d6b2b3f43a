#!/usr/bin/env bash
# Single-node Slurm check (docs/sweeps.md): start munged, slurmctld and slurmd on
# localhost (Debian slurm-wlm + munge), run a 4-task job array of a small sweep, merge the
# shards and compare with an unsharded run. Needs root. Usage: sudo scripts/slurm-local.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MTJSIM:-$PWD/target/release/mtjsim}
WORK=$(mktemp -d /tmp/mtjsim-slurm.XXXX)
chmod 755 "$WORK"
HOST=$(hostname -s)
CPUS=$(nproc)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
[ -f /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; }
chown -R munge:munge /etc/munge /run/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=local
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MpiDefault=none
NodeName=$HOST CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
rm -f /etc/slurm/cgroup.conf  # 22.05 has no "disabled" cgroup plugin; without the file slurmd starts
pgrep -x munged >/dev/null || su -s /bin/sh munge -c munged 2>/dev/null || munged --force
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 30); do sinfo -h -o %t 2>/dev/null | grep -qE 'idle|mix' && break; sleep 1; done
sinfo
NET=$WORK/rc.cir
cat > "$NET" <<NETLIST
MC RC for the Slurm check
.param c=1n rr={gauss(1k,0.05,1)}
v1 in 0 1
r1 in out {rr}
c1 out 0 {c} ic=0
.tran 2n 3u 0 2n uic
.step param c LIST 1n 2n
.meas tran tdelay TRIG AT=0 TARG v(out) VAL=0.5 RISE=1
.end
NETLIST
JOB=$(sbatch --parsable --array=0-3 --chdir="$WORK" --output="$WORK/slurm_%a.out" \
  --wrap "$BIN sweep $NET --mc 10 --seed 3 --no-plots --jobs 1 --out $WORK/shard_\$SLURM_ARRAY_TASK_ID")
echo "submitted array job $JOB"
while squeue -h -j "$JOB" | grep -q .; do sleep 1; done
"$BIN" sweep-merge "$WORK"/shard_* --no-plots -o "$WORK/merged"
"$BIN" sweep "$NET" --mc 10 --seed 3 --no-plots --out "$WORK/full"
if cmp "$WORK/merged/table.csv" "$WORK/full/table.csv"; then
  echo "OK: 4-task Slurm array + sweep-merge == unsharded table ($WORK)"
else
  echo "MISMATCH: see $WORK"; exit 1
fi
