#!/bin/bash
# Issue 7, scale: figures, not assertions.  Four parts, each printing what it
# measured (and how) to stdout at the end; progress goes to stderr.
#
#  idle      SCALE_SESSIONS (10,000) concurrent idle SMTP sessions through
#            one zone, then the same through HAProxy (mode tcp, roundrobin,
#            smtpchk) in front of the same two smtp-sinks, in the same run:
#            RSS (VmRSS) before and with the sessions held, so memory per
#            session, for each, and the ratio mxlbd/haproxy.  Clients come
#            from 127.0.0.2-5 (mxlbd) and 127.0.0.12-15 (HAProxy) so that no
#            address runs short of ephemeral ports.  Each session takes two
#            descriptors in the balancer: the script raises the hard limit to
#            2 x SESSIONS + 256 if it may (CAP_SYS_RESOURCE), else uses as
#            many sessions as the current hard limit allows, and says so.
#  apply     a zone with 1,000 farms and 10,000 servers (SCALE_FARMS,
#            SCALE_SERVERS; probe none, on 127.x addresses that need not
#            exist), built by an mxlb script: the time of `zone apply` from
#            the shell to the acknowledgement, measured as the wall time of
#            the script with the apply minus the same script without it (the
#            shell then exits 3, edits not applied); then a one-server edit
#            applied on that big zone (`mxlb -c '...; zone apply'` minus
#            `mxlb -c '...'`), and the commit's round trip on the control
#            socket alone.  The engine's RSS after.  Meanwhile a light
#            smtpload runs through another frontend of the same zone, and 20
#            sessions opened before the applies finish their DATA after
#            them: every message must be delivered (reported).
#  soak      SCALE_SOAK_SECONDS (600; 60 with SCALE_QUICK=1) of steady load
#            (smtpload, 4 sessions, 20 ms pause) with a commit every 10 s
#            (`server set ... weight; zone apply`, alternating) and, every
#            minute, a backend restarted the way an operator does it: `server
#            drain mx sN wait 30`, smtp-sink stopped and started, `server
#            ready mx sN`.  Every message delivered?  RSS every 10 s (the
#            series; flat = no leak).
#  valgrind  the engine under valgrind --leak-check=full --error-exitcode=99
#            for SCALE_VALGRIND_SECONDS (60) at a low rate, with commits every
#            10 s, a backend restart, a dead server (connect refused: the
#            redispatch path), silent clients cut by the idle timeout,
#            per-source refusals and garbage; then TERM: "definitely lost"
#            and the error count from valgrind's report.
#
#   tests/bench/scale.sh                      everything, full sizes
#   SCALE_QUICK=1 tests/bench/scale.sh        a quick run (soak 60 s)
#   SCALE_PARTS="idle apply" tests/bench/scale.sh
# Environment: SCALE_SESSIONS, SCALE_FARMS, SCALE_SERVERS, SCALE_SOAK_SECONDS,
# SCALE_VALGRIND_SECONDS, SCALE_PARTS, SCALE_QUICK.
. "$(dirname "$0")/../lib.sh"

QUICK=${SCALE_QUICK:-0}
SESSIONS=${SCALE_SESSIONS:-10000}
FARMS=${SCALE_FARMS:-1000}
SERVERS=${SCALE_SERVERS:-10000}
if [ "$QUICK" = 1 ]; then SOAK=${SCALE_SOAK_SECONDS:-60}; else SOAK=${SCALE_SOAK_SECONDS:-600}; fi
VG_SECS=${SCALE_VALGRIND_SECONDS:-60}
PARTS=${SCALE_PARTS:-"idle apply soak valgrind"}
MXLB=${MXLB:-$T_TOP/build/mxlb}
REAL_MXLBD=$MXLBD
TICK=$(getconf CLK_TCK)

