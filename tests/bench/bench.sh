#!/bin/bash
# mxlbd against HAProxy (mode tcp, balance roundrobin), side by side in one
# run, in front of the same two smtp-sinks, with the same SMTP probe
# (interval 2 s, rise 2, fall 2).  smtp-source sends one message per
# connection: 1 KiB messages at concurrency 1, 16, 64 and 256, then 100
# KiB messages at concurrency 16.  Each case runs against mxlbd then
# HAProxy, each with a freshly started balancer; the whole list runs three
# times (BENCH_RUNS), so that each case's median row is taken over runs
# spread in time: a single run here swings by 10-20%.
#
# Per balancer and case: messages/s (wall clock of smtp-source), CPU
# microseconds per message (utime+stime of the balancer process from
# /proc/PID/stat, delta over the run), peak RSS (VmHWM from
# /proc/PID/status), and the ratio mxlbd/haproxy of each.  The table goes
# to stdout (markdown); progress and the check summary go to stderr.
#
# Transparent mode (farm source client) is not measured here: on loopback
# the client's address is the balancer's own, so it never takes the
# transparent path.  tests/bench/transparent.sh measures it beside plain
# forwarding in network namespaces (make bench runs both).
#
#   make bench
#   BENCH_MSGS=2000 tests/bench/bench.sh          quick run
# Environment:
#   BENCH_MSGS          messages per 1 KiB case (20000)
#   BENCH_BIG_MSGS      messages in the 100 KiB case (BENCH_MSGS / 4)
#   BENCH_CASES         "CONC:SIZE ..." to run other cases
#                       (default "1:1024 16:1024 64:1024 256:1024 16:102400")
#                       ("none": only the xclient case)
#   BENCH_RUNS          times the list of cases runs (3)
#   BENCH_XCLIENT_CASE  "CONC:SIZE" of the transport case (16:1024; "none" to
#                       skip it): mxlbd forwarding plain, with PROXY v2, then with XCLIENT,
#                       to a private Postfix smtpd (tests/peers/postfix.sh)
#   BENCH_XCLIENT_MSGS  messages per run of that case (BENCH_MSGS / 10)
#   BENCH_HAPROXY_THREADS  HAProxy's nbthread (1: both balancers single-threaded)
#   BENCH_HAPROXY_LOG   1 (default): HAProxy logs each session to stderr like
#                       mxlbd does; 0: no logs
#   BENCH_WORKERS_CASE  "CONC:SIZE" of the workers case (256:1024; "none" to
#                       skip it): mxlbd with 1 and 2 workers beside HAProxy
#                       with nbthread 1 and 2
#   BENCH_WORKERS_MSGS  messages per run of that case (BENCH_MSGS)
#   BENCH_STRACE_MSGS   sessions of the system-call counts, by strace and
#                       untraced by perf (3000; 0 to skip)
#   BENCH_FORWARD       "kernel": every case also runs mxlbd with the farm's
#                       forward kernel (BPF sockmap, engine/sockmap.c) as a
#                       third balancer, and a second table sets user, kernel
#                       and HAProxy side by side (tests/bench/sockmap.md)
#   BENCH_STRACE_CONC   its concurrency (16)
#   BENCH_FLOOR         1: every case also runs tests/bench/floor.c, the
#                       least a relay can do (epoll, and io_uring when
#                       liburing-dev is installed), and a table sets mxlbd's
#                       CPU beside it (tests/bench/cpu.md)
#
# System calls per session: a separate short run per balancer (1 KiB, one
# message per connection) under `strace -c -f`, so the timed runs are not
# traced; printed beside the CPU per message of the timed case at the same
# concurrency, with the ratio, and per system call.
. "$(dirname "$0")/../lib.sh"

MSGS=${BENCH_MSGS:-20000}
BIG=${BENCH_BIG_MSGS:-$((MSGS / 4))}
CASES=${BENCH_CASES:-"1:1024 16:1024 64:1024 256:1024 16:102400"}
RUNS=${BENCH_RUNS:-3}
[ "$CASES" = none ] && CASES=""
HA_THREADS=${BENCH_HAPROXY_THREADS:-1}
HA_LOG=${BENCH_HAPROXY_LOG:-1}
ST_MSGS=${BENCH_STRACE_MSGS:-3000}
ST_CONC=${BENCH_STRACE_CONC:-16}
FORWARD=${BENCH_FORWARD:-user}
FLOOR=${BENCH_FLOOR:-0}
INTERVAL=2
TICK=$(getconf CLK_TCK)
# awk: a case's label, "c=16, 1 KiB, 5000 msgs", from its key "CONC:SIZE"
# and its count of messages.
AWK_CASE='
function case_label(key, n,   kc) {
	split(key, kc, ":")
	return sprintf("c=%s, %s, %d msgs", kc[1],
	    kc[2] >= 1024 ? (kc[2] / 1024) " KiB" : kc[2] " B", n)
}
'

