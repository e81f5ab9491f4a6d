#!/usr/bin/env bash
# slurm-local.sh start|stop|status: a one-node Slurm cluster on this machine,
# for latflow's Slurm integration test and for developers who want to try
# latflow submit.
#
#   start   installs slurmctld, slurmd, slurm-client and munge with apt-get
#           when absent, writes a munge key and /etc/slurm/slurm.conf when
#           absent, and starts munged, slurmctld and slurmd, unless sinfo
#           already answers (then it starts nothing). Run as root, no systemd
#           needed. Running it twice is harmless.
#   stop    stops the daemons that start started (and only those), by the
#           PIDs it recorded in $STATE_DIR.
#   status  says whether sinfo answers and which daemons start started.
#
# When a daemon dies at start (exits with an error, writes no PID file, or
# exits before the node serves), start prints the daemon's fatal log lines
# and how to resolve the cause, e.g. state files in StateSaveLocation of a
# cluster with another ClusterName, and exits 1.
#
# Environment: SLURM_LOCAL_STATE (default /run/latflow-slurm-local) holds
# the PIDs; SLURM_LOCAL_TIMEOUT (default 60) bounds the wait, in seconds,
# for the node to become idle.
set -euo pipefail

STATE_DIR=${SLURM_LOCAL_STATE:-/run/latflow-slurm-local}
PIDS=$STATE_DIR/pids
TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}
CONF=/etc/slurm/slurm.conf
MARK="# written by latflow scripts/slurm-local.sh"
LOGDIR=/var/log/slurm
SBIN=/usr/sbin
RUNDIR=/run
SPOOL=/var/spool
# Daemons started by this invocation, as "NAME PID LOG OFFSET" lines: the
# log and its size before the start, from where their messages are read.
STARTED=""

say() { echo "slurm-local: $*" >&2; }
die() { say "$*"; exit 1; }

sinfo_answers() { command -v sinfo >/dev/null 2>&1 && timeout 10 sinfo -h >/dev/null 2>&1; }

# alive NAME PID: whether PID is a running process named NAME (so that a
# recorded PID reused by another process is never signalled).
alive() { [ -r "/proc/$2/comm" ] && [ "$(cat "/proc/$2/comm" 2>/dev/null)" = "$1" ]; }

record() { mkdir -p "$STATE_DIR"; echo "$1 $2" >>"$PIDS"; }