[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"

# The figures are the only thing on stdout (fd 3); the rest goes to stderr.
exec 3>&1 1>&2
: >"$T_DIR/figures"

# figure PART WHAT VALUE [HOW]: one line of the final report.
figure() {
	printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "${4:-}" >>"$T_DIR/figures"
	note "$1: $2 = $3"
}

vm() {	# vm PID FIELD: a /proc/PID/status field, in kB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}
cpu_ticks() {
	local rest
	rest=$(sed 's/.*) //' "/proc/$1/stat") || return 1
	set -- $rest
	echo $((${12} + ${13}))
}
# stat_path PATH: a value from `mxlb -c 'show stats json'` (first zone), by
# a dotted path (numbers index arrays).
stat_path() {
	timeout 20 "$MXLB" -c 'show stats json' 2>/dev/null | "$T_PY" -c '
import json, sys
v = json.load(sys.stdin)[0]
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1"
}
ms_since() {	# ms_since T0 (from now)
	awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.0f", (a - b) * 1000 }'
}
median() {	# median NUMBERS...
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
want() {
	case " $PARTS " in *" $1 "*) return 0 ;; esac
	return 1
}

# --- limits -----------------------------------------------------------------

need=$((2 * SESSIONS + 256))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
	ulimit -Hn "$need" 2>/dev/null ||
		note "cannot raise the hard descriptor limit to $need (no CAP_SYS_RESOURCE?): it stays $hard"
fi
ulimit -Sn "$(ulimit -Hn)"
LIMIT=$(ulimit -n)
FIT=$(((LIMIT - 128) / 2))
if [ "$SESSIONS" -gt "$FIT" ]; then
	note "descriptor limit $LIMIT: $FIT sessions fit in a balancer (2 each), not $SESSIONS"
	SESSIONS=$FIT
fi

# ============================================================================
# idle: memory per idle session, mxlbd and HAProxy
# ============================================================================

# hold_idle NAME PORT SOURCES PID: open $SESSIONS idle sessions to PORT
# through the balancer PID; sets RSS0, RSS1 (kB), GREETED, OPEN_SECS; the
# clients stay until stop_idle.
hold_idle() {
	local name=$1 port=$2 src=$3 pid=$4 ready
	sleep 2
	RSS0=$(vm "$pid" VmRSS)
	local ov0 c0
	ov0=$(listen_overflows)
	c0=$(cpu_ticks "$pid")
	spawn "clients-$name" "$T_PY" "$T_PEERS/idleconns.py" 127.0.0.1 "$port" --conns "$SESSIONS" \
		--source "$src" --rate 2000 --timeout 60 --hold 900
	IDLE_PID=$SPAWNED_PID
	if ! wait_log "$T_DIR/clients-$name.log" "^ready " 180; then
		fail "$name: $SESSIONS idle sessions opened" "$(tail -2 "$T_DIR/clients-$name.log" | tr '\n' ' ')"
		GREETED=0
		return 1
	fi
	ready=$(grep "^ready " "$T_DIR/clients-$name.log")
	GREETED=$(kv greeted "$ready")
	OPEN_SECS=$(kv secs "$ready")
	OPEN_CPU=$(awk -v d=$(($(cpu_ticks "$pid") - c0)) -v t="$TICK" 'BEGIN { printf "%.2f", d / t }')
	OVERFLOWS=$(($(listen_overflows) - ov0))
	sleep 3
	RSS1=$(vm "$pid" VmRSS)
	FDS=$(ls "/proc/$pid/fd" | wc -l)
	if [ "$GREETED" = "$SESSIONS" ]; then
		ok "$name: $SESSIONS idle sessions greeted in $OPEN_SECS s"
	else
		fail "$name: $SESSIONS idle sessions greeted" "$ready"
	fi
}
# listen_overflows: the kernel's count of connections dropped because a
# listen queue was full (whole machine; nstat from iproute2).
listen_overflows() {
	nstat -az TcpExtListenOverflows 2>/dev/null | awk '$1 == "TcpExtListenOverflows" { print $2; f = 1 } END { if (!f) print 0 }'
}
stop_idle() {
	stop_pid "$IDLE_PID" TERM 30
}

# idle_sinks P1 P2: two fresh smtp-sinks with room for every session (-m),
# no idle cut (-t), no dump.  Each balancer meets fresh ones: a sink is
# slow to accept while it first grows to thousands of connections, and
# that queued the first balancer's clients (ListenOverflows at the sinks,
# not at the balancer).  A queue of 4096 (somaxconn) absorbs the rest.
idle_sinks() {
	local p
	for p in "$@"; do
		[ -n "${SINK_PIDS[$p]:-}" ] && stop_sink "$p"
		SINK_NODUMP=1 SINK_BACKLOG=4096 start_sink "$p" -m $((SESSIONS / 2 + 1000)) \
		    -t 3600 || { fail "idle: sink $p"; return 1; }
	done
}

part_idle() {
	local fe_m fe_h p1 p2 m_rss0 m_rss1 m_n h_rss0 h_rss1 h_n m_per h_per
	free_port; fe_m=$PORT
	free_port; fe_h=$PORT
	free_port; p1=$PORT
	free_port; p2=$PORT
	note "idle: $SESSIONS sessions, descriptor limit $LIMIT"
	idle_sinks "$p1" "$p2" || return

	cat >"$T_DIR/idle.json" <<EOF
{ "zone": "idle",
  "farms": [ { "name": "mx", "balance": "roundrobin", "probe": "smtp",
               "probe-interval": 2, "probe-timeout": 2, "probe-rise": 2, "probe-fall": 2,
               "connect-timeout": 10,
               "servers": [ { "address": "127.0.0.1", "port": $p1, "name": "s1" },
                            { "address": "127.0.0.1", "port": $p2, "name": "s2" } ] } ],
  "frontends": [ { "name": "in", "bind": "$fe_m", "address": ["127.0.0.1"], "farm": "mx",
                   "idle-timeout": 3600 } ] }
EOF
	start_engine "$T_DIR/idle.json" engine-idle || { fail "idle: engine started"; return; }
	local epid=$ENGINE_PID
	hold_idle mxlbd "$fe_m" 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 "$epid"
	m_rss0=$RSS0 m_rss1=$RSS1 m_n=$GREETED
	local m_cur m_fds=$FDS m_secs=$OPEN_SECS m_cpu=$OPEN_CPU m_ov=$OVERFLOWS
	m_cur=$(stat_path frontends.0.counters.sessions_cur)
	note "mxlbd: RSS ${m_rss0} kB before, ${m_rss1} kB with $m_n sessions ($m_cur counted by the engine, $m_fds descriptors)"
	stop_idle
	wait_until 60 eval '[ "$(stat_path frontends.0.counters.sessions_cur)" = 0 ]' ||
		note "mxlbd: sessions still open 60 s after the clients left"
	local m_after
	m_after=$(vm "$epid" VmRSS)
	stop_pid "$epid" TERM 30
	idle_sinks "$p1" "$p2" || return

	cat >"$T_DIR/idle-haproxy.cfg" <<EOF
global
    maxconn $((SESSIONS + 16))
    nbthread 1
defaults
    mode tcp
    timeout connect 10s
    timeout client 1h
    timeout server 1h
    timeout check 2s
frontend in
    bind 127.0.0.1:$fe_h
    maxconn $((SESSIONS + 16))
    default_backend mx
backend mx
    balance roundrobin
    option smtpchk EHLO scale.mxlb.test
    default-server check inter 2s rise 2 fall 2
    server s1 127.0.0.1:$p1
    server s2 127.0.0.1:$p2
EOF
	spawn haproxy-idle haproxy -db -f "$T_DIR/idle-haproxy.cfg"
	local hpid=$SPAWNED_PID
	if ! wait_port 127.0.0.1 "$fe_h" 10; then
		fail "idle: haproxy started" "$(tail -3 "$T_DIR/haproxy-idle.log" | tr '\n' ' ')"
		return
	fi
	hold_idle haproxy "$fe_h" 127.0.0.12,127.0.0.13,127.0.0.14,127.0.0.15 "$hpid"
	h_rss0=$RSS0 h_rss1=$RSS1 h_n=$GREETED
	local h_fds=$FDS h_secs=$OPEN_SECS h_cpu=$OPEN_CPU h_ov=$OVERFLOWS
	note "haproxy: RSS ${h_rss0} kB before, ${h_rss1} kB with $h_n sessions ($h_fds descriptors)"
	stop_idle
	stop_pid "$hpid" TERM 10
	stop_sink "$p1"
	stop_sink "$p2"

	m_per=$(awk -v a="$m_rss0" -v b="$m_rss1" -v n="$m_n" 'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "-" }')
	h_per=$(awk -v a="$h_rss0" -v b="$h_rss1" -v n="$h_n" 'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "-" }')
	local how="VmRSS of the balancer before and with the sessions held (idleconns.py, 2000 conn/s, greeting read, then silent)"
	figure idle "concurrent idle sessions (mxlbd / haproxy)" "$m_n / $h_n" "descriptor limit $LIMIT"
	figure idle "mxlbd RSS before / with sessions / after they left" "$m_rss0 / $m_rss1 / $m_after kB" "$how"
	figure idle "haproxy RSS before / with sessions" "$h_rss0 / $h_rss1 kB" "$how; HAProxy $(haproxy -v | head -1 | cut -d' ' -f3), nbthread 1"
	figure idle "mxlbd memory per idle session" "$m_per bytes" "(with - before) / sessions"
	figure idle "haproxy memory per idle session" "$h_per bytes" "(with - before) / sessions"
	figure idle "ratio mxlbd / haproxy (per session)" \
		"$(awk -v a="$m_per" -v b="$h_per" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" \
		"target: <= 1"
	figure idle "time to open and greet all sessions (mxlbd / haproxy)" "$m_secs / $h_secs s" "paced at 2000/s by the client"
	figure idle "balancer CPU while they opened (mxlbd / haproxy)" "$m_cpu / $h_cpu s" "utime+stime delta"
	figure idle "listen queue overflows while they opened (mxlbd / haproxy)" "$m_ov / $h_ov" "nstat TcpExtListenOverflows delta, whole machine"
}

# ============================================================================
# apply: 1,000 farms, 10,000 servers
# ============================================================================

# gen_big FILE APPLY: the script that builds the big zone (APPLY=1 adds the
# zone apply line).  Servers are spread evenly over the farms.
gen_big() {
	awk -v F="$FARMS" -v S="$SERVERS" -v apply="$2" 'BEGIN {
		per = int(S / F); extra = S % F; k = 0
		for (i = 1; i <= F; i++) {
			printf "farm add f%d zone big probe none balance roundrobin\n", i
			n = per + (i <= extra ? 1 : 0)
			for (j = 1; j <= n; j++) {
				printf "server add f%d 127.%d.%d.%d name s%d port 25\n", i,
				    100 + int(k / 65536), int(k / 256) % 256, k % 256 + 0, j
				k++
			}
		}
		if (apply) print "zone apply big comment \"" F " farms, " S " servers\""
	}' >"$1"
}

# commit_rtt SOCK FARM SERVER WEIGHT: get the running config on the control
# socket, change one server weight, time the commit request to its reply
# (ms, 1 decimal); prints "MS VERSION" or "error ...".
commit_rtt() {
	"$T_PY" - "$@" <<'PY'
import json, socket, sys, time
path, farm, server, weight = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_UNIX)
s.connect(path)
f = s.makefile("rb")
def call(req):
    s.sendall((json.dumps(req) + "\n").encode())
    while True:
        m = json.loads(f.readline())
        if m.get("id") == req["id"]:
            return m
got = call({"id": 1, "cmd": "get"})
cfg, base = got["result"]["config"], got["result"]["running"]
for fa in cfg["farms"]:
    if fa["name"] == farm:
        for sv in fa["servers"]:
            if sv.get("name", sv.get("address")) == server:
                sv["weight"] = weight
t0 = time.perf_counter()
r = call({"id": 2, "cmd": "commit", "base": base, "config": cfg, "comment": "rtt"})
ms = (time.perf_counter() - t0) * 1000
print("%.1f %s" % (ms, r["result"]["version"]) if r.get("ok") else "error %s" % r.get("error"))
PY
}