command -v haproxy >/dev/null || die "haproxy is not installed"
[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"

free_port; FE_M=$PORT
free_port; FE_H=$PORT
free_port; P1=$PORT
free_port; P2=$PORT

cat >"$T_DIR/bench.json" <<EOF
{ "zone": "bench",
  "farms": [ { "name": "mx", "balance": "roundrobin", "probe": "smtp",
               "probe-interval": $INTERVAL, "probe-timeout": 2, "probe-rise": 2, "probe-fall": 2,
               "probe-helo": "bench.mxlb.test", "connect-timeout": 2, "queue-timeout": 5,
               "servers": [ { "address": "127.0.0.1", "port": $P1, "name": "s1" },
                            { "address": "127.0.0.1", "port": $P2, "name": "s2" } ] } ],
  "frontends": [ { "name": "in", "bind": "$FE_M", "address": ["127.0.0.1"], "farm": "mx",
                   "maxconn": 4096, "source-maxconn": 4096, "source-rate": 1000000 } ] }
EOF

# The same zone with the farm's bytes relayed by the kernel.
sed 's/"balance": "roundrobin",/"balance": "roundrobin", "forward": "kernel",/' \
	"$T_DIR/bench.json" >"$T_DIR/bench-kernel.json"

ha_log=""
[ "$HA_LOG" = 1 ] && ha_log="log stderr format raw local0"
cat >"$T_DIR/haproxy.cfg" <<EOF
global
    maxconn 8192
    nbthread $HA_THREADS
    $ha_log
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 2s
    timeout client 10m
    timeout server 10m
    timeout check 2s
frontend in
    bind 127.0.0.1:$FE_H
    maxconn 4096
    default_backend mx
backend mx
    balance roundrobin
    option smtpchk EHLO bench.mxlb.test
    default-server check inter ${INTERVAL}s rise 2 fall 2
    server s1 127.0.0.1:$P1
    server s2 127.0.0.1:$P2
EOF
haproxy -c -f "$T_DIR/haproxy.cfg" >"$T_DIR/haproxy-check.out" 2>&1 ||
	die "haproxy config invalid: $(tail -3 "$T_DIR/haproxy-check.out")"

# The floor relays, built here: a measuring stick, not part of mxlb.
FLOORS=""
if [ "$FLOOR" = 1 ]; then
	FLOORS="floor-epoll"
	floor_flags=()
	if pkg-config --exists liburing; then
		FLOORS="floor-epoll floor-uring"
		floor_flags=(-DFLOOR_URING $(pkg-config --libs liburing))
	else
		note "floor-uring skipped: liburing-dev is not installed"
	fi
	${CC:-cc} -std=gnu11 -O2 -o "$T_DIR/floor" "$T_TOP/tests/bench/floor.c" \
	    "${floor_flags[@]}" || die "tests/bench/floor.c did not build"
fi

SINK_NODUMP=1 start_sink "$P1" || die "smtp-sink on $P1 did not start"
SINK_NODUMP=1 start_sink "$P2" || die "smtp-sink on $P2 did not start"

# cpu_ticks PID: utime + stime (fields 14 and 15; the command name in field
# 2 may hold spaces, so count from the closing parenthesis).
cpu_ticks() {
	local rest
	rest=$(sed 's/.*) //' "/proc/$1/stat") || return 1
	set -- $rest
	echo $((${12} + ${13}))
}

# kthread_ticks: utime + stime of every kworker and ksoftirqd.  With
# forward kernel the relaying is done by the sockmap's work items
# (kworkers), which the balancer's own ticks do not show; what softirqs
# do is charged to whichever process they interrupt (the clients and
# sinks, the same for every balancer).
kthread_ticks() {
	cat /proc/[0-9]*/stat 2>/dev/null |
		awk '$2 ~ /^\((kworker|ksoftirqd)\// { t += $14 + $15 } END { print t + 0 }'
}

vmhwm() {
	awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"
}

# start_balancer mxlbd|haproxy: sets BPID and BPORT.  MX_WORKERS and
# HA_CFG choose the workers and HAProxy's config (the workers case).
MX_WORKERS=1
HA_CFG=$T_DIR/haproxy.cfg
start_balancer() {
	case $1 in
	mxlbd)
		start_engine "$T_DIR/bench.json" "mxlbd-$RUN" --workers "$MX_WORKERS" || return 1
		BPID=$ENGINE_PID
		BPORT=$FE_M
		;;
	mxlbd-kernel)
		start_engine "$T_DIR/bench-kernel.json" "mxlbd-kernel-$RUN" || return 1
		BPID=$ENGINE_PID
		BPORT=$FE_M
		;;
	floor-*)
		spawn "$1-$RUN" "$T_DIR/floor" "${1#floor-}" "$FE_M" "$P1" "$P2"
		BPID=$SPAWNED_PID
		BPORT=$FE_M
		wait_port 127.0.0.1 "$FE_M" 10 || return 1
		;;
	haproxy)
		spawn "haproxy-$RUN" haproxy -db -f "$HA_CFG" -p "$T_DIR/haproxy.pid"
		BPID=$SPAWNED_PID
		BPORT=$FE_H
		wait_port 127.0.0.1 "$FE_H" 10 || return 1
		;;
	esac
	# Servers start up in both; let the first probes pass.
	sleep 0.5
}