# pidfile_pid FILE: the PID in FILE, waiting up to 10 s for it to appear.
pidfile_pid() {
	for _ in $(seq 100); do
		if [ -s "$1" ]; then
			tr -dc '0-9' <"$1"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

install_packages() {
	local missing=0
	for b in slurmctld slurmd sinfo munged; do
		command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || missing=1
	done
	[ "$missing" = 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "Slurm is not installed and installing it needs root"
	say "installing slurmctld slurmd slurm-client munge"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

start_munge() {
	install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
	install -d -o munge -g munge -m 0755 /run/munge
	if [ ! -s /etc/munge/munge.key ]; then
		dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
	fi
	chown munge:munge /etc/munge/munge.key
	chmod 0400 /etc/munge/munge.key
	if munge -n </dev/null >/dev/null 2>&1; then
		return 0 # a munged answers already
	fi
	rm -f /run/munge/munged.pid
	runuser -u munge -- /usr/sbin/munged
	local pid
	pid=$(pidfile_pid /run/munge/munged.pid) || die "munged did not start (see /var/log/munge/munged.log)"
	record munged "$pid"
	munge -n </dev/null >/dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
}

write_conf() {
	if [ -f "$CONF" ] && ! head -n1 "$CONF" | grep -qxF "$MARK"; then
		say "using the existing $CONF"
		return 0
	fi
	local host cpus mem addr=""
	host=$(hostname -s)
	cpus=$(nproc)
	# RealMemory must not exceed what slurmd finds: total minus 1 GiB.
	mem=$(awk '/^MemTotal:/ { m = int($2 / 1024) - 1024; print (m < 256 ? 256 : m) }' /proc/meminfo)
	getent hosts "$host" >/dev/null || addr=" NodeAddr=127.0.0.1"
	mkdir -p /etc/slurm
	cat >"$CONF" <<EOF
$MARK
ClusterName=latflow-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=512
StateSaveLocation=$SPOOL/slurmctld
SlurmdSpoolDir=$SPOOL/slurmd
SlurmctldPidFile=$RUNDIR/slurmctld.pid
SlurmdPidFile=$RUNDIR/slurmd.pid
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
ReturnToService=2
KillWait=5
MinJobAge=30
# A requeued job waits cred_expire + 1 s before it may start again (default
# 120 s), and pending jobs are looked at every sched_interval (default 60 s):
# both short, so that a requeue in a test resumes within seconds.
AuthInfo=cred_expire=5
SchedulerParameters=sched_interval=2,bf_interval=1
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN$addr
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

# conf_value KEY DEFAULT: the value of KEY in $CONF (the last one, keys
# compared without case), or DEFAULT.
conf_value() {
	local v
	v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*/\1/Ip" "$CONF" 2>/dev/null | tail -n1)
	echo "${v:-$2}"
}

# daemon_log NAME: the log file of daemon NAME (slurmctld, slurmd).
daemon_log() {
	case "$1" in
	slurmctld) conf_value SlurmctldLogFile "$LOGDIR/slurmctld.log" ;;
	*) conf_value SlurmdLogFile "$LOGDIR/$1.log" ;;
	esac
}

# start_daemon NAME: starts $SBIN/NAME (which daemonizes and writes
# $RUNDIR/NAME.pid) and records its PID; if it fails to start, reports why
# (daemon_died).
start_daemon() {
	local log from=0 pid
	log=$(daemon_log "$1")
	if [ -f "$log" ]; then
		from=$(stat -c %s "$log")
	fi
	rm -f "$RUNDIR/$1.pid"
	if ! "$SBIN/$1"; then
		daemon_died "$1" "$log" "$from" "exited with an error at start"
	fi
	pid=$(pidfile_pid "$RUNDIR/$1.pid") || daemon_died "$1" "$log" "$from" "wrote no PID file $RUNDIR/$1.pid"
	record "$1" "$pid"
	STARTED="$STARTED$1 $pid $log $from"$'\n'
}

# check_started: reports the first daemon that this invocation started and
# that no longer runs.
check_started() {
	local name pid log from
	while read -r name pid log from; do
		[ -n "$name" ] || continue
		alive "$name" "$pid" || daemon_died "$name" "$log" "$from" "exited after it started (pid $pid)"
	done <<<"$STARTED"
}

# daemon_died NAME LOG FROM WHAT: says that daemon NAME WHAT, prints its
# fatal lines written to LOG since offset FROM (or the last lines written),
# says how to resolve a known cause, and exits 1.
daemon_died() {
	local name=$1 log=$2 from=$3 what=$4 new=""
	say "$name $what; its log $log says:"
	if [ -f "$log" ]; then
		new=$(tail -c +"$((from + 1))" "$log")
	fi
	if grep -qi 'fatal' <<<"$new"; then
		# The fatal line and the lines that continue its message.
		grep -i -A4 'fatal' <<<"$new" | sed 's/^/    /' >&2
	elif [ -n "$new" ]; then
		tail -n 20 <<<"$new" | sed 's/^/    /' >&2
	else
		say "    (nothing: see the messages above, and $log)"
	fi
	if [ "$name" = slurmctld ]; then
		local state cluster old
		state=$(conf_value StateSaveLocation "$SPOOL/slurmctld")
		cluster=$(conf_value ClusterName "")
		old=$(cat "$state/clustername" 2>/dev/null || true)
		if grep -qi 'cluster name mismatch' <<<"$new" || { [ -n "$old" ] && [ "$old" != "$cluster" ]; }; then
			say "cause: the state files in $state belong to cluster \"${old:-?}\", but $CONF says ClusterName=$cluster."
			say "resolve: if cluster \"${old:-?}\" is not used here any more, move its state away (its queued jobs are forgotten) and start again:"
			say "    mv $state $state.old-${old:-cluster} && $0 start"
			say "or, to continue that cluster, set ClusterName=${old:-?} in $CONF."
			exit 1
		fi
	fi
	say "resolve: fix the cause above ($CONF, $log), then run $0 start again"
	exit 1
}

# wait_idle: waits until the node is idle (or mixed/allocated: it serves).
wait_idle() {
	local state=""
	for _ in $(seq $((TIMEOUT * 2))); do
		check_started
		state=$(timeout 10 sinfo -h -o %T 2>/dev/null | head -n1 || true)
		case "$state" in
		idle* | mixed* | allocated*) return 0 ;;
		esac
		sleep 0.5
	done
	say "the node is not idle after ${TIMEOUT}s (state: ${state:-no answer})"
	tail -n 20 "$LOGDIR/slurmctld.log" "$LOGDIR/slurmd.log" >&2 || true
	return 1
}

cmd_start() {
	if sinfo_answers; then
		say "sinfo answers: a cluster is up, nothing started"
		sinfo >&2
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "starting the cluster needs root"
	install_packages
	# PIDs recorded before that no longer run are dropped.
	if [ -f "$PIDS" ]; then
		local keep
		keep=$(while read -r name pid; do alive "$name" "$pid" && echo "$name $pid"; done <"$PIDS" || true)
		printf '%s' "${keep:+$keep$'\n'}" >"$PIDS"
	fi
	start_munge
	write_conf
	mkdir -p "$SPOOL/slurmctld" "$SPOOL/slurmd" "$LOGDIR"
	pgrep -x slurmctld >/dev/null || start_daemon slurmctld
	pgrep -x slurmd >/dev/null || start_daemon slurmd
	wait_idle
	say "started; PIDs in $PIDS"
	sinfo >&2
}

cmd_stop() {
	if [ ! -s "$PIDS" ]; then
		say "nothing to stop (no daemon started by this script runs)"
		return 0
	fi
	# Stop in reverse order of start: slurmd, slurmctld, munged.
	local lines
	lines=$(tac "$PIDS")
	while read -r name pid; do
		if alive "$name" "$pid"; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 100); do
				alive "$name" "$pid" || break
				sleep 0.1
			done
			if alive "$name" "$pid"; then
				kill -KILL "$pid" 2>/dev/null || true
			fi
			say "stopped $name (pid $pid)"
		fi
	done <<<"$lines"
	rm -f "$PIDS"
}

cmd_status() {
	if sinfo_answers; then
		sinfo
	else
		echo "sinfo does not answer"
	fi
	if [ -s "$PIDS" ]; then
		while read -r name pid; do
			if alive "$name" "$pid"; then
				echo "$name pid $pid (started by this script)"
			fi
		done <"$PIDS"
	fi
}

# Sourced (by the test of daemon_died), the script only defines its
# functions.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	return 0
fi
case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