# load_loop PORT PREFIX STOPFILE: smtpload in 3 s runs until STOPFILE
# exists; each run's summary is appended to PREFIX.summaries and its records
# go to PREFIX.records.N.  (smtpload prints its summary only at the end of
# a run.)
load_loop() {
	local i=0
	while [ ! -e "$3" ]; do
		i=$((i + 1))
		"$T_PY" "$T_PEERS/smtpload.py" 127.0.0.1 "$1" -d 3 -c 2 --pause 0.05 --timeout 20 \
			--log "$2.records.$i" >>"$2.summaries" 2>&1
	done
}

# commit_file_rtt SOCK FILE: commit the config in FILE on the running
# version; prints the round trip of the commit request alone, in ms.
# save_running SOCK FILE: the running config, into FILE.
commit_file_rtt() {
	"$T_PY" - "$@" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
def call(req):
    s.sendall((json.dumps(req) + "\n").encode())
    while True:
        m = json.loads(f.readline())
        if m.get("id") == req["id"]:
            return m
cfg = json.load(open(sys.argv[2]))
base = call({"id": 1, "cmd": "get"})["result"]["running"]
t0 = time.perf_counter()
r = call({"id": 2, "cmd": "commit", "base": base, "config": cfg, "comment": "rtt"})
ms = (time.perf_counter() - t0) * 1000
print("%.1f" % ms if r.get("ok") else "error %s" % r.get("error"))
PY
}
save_running() {
	"$T_PY" - "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"id":1,"cmd":"get"}\n')
m = json.loads(s.makefile("rb").readline())
json.dump(m["result"]["config"], open(sys.argv[2], "w"))
PY
}