# run_case BALANCER CONC SIZE COUNT: one smtp-source run; appends
# "CASE BALANCER CONC SIZE COUNT MICROSECONDS TICKS HWM-KB RC KTICKS" to
# $T_DIR/results (KTICKS: the kernel threads', kthread_ticks).
run_case() {
	local b=$1 conc=$2 size=$3 count=$4 t0 t1 c0 c1 rc hwm k0 k1
	RUN=$((RUN + 1))
	start_balancer "$b" || { fail "$b started (run $RUN)" "see $T_DIR"; return; }
	k0=$(kthread_ticks)
	c0=$(cpu_ticks "$BPID")
	t0=$(date +%s%N)
	timeout 900 smtp-source -s "$conc" -m "$count" -l "$size" \
		-f bench@mxlb.test -t sink@mxlb.test "127.0.0.1:$BPORT" \
		>"$T_DIR/source-$RUN.out" 2>&1
	rc=$?
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$BPID")
	k1=$(kthread_ticks)
	hwm=$(vmhwm "$BPID")
	stop_pid "$BPID"
	if [ "$rc" = 0 ]; then
		ok "$b: $count x $size bytes at concurrency $conc"
	else
		fail "$b: $count x $size bytes at concurrency $conc" "smtp-source: $(tail -1 "$T_DIR/source-$RUN.out")"
	fi
	echo "$CASE $b $conc $size $count $(((t1 - t0) / 1000)) $((c1 - c0)) $hwm $rc $((k1 - k0))" >>"$T_DIR/results"
	echo "# $b c=$conc size=$size: $(awk -v n="$count" -v us=$(((t1 - t0) / 1000)) 'BEGIN { printf "%.0f msg/s", n * 1e6 / us }')"
}

# The table is the only thing on stdout (fd 3); the rest goes to stderr.
exec 3>&1 1>&2

RUN=0
: >"$T_DIR/results"
CASE=0
for c in $(for r in $(seq "$RUNS"); do echo $CASES; done); do
	CASE=$((CASE + 1))
	conc=${c%%:*}
	size=${c#*:}
	count=$MSGS
	[ "$size" -gt 10240 ] && count=$BIG
	bals="mxlbd haproxy"
	[ "$FORWARD" = kernel ] && bals="mxlbd haproxy mxlbd-kernel"
	bals="$bals $FLOORS"
	for b in $bals; do
		run_case "$b" "$conc" "$size" "$count"
	done
done

# One row per case: each figure for mxlbd, HAProxy, and mxlbd/haproxy.
# A case run more than once (BENCH_RUNS) gets a row per run and a median
# row; the line under the table compares the medians' CPU with issue 16's
# target, 0.85x HAProxy's.
[ -s "$T_DIR/results" ] && {
	echo
	ver=$(grep -ho ' ready zone=bench .*version=[^ ]*' "$T_DIR"/mxlbd-*.log 2>/dev/null | head -1)
	echo "mxlbd ${ver##*version=} vs $(haproxy -v | head -1 | cut -d' ' -f1-3) (nbthread $HA_THREADS, session log $([ "$HA_LOG" = 1 ] && echo on || echo off)); $(nproc) CPUs; smtp-source one message per connection, 2 smtp-sinks, probe every ${INTERVAL}s"
	echo
	awk -v tick="$TICK" '
	function fmt(x) { return x == "" ? "-" : x }
	function ratio(a, b) { return (b > 0 && a != "") ? sprintf("%.2f", a / b) : "-" }
	function row(label, mr, hr, mc, hc, mm, hm) {
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label,
		    fmt(mr), fmt(hr), ratio(mr, hr), fmt(mc), fmt(hc), ratio(mc, hc),
		    fmt(mm), fmt(hm), ratio(mm, hm)
	}
	'"$T_AWK_MEDIAN"'
	'"$AWK_CASE"'
	{
		b = $2; key = $3 ":" $4; n = $5; us = $6; ticks = $7; hwm = $8; rc = $9
		if (!(key in seen)) { order[++nkeys] = key; seen[key] = 0 }
		if (b == "mxlbd") runs[key]++
		r = runs[key]
		count[key] = n
		ok = (rc == 0)
		rate[key, r, b] = ok ? sprintf("%.0f", n * 1e6 / us) : ""
		cpu[key, r, b] = ok ? sprintf("%.1f", ticks * 1e6 / tick / n) : ""
		mem[key, r, b] = hwm
	}
	END {
		print "| case | mxlbd msg/s | haproxy msg/s | ratio | mxlbd CPU us/msg | haproxy CPU us/msg | ratio | mxlbd peak RSS KiB | haproxy peak RSS KiB | ratio |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (k = 1; k <= nkeys; k++) {
			key = order[k]; split(key, kc, ":")
			size = kc[2] >= 1024 ? (kc[2] / 1024) " KiB" : kc[2] " B"
			base = case_label(key, count[key])
			for (r = 1; r <= runs[key]; r++)
				row(base (runs[key] > 1 ? " #" r : ""),
				    rate[key, r, "mxlbd"], rate[key, r, "haproxy"],
				    cpu[key, r, "mxlbd"], cpu[key, r, "haproxy"],
				    mem[key, r, "mxlbd"], mem[key, r, "haproxy"])
			if (runs[key] > 1) {
				split("", v)
				for (f = 1; f <= 6; f++) {
					for (r = 1; r <= runs[key]; r++) {
						b = (f % 2) ? "mxlbd" : "haproxy"
						if (f <= 2) a[r] = rate[key, r, b] + 0
						else if (f <= 4) a[r] = cpu[key, r, b] + 0
						else a[r] = mem[key, r, b] + 0
					}
					v[f] = median(a, runs[key])
				}
				row(base " median", v[1], v[2], sprintf("%.1f", v[3]),
				    sprintf("%.1f", v[4]), v[5], v[6])
				if (v[4] > 0) {
					r = sprintf("%.2f", v[3] / v[4])
					target = target sprintf("%s c=%s %s: %s%s", target == "" ? "" : ";",
					    kc[1], size, r, r + 0 <= 0.85 ? "" : " (above)")
				}
			}
		}
		if (target != "")
			printf "\nCPU per message, mxlbd / HAProxy, medians (target 0.85 or less):%s\n", target
	}' "$T_DIR/results"
	echo
	echo "ratio = mxlbd / haproxy: above 1 is better for msg/s, worse for CPU and RSS."
} >&3

# forward user, forward kernel and HAProxy, each figure the median of the
# case's runs: msg/s, the balancer's CPU per message, and that plus the
# kernel threads' (kworker, ksoftirqd) over the same run.
[ "$FORWARD" = kernel ] && [ -s "$T_DIR/results" ] && {
	echo
	echo "forward user vs forward kernel (BPF sockmap) vs HAProxy: medians over each case's runs; +kthreads adds every kworker's and ksoftirqd's CPU during the run"
	echo
	awk -v tick="$TICK" '
	'"$T_AWK_MEDIAN"'
	'"$AWK_CASE"'
	function med(key, b, what,   i, m, a) {
		m = 0
		for (i = 1; i <= nrun[key, b]; i++) a[++m] = val[key, b, i, what]
		return m ? median(a, m) : ""
	}
	function f1(x) { return x == "" ? "-" : sprintf("%.1f", x) }
	function f0(x) { return x == "" ? "-" : sprintf("%.0f", x) }
	function ratio(a, b) { return (a != "" && b > 0) ? sprintf("%.2f", a / b) : "-" }
	$9 == 0 {
		b = $2; key = $3 ":" $4
		if (!(key in seen)) { order[++nkeys] = key; seen[key] = 1 }
		r = ++nrun[key, b]
		count[key] = $5
		val[key, b, r, "rate"] = $5 * 1e6 / $6
		val[key, b, r, "cpu"] = $7 * 1e6 / tick / $5
		val[key, b, r, "all"] = ($7 + $10) * 1e6 / tick / $5
	}
	END {
		print "| case | runs | user msg/s | kernel msg/s | haproxy msg/s | user CPU us/msg | kernel CPU us/msg | haproxy CPU us/msg | kernel/user CPU | user +kthreads | kernel +kthreads | haproxy +kthreads | kernel/user +kthreads |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (k = 1; k <= nkeys; k++) {
			key = order[k]
			uc = med(key, "mxlbd", "cpu"); kc_ = med(key, "mxlbd-kernel", "cpu")
			ua = med(key, "mxlbd", "all"); ka = med(key, "mxlbd-kernel", "all")
			printf "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			    case_label(key, count[key]), nrun[key, "mxlbd-kernel"],
			    f0(med(key, "mxlbd", "rate")), f0(med(key, "mxlbd-kernel", "rate")),
			    f0(med(key, "haproxy", "rate")), f1(uc), f1(kc_),
			    f1(med(key, "haproxy", "cpu")), ratio(kc_, uc), f1(ua), f1(ka),
			    f1(med(key, "haproxy", "all")), ratio(ka, ua)
		}
	}' "$T_DIR/results"
	echo
	echo "kernel/user below 1: forward kernel costs less CPU per message."
} >&3