part_apply() {
	local fe p1 p2 t0 t_noapply t_apply sh_apply rc
	free_port; fe=$PORT
	free_port; p1=$PORT
	free_port; p2=$PORT
	start_sink "$p1" || { fail "apply: sink $p1"; return; }
	start_sink "$p2" || { fail "apply: sink $p2"; return; }
	cat >"$T_DIR/big.json" <<EOF
{ "zone": "big",
  "farms": [ { "name": "live", "probe": "smtp", "probe-interval": 2, "probe-timeout": 2,
               "servers": [ { "address": "127.0.0.1", "port": $p1, "name": "l1" },
                            { "address": "127.0.0.1", "port": $p2, "name": "l2" } ] } ],
  "frontends": [ { "name": "live", "bind": "$fe", "address": ["127.0.0.1"], "farm": "live" } ] }
EOF
	start_engine "$T_DIR/big.json" big-mxlbd || { fail "apply: engine started"; return; }
	local epid=$ENGINE_PID elog=$ENGINE_LOG
	local rss_small
	sleep 2
	rss_small=$(vm "$epid" VmRSS)
	gen_big "$T_DIR/big-noapply.mxlb" 0
	gen_big "$T_DIR/big.mxlb" 1
	note "apply: script of $(wc -l <"$T_DIR/big.mxlb") lines ($FARMS farms, $SERVERS servers)"

	# Sessions opened before the applies, finished after; and a light load
	# all along.
	spawn apply-slow "$T_PY" "$T_PEERS/slowmail.py" 127.0.0.1 "$fe" --conns 20 \
		--go "$T_DIR/apply-go" --wait 600 --source 127.0.0.6
	local slow_pid=$SPAWNED_PID
	wait_log "$T_DIR/apply-slow.log" "^ready 20$" 10 || note "apply: the 20 long sessions did not all get to RCPT"
	spawn apply-load load_loop "$fe" "$T_DIR/apply-load" "$T_DIR/apply-stop"
	local load_pid=$SPAWNED_PID
	sleep 2

	# Three rounds: back to the small config (on the control socket), the
	# script without the apply, the script with it.  The shell's apply
	# time is the difference of the medians.
	local r noapply=() applied=() ap0 ap1 ap_win=()
	for r in 1 2 3; do
		[ "$r" -gt 1 ] && commit_file_rtt "$MXLB_RUNDIR/big.sock" "$T_DIR/big.json" >/dev/null
		t0=$(now)
		timeout 600 "$MXLB" <"$T_DIR/big-noapply.mxlb" >"$T_DIR/big-noapply.out" 2>&1
		rc=$?
		noapply+=("$(ms_since "$t0")")
		[ "$rc" = 3 ] || note "apply: the script without the apply exited $rc, not 3"
		ap0=$(now)
		timeout 600 "$MXLB" <"$T_DIR/big.mxlb" >"$T_DIR/big-apply.out" 2>&1
		rc=$?
		applied+=("$(ms_since "$ap0")")
		ap1=$(now)
		ap_win+=("$ap0:$ap1")
		note "apply round $r: without ${noapply[r-1]} ms, with ${applied[r-1]} ms, exit $rc: $(tr '\n' ' ' <"$T_DIR/big-apply.out")"
		[ "$rc" = 0 ] && ok "apply: $FARMS farms and $SERVERS servers applied (round $r)" ||
			fail "apply: $FARMS farms and $SERVERS servers applied (round $r)" "exit $rc"
	done
	t_noapply=$(median "${noapply[@]}")
	t_apply=$(median "${applied[@]}")
	sh_apply=$((t_apply - t_noapply))
	local rss_big hwm_big
	sleep 1
	rss_big=$(vm "$epid" VmRSS)
	hwm_big=$(vm "$epid" VmHWM)

	# One edit on the big zone, from the shell: with and without the apply.
	local e0 e1 d i edit_noapply=() edit_apply=() edit_diff=() rtt=() w
	for i in 1 2 3 4 5; do
		w=$((i + 1))
		t0=$(now)
		timeout 120 "$MXLB" -c "server set f1 s1 weight $w" >/dev/null 2>&1
		e0=$(ms_since "$t0")
		t0=$(now)
		timeout 120 "$MXLB" -c "server set f1 s1 weight $w; zone apply big comment edit$i" \
			>"$T_DIR/edit$i.out" 2>&1
		e1=$(ms_since "$t0")
		edit_noapply+=("$e0")
		edit_apply+=("$e1")
		edit_diff+=("$((e1 - e0))")
	done
	for i in 1 2 3; do
		rtt+=("$(commit_rtt "$MXLB_RUNDIR/big.sock" f1 s1 $((10 + i)) | cut -d' ' -f1)")
	done
	# The whole big zone in one commit on the control socket, both ways:
	# down to the small config (10,000 servers removed), then up again.
	local rtt_down=() rtt_up=()
	save_running "$MXLB_RUNDIR/big.sock" "$T_DIR/big-running.json"
	for i in 1 2 3; do
		rtt_down+=("$(commit_file_rtt "$MXLB_RUNDIR/big.sock" "$T_DIR/big.json")")
		rtt_up+=("$(commit_file_rtt "$MXLB_RUNDIR/big.sock" "$T_DIR/big-running.json")")
	done

	# 50 more commits of the big zone: the engine keeps the last 50
	# versions (HISTORY_MAX), so this is its RSS with a full history.
	local rss_hist hwm_hist
	for i in $(seq 1 50); do
		commit_rtt "$MXLB_RUNDIR/big.sock" f2 s1 $((i % 5 + 1)) >/dev/null
	done
	sleep 1
	rss_hist=$(vm "$epid" VmRSS)
	hwm_hist=$(vm "$epid" VmHWM)

	# The long sessions finish now; then the load's last seconds.
	touch "$T_DIR/apply-go"
	wait_until 30 t_gone "$slow_pid"
	local slow
	slow=$(tail -1 "$T_DIR/apply-slow.log")
	touch "$T_DIR/apply-stop"
	wait_until 30 t_gone "$load_pid" || note "apply: the load did not stop"
	local sent delivered during bad sinks
	sent=$(awk '/^sent=/ { split($1, a, "="); n += a[2] } END { print n + 0 }' "$T_DIR/apply-load.summaries")
	delivered=$(awk '/^sent=/ { split($2, a, "="); n += a[2] } END { print n + 0 }' "$T_DIR/apply-load.summaries")
	# Messages in flight while the big apply ran (started before its end,
	# ended after its start), and how they ended.
	during=$(cat "$T_DIR"/apply-load.records.* 2>/dev/null | awk -v w="${ap_win[*]}" '
		BEGIN { nw = split(w, win, " "); for (i = 1; i <= nw; i++) { split(win[i], x, ":"); a[i] = x[1]; b[i] = x[2] } }
		{ for (i = 1; i <= nw; i++) if ($1 <= b[i] && $2 >= a[i]) { n++; if ($3 == "delivered") d++; break } }
		END { printf "%d in flight, %d delivered", n, d }')
	bad=$(grep -E " session .* frontend=live " "$elog" | grep -vcE "end=closed$")
	wait_until 5 eval '[ $(( $(sink_count "$p1") + $(sink_count "$p2") )) -ge $((delivered + 20)) ]'
	sinks=$(( $(sink_count "$p1") + $(sink_count "$p2") ))
	stop_pid "$epid" TERM 30

	figure apply "zone size" "$FARMS farms, $SERVERS servers" "probe none; script $T_DIR/big.mxlb, $(wc -l <"$T_DIR/big.mxlb") lines"
	figure apply "mxlb < script without / with zone apply" "$t_noapply / $t_apply ms (median of 3; runs: ${noapply[*]} / ${applied[*]})" "wall time of timeout 600 mxlb < FILE, from the small config each time"
	figure apply "zone apply of the big zone, shell to acknowledgement" "$sh_apply ms" "difference of the medians; target < 500 ms"
	figure apply "one edit on the big zone: mxlb -c 'server set f1 s1 weight N' / '...; zone apply big'" \
		"$(median "${edit_noapply[@]}") / $(median "${edit_apply[@]}") ms (median of 5)" "wall time"
	figure apply "zone apply of one edit on the big zone, shell" "$(median "${edit_diff[@]}") ms (runs: ${edit_diff[*]})" "difference, per run"
	figure apply "commit round trip on the control socket (big zone, one weight changed)" \
		"$(median "${rtt[@]}") ms (runs: ${rtt[*]})" "get, edit, then time commit -> reply (python, tests/bench/scale.sh commit_rtt)"
	figure apply "commit round trip on the control socket: the small config -> the big one (10,000 servers added)" \
		"$(median "${rtt_up[@]}") ms (runs: ${rtt_up[*]})" "the running config saved after the shell's apply, committed whole"
	figure apply "commit round trip on the control socket: the big config -> the small one (10,000 servers removed)" \
		"$(median "${rtt_down[@]}") ms (runs: ${rtt_down[*]})" "the start config committed whole"
	figure apply "engine RSS with the small zone / after the big apply (peak)" "$rss_small / $rss_big kB ($hwm_big kB)" "VmRSS, VmHWM"
	figure apply "engine RSS after 50 more commits of the big zone (peak)" "$rss_hist kB ($hwm_hist kB)" \
		"the last 50 versions are kept (HISTORY_MAX); a saved version (config-N.json) is $(stat -c %s "$(ls -t "$MXLB_STATEDIR"/big/config-*.json | head -1)" 2>/dev/null) bytes"
	figure apply "light load through frontend live, all along" \
		"sent=$sent delivered=$delivered; engine log: $bad sessions not ended normally" \
		"smtpload -c 2 --pause 0.05 in 3 s runs"
	figure apply "... messages in flight during the 3 big applies" "$during" "smtpload records overlapping an apply"
	figure apply "sessions opened before, DATA after the applies" "$slow" "slowmail.py --conns 20"
	figure apply "messages at the sinks (load + the 20)" "$sinks (expected $((delivered + 20)))" "sink dump files"
}

# ============================================================================
# soak: steady load, commits, backend restarts, RSS series
# ============================================================================

# restart_backend FARM SERVER PORT: drain, wait for its sessions to end,
# restart its smtp-sink, ready.
restart_backend() {
	timeout 60 "$MXLB" -c "server drain $1 $2 wait 30" >>"$T_DIR/restarts.out" 2>&1 || return 1
	stop_sink "$3"
	start_sink "$3" || return 1
	timeout 30 "$MXLB" -c "server ready $1 $2" >>"$T_DIR/restarts.out" 2>&1
}

part_soak() {
	local fe p1 p2 t_end k=0 w series=() commits=0 commit_ok=0 commit_ms=() restarts=0 restart_ok=0
	free_port; fe=$PORT
	free_port; p1=$PORT
	free_port; p2=$PORT
	start_sink "$p1" || { fail "soak: sink $p1"; return; }
	start_sink "$p2" || { fail "soak: sink $p2"; return; }
	local ports=("" "$p1" "$p2")
	cat >"$T_DIR/soak.json" <<EOF
{ "zone": "soak",
  "farms": [ { "name": "mx", "probe": "smtp", "probe-interval": 2, "probe-timeout": 2,
               "probe-rise": 2, "probe-fall": 2, "connect-timeout": 2,
               "servers": [ { "address": "127.0.0.1", "port": $p1, "name": "s1" },
                            { "address": "127.0.0.1", "port": $p2, "name": "s2" } ] } ],
  "frontends": [ { "name": "in", "bind": "$fe", "address": ["127.0.0.1"], "farm": "mx" } ] }
EOF
	start_engine "$T_DIR/soak.json" soak-mxlbd || { fail "soak: engine started"; return; }
	local epid=$ENGINE_PID elog=$ENGINE_LOG
	sleep 2
	note "soak: $SOAK s"
	spawn soak-load "$T_PY" "$T_PEERS/smtpload.py" 127.0.0.1 "$fe" -d "$SOAK" -c 4 --pause 0.02 \
		--timeout 30 --log "$T_DIR/soak.records"
	local load_pid=$SPAWNED_PID
	local c0 t_start
	c0=$(cpu_ticks "$epid")
	t_start=$(now)
	t_end=$(($(date +%s) + SOAK))
	while [ "$(date +%s)" -lt "$t_end" ]; do
		local tick_start
		tick_start=$(now)
		series+=("$(vm "$epid" VmRSS)")
		k=$((k + 1))
		w=$((k % 2 + 1))
		commits=$((commits + 1))
		local t0
		t0=$(now)
		if timeout 60 "$MXLB" -c "server set mx s1 weight $w; zone apply soak comment tick$k" \
			>>"$T_DIR/commits.out" 2>&1; then
			commit_ok=$((commit_ok + 1))
		fi
		commit_ms+=("$(ms_since "$t0")")
		# Every sixth tick (a minute), a backend restart, s1 and s2 in turn.
		if [ $((k % 6)) = 3 ]; then
			local sn=$(((k / 6) % 2 + 1))
			restarts=$((restarts + 1))
			restart_backend mx "s$sn" "${ports[$sn]}" && restart_ok=$((restart_ok + 1))
		fi
		# The rest of the 10 s.
		local left
		left=$(awk -v a="$(now)" -v b="$tick_start" 'BEGIN { l = 10 - (a - b); print (l > 0 ? l : 0) }')
		sleep "$left"
	done
	wait_until 60 t_gone "$load_pid" || note "soak: the load did not end in time"
	local c1 secs
	c1=$(cpu_ticks "$epid")
	secs=$(fsub "$(now)" "$t_start")
	series+=("$(vm "$epid" VmRSS)")
	local sum sent delivered sinks
	sum=$(tail -1 "$T_DIR/soak-load.log")
	sent=$(kv sent "$sum")
	delivered=$(kv delivered "$sum")
	wait_until 5 eval '[ $(( $(sink_count "$p1") + $(sink_count "$p2") )) -ge "${delivered:-0}" ]'
	sinks=$(( $(sink_count "$p1") + $(sink_count "$p2") ))
	local downs
	downs=$(log_count "$elog" " probe .*state=down")
	local hwm
	hwm=$(vm "$epid" VmHWM)
	stop_pid "$epid" TERM 30

	figure soak "duration, load" "$SOAK s; smtpload -c 4 --pause 0.02" "SCALE_SOAK_SECONDS"
	figure soak "messages" "$sum" "smtpload summary"
	figure soak "every message delivered" "$([ "$sent" = "$delivered" ] && [ "$sinks" = "$delivered" ] && echo yes || echo NO) (sinks: $sinks)" "sent = delivered = at the sinks"
	figure soak "commits (every 10 s)" "$commit_ok of $commits ok; median $(median "${commit_ms[@]}") ms, max $(printf '%s\n' "${commit_ms[@]}" | sort -n | tail -1) ms" "mxlb -c 'server set mx s1 weight N; zone apply soak'"
	figure soak "backend restarts (every minute)" "$restart_ok of $restarts ok; $downs probe down events" "drain wait 30, smtp-sink restart, ready"
	figure soak "engine CPU" "$(awk -v d=$((c1 - c0)) -v t="$TICK" -v s="$secs" 'BEGIN { printf "%.1f %% of one CPU", d / t / s * 100 }')" "utime+stime delta"
	figure soak "RSS every 10 s (kB)" "${series[*]}" "VmRSS"
	figure soak "RSS first / last / max / peak (kB)" \
		"${series[0]} / ${series[${#series[@]}-1]} / $(printf '%s\n' "${series[@]}" | sort -n | tail -1) / $hwm" \
		"flat = no leak"
	if [ "${#series[@]}" -ge 4 ]; then
		figure soak "RSS growth, second half of the run" "$(printf '%s\n' "${series[@]}" | awk '
			{ v[NR] = $1 } END { h = int(NR / 2) + 1; printf "%+d kB (%d -> %d)", v[NR] - v[h], v[h], v[NR] }')" \
			"last sample minus the middle one"
	fi
}

# ============================================================================
# valgrind
# ============================================================================

part_valgrind() {
	command -v valgrind >/dev/null || { fail "valgrind is not installed"; return; }
	local fe fs p1 p2 dead
	free_port; fe=$PORT
	free_port; fs=$PORT
	free_port; p1=$PORT
	free_port; p2=$PORT
	free_port; dead=$PORT	# nothing listens here
	start_sink "$p1" || { fail "valgrind: sink $p1"; return; }
	start_sink "$p2" || { fail "valgrind: sink $p2"; return; }
	local ports=("" "$p1" "$p2")
	cat >"$T_DIR/vg.json" <<EOF
{ "zone": "vg",
  "farms": [ { "name": "mx", "probe": "smtp", "probe-interval": 2, "probe-timeout": 2,
               "probe-rise": 2, "probe-fall": 2, "connect-timeout": 2, "queue-timeout": 5,
               "servers": [ { "address": "127.0.0.1", "port": $p1, "name": "s1", "maxconn": 2 },
                            { "address": "127.0.0.1", "port": $p2, "name": "s2" },
                            { "address": "127.0.0.1", "port": $dead, "name": "dead" } ] } ],
  "frontends": [ { "name": "in", "bind": "$fe", "address": ["127.0.0.1"], "farm": "mx",
                   "source-maxconn": 4, "source-rate": 100000 },
                 { "name": "slow", "bind": "$fs", "address": ["127.0.0.1"], "farm": "mx",
                   "idle-timeout": 2, "source-maxconn": 3, "source-rate": 20 } ] }
EOF
	cat >"$T_DIR/mxlbd-valgrind" <<EOF
#!/bin/sh
exec valgrind --leak-check=full --error-exitcode=99 --log-file="$T_DIR/valgrind.out" "$REAL_MXLBD" "\$@"
EOF
	chmod +x "$T_DIR/mxlbd-valgrind"
	MXLBD=$T_DIR/mxlbd-valgrind
	start_engine "$T_DIR/vg.json" vg-mxlbd
	local started=$?
	MXLBD=$REAL_MXLBD
	[ "$started" = 0 ] || { fail "valgrind: engine started under valgrind"; return; }
	local epid=$ENGINE_PID elog=$ENGINE_LOG
	sleep 3
	note "valgrind: $VG_SECS s"
	spawn vg-load "$T_PY" "$T_PEERS/smtpload.py" 127.0.0.1 "$fe" -d "$VG_SECS" -c 2 --pause 0.2 \
		--timeout 30
	local load_pid=$SPAWNED_PID
	local t_end=$(($(date +%s) + VG_SECS)) k=0 restarted=0
	while [ "$(date +%s)" -lt "$t_end" ]; do
		k=$((k + 1))
		timeout 60 "$MXLB" -c "server set mx s2 weight $((k % 3 + 1)); zone apply vg comment vg$k" \
			>>"$T_DIR/vg-commits.out" 2>&1
		case $((k % 4)) in
		1) "$T_PY" "$T_PEERS/slowloris.py" silent 127.0.0.1 "$fs" --conns 3 --secs 5 \
			--source 127.0.0.7 >>"$T_DIR/vg-hostile.out" 2>&1 & ;;
		2) "$T_PY" "$T_PEERS/flood.py" 127.0.0.1 "$fs" --source 127.0.0.8 --conns 30 --conc 10 \
			--hold 1 >>"$T_DIR/vg-hostile.out" 2>&1 & ;;
		3) "$T_PY" "$T_PEERS/hostile.py" garbage 127.0.0.1 "$fe" --repeat 2 --source 127.0.0.9 \
			>>"$T_DIR/vg-hostile.out" 2>&1 &
		   "$T_PY" "$T_PEERS/hostile.py" middata 127.0.0.1 "$fe" --repeat 2 --source 127.0.0.10 \
			>>"$T_DIR/vg-hostile.out" 2>&1 & ;;
		esac
		if [ "$restarted" = 0 ] && [ $(($(date +%s) + VG_SECS / 2)) -ge "$t_end" ]; then
			restarted=1
			restart_backend mx s1 "$p1" || note "valgrind: the backend restart failed"
		fi
		sleep 10
	done
	wait_until 60 t_gone "$load_pid"
	wait
	local sum
	sum=$(tail -1 "$T_DIR/vg-load.log")
	# TERM: the engine lets sessions finish, then exits; valgrind writes its
	# report (the leak check takes a while).
	kill -TERM "$epid"
	wait_until 120 t_gone "$epid" || { fail "valgrind: the engine ended after TERM"; stop_pid "$epid" KILL; }
	local lost errors reach
	lost=$(grep -E "definitely lost:" "$T_DIR/valgrind.out" | sed 's/.*definitely lost: //')
	reach=$(grep -E "still reachable:" "$T_DIR/valgrind.out" | sed 's/.*still reachable: //')
	errors=$(grep -E "ERROR SUMMARY:" "$T_DIR/valgrind.out" | tail -1 | sed 's/.*ERROR SUMMARY: //')
	[ -n "$lost" ] || lost=$(grep -q "All heap blocks were freed" "$T_DIR/valgrind.out" && echo "0 bytes (all heap blocks freed)")
	cp "$T_DIR/valgrind.out" "$T_DIR/valgrind-report.txt"
	figure valgrind "run" "$VG_SECS s; $sum; $k commits, 1 backend restart, hostile clients" "valgrind --leak-check=full --error-exitcode=99"
	figure valgrind "definitely lost" "${lost:-?}" "valgrind report"
	figure valgrind "still reachable" "${reach:-0}" "valgrind report"
	figure valgrind "errors" "${errors:-?}" "ERROR SUMMARY"
	figure valgrind "sessions logged" "$(log_count "$elog" " session ")" "engine log"
}

want idle && part_idle
want apply && part_apply
want soak && part_soak
want valgrind && part_valgrind

{
	echo
	echo "mxlb scale figures, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, descriptor limit $LIMIT"
	echo
	echo "| part | what | figure | how |"
	echo "|---|---|---|---|"
	cat "$T_DIR/figures"
	echo
} >&3
# The valgrind report survives the temp dir.
if [ -f "$T_DIR/valgrind-report.txt" ]; then
	cp "$T_DIR/valgrind-report.txt" "${TMPDIR:-/tmp}/mxlb-scale-valgrind.txt" &&
		echo "valgrind report: ${TMPDIR:-/tmp}/mxlb-scale-valgrind.txt" >&3
fi

finish