# mxlbd beside the floor relays (tests/bench/floor.c) and HAProxy: the
# median CPU per message of each, and how far mxlbd is above the floor.
[ -n "$FLOORS" ] && [ -s "$T_DIR/results" ] && {
	echo
	echo "mxlbd against the floor (tests/bench/floor.c: accept, connect, copy, close; nothing else): CPU us/msg, medians over each case's runs"
	echo
	awk -v tick="$TICK" '
	'"$T_AWK_MEDIAN"'
	'"$AWK_CASE"'
	function med(key, b,   i, a) {
		for (i = 1; i <= nrun[key, b]; i++) a[i] = cpu[key, b, i]
		return nrun[key, b] ? median(a, nrun[key, b]) : ""
	}
	function f1(x) { return x == "" ? "-" : sprintf("%.1f", x) }
	function ratio(a, b) { return (a != "" && b > 0) ? sprintf("%.2f", a / b) : "-" }
	$9 == 0 {
		key = $3 ":" $4
		if (!(key in seen)) { order[++nkeys] = key; seen[key] = 1 }
		cpu[key, $2, ++nrun[key, $2]] = $7 * 1e6 / tick / $5
		count[key] = $5
	}
	END {
		print "| case | mxlbd | floor-epoll | floor-uring | haproxy | mxlbd/floor-epoll | floor-uring/floor-epoll | floor-epoll/haproxy | mxlbd/haproxy |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (k = 1; k <= nkeys; k++) {
			key = order[k]
			m = med(key, "mxlbd"); e = med(key, "floor-epoll")
			u = med(key, "floor-uring"); h = med(key, "haproxy")
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			    case_label(key, count[key]), f1(m), f1(e), f1(u), f1(h),
			    ratio(m, e), ratio(u, e), ratio(e, h), ratio(m, h)
		}
	}' "$T_DIR/results"
	echo
	echo "mxlbd/floor-epoll near 1: what mxlbd adds to the least an epoll relay does is small; floor-epoll/haproxy is the best ratio any epoll design could show in that run."
} >&3

# --- system calls per session ----------------------------------------------
# strace_run BALANCER: a fresh balancer, strace attached to it (-f: every
# thread), ST_MSGS one-message sessions; the summary in
# $T_DIR/strace-BALANCER.out.
strace_run() {
	local b=$1 out=$T_DIR/strace-$1.out spid rc
	RUN=$((RUN + 1))
	start_balancer "$b" || { fail "$b started (strace run)" "see $T_DIR"; return; }
	spawn "strace-$b" strace -c -f -o "$out" -p "$BPID"
	spid=$SPAWNED_PID
	if ! wait_log "$T_DIR/strace-$b.log" "attached" 10; then
		fail "strace attached to $b" "$(tail -1 "$T_DIR/strace-$b.log")"
		stop_pid "$spid"; stop_pid "$BPID"
		return
	fi
	timeout 900 smtp-source -s "$ST_CONC" -m "$ST_MSGS" -l 1024 \
		-f bench@mxlb.test -t sink@mxlb.test "127.0.0.1:$BPORT" \
		>"$T_DIR/source-strace-$b.out" 2>&1
	rc=$?
	# strace writes its summary when it detaches (SIGINT).
	stop_pid "$spid" INT 10
	stop_pid "$BPID"
	check "$b under strace: $ST_MSGS sessions at concurrency $ST_CONC" [ "$rc" = 0 ]
	check "strace summary of $b" grep -q ' total$' "$out"
}

# strace_calls FILE: "SYSCALL CALLS" lines of a strace -c summary (the
# errors column may be empty: the count is the fourth field, the name the
# last).
strace_calls() {
	awk '$NF != "syscall" && $1 !~ /^-/ && NF >= 5 { print $NF, $4 }' "$1"
}

if [ "$ST_MSGS" -gt 0 ] && ! command -v strace >/dev/null; then
	note "system calls per session skipped: strace is not installed (share/install-deps)"
elif [ "$ST_MSGS" -gt 0 ]; then
	strace_run mxlbd
	strace_run haproxy
	if [ -s "$T_DIR/strace-mxlbd.out" ] && [ -s "$T_DIR/strace-haproxy.out" ]; then
		strace_calls "$T_DIR/strace-mxlbd.out" | sed 's/^/mxlbd /' >"$T_DIR/strace.calls"
		strace_calls "$T_DIR/strace-haproxy.out" | sed 's/^/haproxy /' >>"$T_DIR/strace.calls"
		awk -v tick="$TICK" -v n="$ST_MSGS" -v conc="$ST_CONC" '
		function ratio(a, b) { return (b > 0 && a != "") ? sprintf("%.2f", a / b) : "-" }
		FILENAME == ARGV[1] {
			# A timed 1 KiB case at the same concurrency: its CPU per
			# message (the median over runs).
			if ($3 == conc && $4 == 1024 && $9 == 0)
				cpu[$2, ++ncpu[$2]] = $7 * 1e6 / tick / $5
			next
		}
		{
			if ($2 == "total") { tot[$1] = $3; next }
			if (!($2 in seen)) { order[++nk] = $2; seen[$2] = 1 }
			calls[$2, $1] = $3
		}
		'"$T_AWK_MEDIAN"'
		function med(b,   i, m) {
			m = ncpu[b]
			if (m == 0) return ""
			for (i = 1; i <= m; i++) a[i] = cpu[b, i]
			return sprintf("%.1f", median(a, m))
		}
		END {
			mc = med("mxlbd"); hc = med("haproxy")
			printf "\nSystem calls per session: strace -c -f, %d one-message sessions at concurrency %d (a separate run, not timed); CPU from the timed c=%d, 1 KiB case\n\n", n, conc, conc
			print "| | mxlbd | haproxy | ratio |"
			print "|---|---:|---:|---:|"
			m = tot["mxlbd"] / n; h = tot["haproxy"] / n
			printf "| system calls per session | %.1f | %.1f | %s |\n", m, h, ratio(m, h)
			printf "| CPU us/msg | %s | %s | %s |\n", mc == "" ? "-" : mc,
			    hc == "" ? "-" : hc, ratio(mc, hc)
			print ""
			print "| system call | mxlbd per session | haproxy per session |"
			print "|---|---:|---:|"
			for (k = 1; k <= nk; k++) {
				sc = order[k]
				m = calls[sc, "mxlbd"] / n; h = calls[sc, "haproxy"] / n
				if (m < 0.005 && h < 0.005) continue
				printf "| %s | %.2f | %.2f |\n", sc, m, h
			}
		}' "$T_DIR/results" "$T_DIR/strace.calls" >&3
	fi
fi

# --- system calls per session, untraced ------------------------------------------
# strace stops the traced process at every call, so more events gather per
# wakeup than in a real run, and calls that depend on that (epoll_wait,
# the accept that finds nothing) come out fewer.  The kernel's tracepoint
# counts without stopping anyone: perf stat -e raw_syscalls:sys_enter.
# perf_run BALANCER: the count over ST_MSGS sessions in $T_DIR/perf-BALANCER.out.
perf_run() {
	local b=$1 out=$T_DIR/perf-$1.out ppid rc
	RUN=$((RUN + 1))
	start_balancer "$b" || { fail "$b started (perf run)" "see $T_DIR"; return; }
	spawn "perf-$b" perf stat -x, -e raw_syscalls:sys_enter -o "$out" -p "$BPID"
	ppid=$SPAWNED_PID
	# perf has attached once it has opened its output.
	wait_until 10 test -e "$out"
	timeout 900 smtp-source -s "$ST_CONC" -m "$ST_MSGS" -l 1024 \
		-f bench@mxlb.test -t sink@mxlb.test "127.0.0.1:$BPORT" \
		>"$T_DIR/source-perf-$b.out" 2>&1
	rc=$?
	stop_pid "$ppid" INT 10	# perf writes its count when stopped
	stop_pid "$BPID"
	check "$b under perf: $ST_MSGS sessions at concurrency $ST_CONC" [ "$rc" = 0 ]
	check "perf count of $b" grep -q 'raw_syscalls:sys_enter' "$out"
}

if [ "$ST_MSGS" -gt 0 ] && perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
	perf_run mxlbd
	perf_run haproxy
	for b in $FLOORS; do
		perf_run "$b"
	done
	awk -F, -v n="$ST_MSGS" -v conc="$ST_CONC" '
	/raw_syscalls:sys_enter/ { c[FILENAME ~ /perf-mxlbd/ ? "m" : "h"] = $1 }
	END {
		printf "\nSystem calls per session, untraced: perf stat -e raw_syscalls:sys_enter, %d one-message sessions at concurrency %d\n\n", n, conc
		print "| | mxlbd | haproxy | ratio |"
		print "|---|---:|---:|---:|"
		printf "| system calls per session | %.1f | %.1f | %.2f |\n",
		    c["m"] / n, c["h"] / n, (c["h"] > 0 ? c["m"] / c["h"] : 0)
	}' "$T_DIR/perf-mxlbd.out" "$T_DIR/perf-haproxy.out" >&3
	[ -n "$FLOORS" ] && {
		echo
		echo "| floor relay | system calls per session |"
		echo "|---|---:|"
		for b in $FLOORS; do
			awk -F, -v n="$ST_MSGS" -v b="$b" '/raw_syscalls:sys_enter/ {
			    printf "| %s | %.1f |\n", b, $1 / n }' "$T_DIR/perf-$b.out"
		done
	} >&3
elif [ "$ST_MSGS" -gt 0 ]; then
	note "untraced system calls skipped: perf cannot count raw_syscalls:sys_enter here (share/install-deps installs linux-perf)"
fi

# --- workers -----------------------------------------------------------------
# mxlbd --workers 1 and 2, HAProxy nbthread 1 and 2, one case each: the
# messages a second and the CPU per message of each (the CPU of every
# thread: utime+stime of the process).
WK_CASE=${BENCH_WORKERS_CASE:-256:1024}
WK_MSGS=${BENCH_WORKERS_MSGS:-$MSGS}
if [ "$WK_CASE" != none ]; then
	sed "s/^    nbthread .*/    nbthread 2/" "$T_DIR/haproxy.cfg" >"$T_DIR/haproxy-nbt2.cfg"
	mv "$T_DIR/results" "$T_DIR/results.main"
	for setup in "mxlbd 1" "mxlbd 2" "haproxy 1" "haproxy 2"; do
		set -- $setup
		MX_WORKERS=$2
		HA_CFG=$T_DIR/haproxy.cfg
		[ "$1" = haproxy ] && [ "$2" = 2 ] && HA_CFG=$T_DIR/haproxy-nbt2.cfg
		[ "$1" = haproxy ] && [ "$2" = 1 ] && [ "$HA_THREADS" != 1 ] &&
			sed "s/^    nbthread .*/    nbthread 1/" "$T_DIR/haproxy.cfg" >"$T_DIR/haproxy-nbt1.cfg" &&
			HA_CFG=$T_DIR/haproxy-nbt1.cfg
		CASE=w$2 run_case "$1" "${WK_CASE%%:*}" "${WK_CASE#*:}" "$WK_MSGS"
	done
	mv "$T_DIR/results" "$T_DIR/workers.results"
	mv "$T_DIR/results.main" "$T_DIR/results"
	MX_WORKERS=1 HA_CFG=$T_DIR/haproxy.cfg
	{
		echo
		echo "Workers: c=${WK_CASE%%:*}, ${WK_CASE#*:} B, $WK_MSGS msgs; mxlbd --workers N, HAProxy nbthread N; $(nproc) CPUs shared with smtp-source and the sinks"
		echo
		echo "| balancer | threads | msg/s | CPU us/msg | peak RSS KiB |"
		echo "|---|---:|---:|---:|---:|"
		awk -v tick="$TICK" '$9 == 0 { printf "| %s | %s | %.0f | %.1f | %s |\n", $2,
		    substr($1, 2), $5 * 1e6 / $6, $7 * 1e6 / tick / $5, $8 }' "$T_DIR/workers.results"
	} >&3
fi

# --- PROXY v2 and XCLIENT beside plain forwarding ---------------------------
# The same Postfix smtpd behind the engine three times: a port without
# PROXY, one that reads PROXY (v2 here), and one that authorises XCLIENT
# for 127.0.0.1.  What each way of telling the client's address costs the
# engine per message: the header in the first write, or reading the
# greeting, EHLO, XCLIENT and the new 220.  (source client, the third way,
# needs network namespaces: tests/bench/transparent.sh.)
XC_CASE=${BENCH_XCLIENT_CASE:-16:1024}
XC_MSGS=${BENCH_XCLIENT_MSGS:-$((MSGS / 10))}

# xc_run plain|proxy-v2|xclient FRONTEND: one smtp-source run through a fresh engine;
# appends "TRANSPORT COUNT MICROSECONDS TICKS HWM-KB RC" to $T_DIR/xc.results.
xc_run() {
	local t=$1 fe=$2 conc=${XC_CASE%%:*} size=${XC_CASE#*:} t0 t1 c0 c1 rc hwm
	RUN=$((RUN + 1))
	start_engine "$T_DIR/xc.json" "mxlbd-xc-$RUN" || { fail "mxlbd ($t) started" "see $T_DIR"; return; }
	sleep 0.5	# the first probes
	c0=$(cpu_ticks "$ENGINE_PID")
	t0=$(date +%s%N)
	timeout 900 smtp-source -s "$conc" -m "$XC_MSGS" -l "$size" \
		-f bench@mxlb.test -t user@mx.test.invalid "127.0.0.1:$fe" \
		>"$T_DIR/source-xc-$RUN.out" 2>&1
	rc=$?
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$ENGINE_PID")
	hwm=$(vmhwm "$ENGINE_PID")
	stop_pid "$ENGINE_PID"
	check "mxlbd $t: $XC_MSGS x $size bytes at concurrency $conc to Postfix" [ "$rc" = 0 ]
	echo "$t $XC_MSGS $(((t1 - t0) / 1000)) $((c1 - c0)) $hwm $rc" >>"$T_DIR/xc.results"
}

if [ "$XC_CASE" != none ] && { [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null; }; then
	note "xclient case skipped: it needs root and Postfix (a private instance)"
elif [ "$XC_CASE" != none ]; then
	. "$T_PEERS/postfix.sh"
	free_port; PF_PROXY=$PORT
	free_port; PF_PLAIN=$PORT
	free_port; PF_XC=$PORT
	free_port; FE_PLAIN=$PORT
	free_port; FE_XC=$PORT
	free_port; FE_V2=$PORT
	cat >"$T_DIR/xc.json" <<EOF
{ "zone": "benchxc",
  "farms": [ { "name": "plain", "probe": "smtp", "probe-interval": $INTERVAL,
               "servers": [ { "address": "127.0.0.1", "port": $PF_PLAIN, "name": "pf" } ] },
             { "name": "v2", "probe": "smtp", "probe-interval": $INTERVAL,
               "servers": [ { "address": "127.0.0.1", "port": $PF_PROXY, "name": "pf", "proxyprotocol": "v2" } ] },
             { "name": "xclient", "probe": "smtp", "probe-interval": $INTERVAL,
               "servers": [ { "address": "127.0.0.1", "port": $PF_XC, "name": "pf", "xclient": true } ] } ],
  "frontends": [ { "name": "plain", "bind": "$FE_PLAIN", "address": ["127.0.0.1"], "farm": "plain",
                   "maxconn": 4096, "source-maxconn": 4096, "source-rate": 1000000 },
                 { "name": "v2", "bind": "$FE_V2", "address": ["127.0.0.1"], "farm": "v2",
                   "maxconn": 4096, "source-maxconn": 4096, "source-rate": 1000000 },
                 { "name": "xclient", "bind": "$FE_XC", "address": ["127.0.0.1"], "farm": "xclient",
                   "maxconn": 4096, "source-maxconn": 4096, "source-rate": 1000000 } ] }
EOF
	if PF_MASTER_EXTRA="127.0.0.1:$PF_PLAIN inet n - n - - smtpd
127.0.0.1:$PF_XC inet n - n - - smtpd -o smtpd_authorized_xclient_hosts=127.0.0.1" \
	    postfix_start "$T_DIR/postfix" "$PF_PROXY" &&
	    wait_port 127.0.0.1 "$PF_XC" 5; then
		: >"$T_DIR/xc.results"
		xc_run plain "$FE_PLAIN"
		xc_run proxy-v2 "$FE_V2"
		xc_run xclient "$FE_XC"
		{
			echo
			echo "PROXY v2 and XCLIENT beside plain forwarding: mxlbd to a private Postfix smtpd, c=${XC_CASE%%:*}, ${XC_CASE#*:} B"
			echo
			echo "| transport | msgs | msg/s | mxlbd CPU us/msg | mxlbd peak RSS KiB |"
			echo "|---|---:|---:|---:|---:|"
			awk -v tick="$TICK" '$6 == 0 { printf "| %s | %d | %.0f | %.1f | %s |\n", $1, $2,
			    $2 * 1e6 / $3, $4 * 1e6 / tick / $2, $5 }' "$T_DIR/xc.results"
		} >&3
	else
		fail "private Postfix for the xclient case" "did not start"
	fi
fi

finish
