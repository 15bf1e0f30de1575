# tests/lib.sh: sourced by every integration suite (bash).
#
#   . "$(dirname "$0")/../lib.sh"
#   ok NAME | fail NAME WHY | check NAME CMD... | finish
#
# A suite gets a private temp dir ($T_DIR), a private port range (free_port),
# and an EXIT trap that kills, by PID, every process it started (spawn,
# start_engine, start_sink) and runs the at_exit hooks (Postfix
# instances).  Every wait is bounded.  The last line a suite prints
# is exactly "N passed, N failed"; the exit status is non-zero on failures.
# The temp dir is removed after a clean run, kept (and named) after a failed
# one or when MXLB_KEEP is set.

set -u

T_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T_NAME=$(basename "$0" .sh)
MXLBD=${MXLBD:-$T_TOP/build/mxlbd}
# The interpreter itself, resolved once: a version manager's shim (pyenv)
# costs a shell start on every call.
T_PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || T_PY=python3
T_PASS=0
T_FAIL=0
T_FINISHED=0
T_PIDS=()		# every process spawned, killed in reverse order
T_HOOKS=()		# commands run at exit, in reverse order

# The suite's temp dir: readable by the unprivileged users our peers switch to
# (smtp-sink -u nobody, Postfix's daemons), writable by root only.
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mxlb-$T_NAME.XXXXXX") || exit 1
chmod 755 "$T_DIR"
# Engines look for their control socket and state here, not in /run/mxlb.
export MXLB_RUNDIR="$T_DIR/run" MXLB_STATEDIR="$T_DIR/state"
mkdir -p "$MXLB_RUNDIR" "$MXLB_STATEDIR"

# A private range of 100 ports per suite, below the ephemeral range
# (32768-60999 on Linux) so a client socket never sits on a test port.
if [ -n "${MXLB_PORT_BASE:-}" ]; then
	T_PORT_BASE=$MXLB_PORT_BASE
else
	T_PORT_BASE=$((10000 + ($(printf %s "$T_NAME" | cksum | cut -d' ' -f1) % 220) * 100))
fi
T_PORT_NEXT=$T_PORT_BASE

# --- results --------------------------------------------------------------

ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok - $1"
}

fail() {
	T_FAIL=$((T_FAIL + 1))
	echo "FAIL - $1: ${2:-}"
}

# check NAME CMD...: ok when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "failed: $*"; fi
}

# check_eq NAME EXPECTED GOT
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

# note TEXT: context for whoever reads the output; not a result.
note() {
	echo "# $*"
}

# die WHY: a precondition failed; the rest of the suite cannot run.
die() {
	fail "$T_NAME" "$1"
	finish
}

# A sanitizer build (make test's second pass) writes its reports into the
# engine's log: any report fails the suite.
t_sanitizer_reports() {
	local f
	for f in "$T_DIR"/*.log; do
		[ -f "$f" ] || continue
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$f"; then
			fail sanitizer "report in $(basename "$f"):"
			grep -E -A8 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:' \
			    "$f" | head -20 | sed 's/^/#   /'
		fi
	done
}

finish() {
	T_FINISHED=1
	t_cleanup
	t_sanitizer_reports
	if [ "$T_FAIL" -gt 0 ] && [ -n "${ENGINE_LOG:-}" ] && [ -s "$ENGINE_LOG" ]; then
		echo "# last lines of $ENGINE_LOG:"
		tail -15 "$ENGINE_LOG" | sed 's/^/#   /'
	fi
	if [ "$T_FAIL" -gt 0 ] || [ -n "${MXLB_KEEP:-}" ]; then
		echo "# logs kept in $T_DIR"
	else
		rm -rf "$T_DIR"
	fi
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ] && exit 0
	exit 1
}

# --- processes ------------------------------------------------------------

# spawn NAME CMD...: start CMD in the background, stdout and stderr to
# $T_DIR/NAME.log; sets SPAWNED_PID.
spawn() {
	local name=$1
	shift
	"$@" >"$T_DIR/$name.log" 2>&1 </dev/null &
	SPAWNED_PID=$!
	# Out of the job table, so bash does not print "Killed" when we kill
	# it; we never wait for a status, alive/t_gone poll the PID.
	disown "$SPAWNED_PID"
	T_PIDS+=("$SPAWNED_PID")
}

# alive PID: running (a zombie, exited but not yet reaped, is not).
alive() {
	! t_gone "$1"
}

# stop_pid PID [SIGNAL [SECS]]: signal PID, wait at most SECS (default 5)
# for it to end, then SIGKILL it.
stop_pid() {
	local pid=$1 sig=${2:-TERM} secs=${3:-5}
	t_gone "$pid" && return 0
	kill -s "$sig" "$pid" 2>/dev/null
	wait_until "$secs" t_gone "$pid" && return 0
	kill -s KILL "$pid" 2>/dev/null
	wait_until 2 t_gone "$pid"
	return 0
}

# t_gone PID: no such process, or a zombie (kill -0 still succeeds on a
# child that has exited but is not yet reaped).
t_gone() {
	local st
	kill -0 "$1" 2>/dev/null || return 0
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
	[ "${st%% *}" = Z ]
}

# at_exit CMD...: run CMD (as one string, eval'd) when the suite ends.
at_exit() {
	T_HOOKS+=("$*")
}

t_cleanup() {
	local i pid
	for ((i = ${#T_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${T_PIDS[i]}
		stop_pid "$pid" TERM 5
	done
	T_PIDS=()
	for ((i = ${#T_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${T_HOOKS[i]}" >/dev/null 2>&1
	done
	T_HOOKS=()
}

t_on_exit() {
	local rc=$?
	[ "$T_FINISHED" = 1 ] && return
	# The suite ended without calling finish (a crash or an interrupt): count
	# it, clean up, and still print the summary line.
	T_FINISHED=1
	fail "$T_NAME" "suite ended before finish (status $rc)"
	t_cleanup
	echo "# logs kept in $T_DIR"
	echo "$T_PASS passed, $T_FAIL failed"
	exit 1
}
trap t_on_exit EXIT
trap 'exit 130' INT TERM HUP

# --- bounded waits --------------------------------------------------------

# wait_until SECS CMD...: poll CMD every 0.1 s until it succeeds (0) or SECS
# pass (1).
wait_until() {
	local end
	end=$(($(date +%s%N) / 1000000 + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')))
	shift
	while :; do
		"$@" && return 0
		[ $(($(date +%s%N) / 1000000)) -ge "$end" ] && return 1
		sleep 0.1
	done
}

# listening HOST PORT: something listens on HOST:PORT, or on the wildcard
# address of HOST's family (asked of the kernel, so no connection is made
# and no session is logged).
listening() {
	local h=$1 wild='0.0.0.0'
	case $h in *:*) h="[$h]"; wild='[::]' ;; esac
	ss -Hltn "sport = :$2" 2>/dev/null | awk -v a="$h:$2" -v w="$wild:$2" -v s="*:$2" \
		'$4 == a || $4 == w || $4 == s || $4 == "[::]:" substr(s, 3) { f = 1 } END { exit !f }'
}

wait_port() {
	wait_until "$3" listening "$1" "$2"
}

wait_port_closed() {
	wait_until "$3" t_not_listening "$1" "$2"
}

t_not_listening() {
	! listening "$1" "$2"
}

# log_has FILE REGEX (extended regex)
log_has() {
	grep -Eq -- "$2" "$1" 2>/dev/null
}

wait_log() {
	wait_until "$3" log_has "$1" "$2"
}

# log_count FILE REGEX: number of matching lines.
log_count() {
	local n
	n=$(grep -Ec -- "$2" "$1" 2>/dev/null)
	echo "${n:-0}"
}

# --- ports ----------------------------------------------------------------

t_port_used() {
	[ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ] ||
		[ -n "$(ss -Huan "sport = :$1" 2>/dev/null)" ]
}

# free_port: sets PORT to the next port of the suite's range that nothing
# uses.  Call it directly, not in $(...): a subshell cannot advance the
# range, so two calls would return the same port.
free_port() {
	while t_port_used "$T_PORT_NEXT"; do
		T_PORT_NEXT=$((T_PORT_NEXT + 1))
	done
	[ "$T_PORT_NEXT" -lt $((T_PORT_BASE + 100)) ] || die "no free port in $T_PORT_BASE-$((T_PORT_BASE + 99))"
	PORT=$T_PORT_NEXT
	T_PORT_NEXT=$((T_PORT_NEXT + 1))
}

# free_ports NAME...: a free_port for each NAME, set to it.
free_ports() {
	local v
	for v; do
		free_port
		printf -v "$v" %s "$PORT"
	done
}

# --- the engine -------------------------------------------------------------

# zone_config FILE ZONE [farm NAME K=V...] [server NAME PORT K=V...]
#     [frontend NAME BIND K=V...]...: write a zone's config to FILE from a
# compact description (tests/peers/zoneconf.py says it all): servers belong
# to the farm before them, on 127.0.0.1 unless address=...; a frontend is on
# 127.0.0.1 in front of the last farm unless address=... or farm=... say
# otherwise; values that read as JSON (2, true) are that, others strings.
zone_config() {
	"$T_PY" "$T_TOP/tests/peers/zoneconf.py" "$@"
}

# The SMTP probe of the usual test farm: every second, down after 2
# failures, up after 2 successes (for zone_config's farm).
T_SMTP_PROBE=(probe=smtp probe-interval=1 probe-timeout=2 probe-rise=2
	probe-fall=2 connect-timeout=2)

# two_sink_config ZONE FILE [FRONTEND-KEYS]: the usual test zone, written to
# FILE: frontend "in" on 127.0.0.1:$FE in front of farm "mx" (T_SMTP_PROBE)
# with servers s1 on $P1 and s2 on $P2, the three ports taken with
# free_port.  FRONTEND-KEYS is more JSON for the frontend, as
# '"idle-timeout": 3'.
two_sink_config() {
	local zone=$1 file=$2 extra=()
	free_ports FE P1 P2
	# '"a": 1, "b": "x"' as a=1 b=x
	[ -n "${3:-}" ] && mapfile -t extra < <("$T_PY" -c '
import json, sys
for k, v in json.loads("{" + sys.argv[1] + "}").items():
    print("%s=%s" % (k, v if isinstance(v, str) else json.dumps(v)))' "$3")
	zone_config "$file" "$zone" farm mx "${T_SMTP_PROBE[@]}" \
		server s1 "$P1" server s2 "$P2" frontend in "$FE" "${extra[@]}"
}

# sink_zone ZONE: ZONE running from $T_DIR/ZONE.json: frontend "in" on
# 127.0.0.1:$FE in front of farm "mx" (no probe), its one server mx1 an
# smtp-sink on $SRV; the two ports taken with free_port.  Dies if any of it
# does not start.
sink_zone() {
	free_ports FE SRV
	start_sink "$SRV" || die "smtp-sink on $SRV did not start"
	zone_config "$T_DIR/$1.json" "$1" farm mx probe=none server mx1 "$SRV" frontend in "$FE"
	start_engine "$T_DIR/$1.json" || die "engine $1 did not start"
}

# json_get FILE KEY: a top-level string of a JSON file.
json_get() {
	"$T_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# start_engine CONF [NAME [ENGINE-ARGS...]]: run mxlbd -f on CONF (-c, its
# zone read from it), with ENGINE-ARGS after, log to $T_DIR/NAME.log
# (default engine), wait for its "ready" line.  CONF as "-z ZONE": the zone
# without -c (what its state holds, or nothing).  Sets ENGINE_PID and
# ENGINE_LOG.  Returns 1 if it is not ready in 10 s.  Variables given before
# the call (MXLB_RUNDIR=... start_engine ...) are in the engine's environment;
# ENGINE_WRAP (an array) is a command it runs under (ip netns exec NS).
ENGINE_WRAP=()
start_engine() {
	local conf=$1 name=${2:-engine} zone cf=()
	if [ "$conf" = -z ]; then
		zone=$2 name=${3:-engine}
		shift
	else
		zone=$(json_get "$conf" zone) || return 1
		cf=(-c "$conf")
	fi
	shift $(($# < 2 ? $# : 2))
	[ -x "$MXLBD" ] || { echo "# no engine at $MXLBD (run make)"; return 1; }
	spawn "$name" "${ENGINE_WRAP[@]}" "$MXLBD" -z "$zone" "${cf[@]}" -f "$@"
	ENGINE_PID=$SPAWNED_PID
	ENGINE_LOG=$T_DIR/$name.log
	if ! wait_log "$ENGINE_LOG" " ready zone=$zone( |$)" 10; then
		echo "# engine not ready in 10 s; its log:"
		sed 's/^/#   /' "$ENGINE_LOG" | tail -20
		return 1
	fi
}

# t_stats ZONE PYTHON ARGS...: run PYTHON with r, the zone's stats reply's
# result (the engine's control socket), and a = ARGS; its exit status.
t_stats() {
	local zone=$1 code=$2
	shift 2
	"$T_PY" "$T_PEERS/ctl.py" "$MXLB_RUNDIR/$zone.sock" '{"id":1,"cmd":"stats"}' 2>/dev/null |
		"$T_PY" -c 'import json, sys
r, a = json.load(sys.stdin)["result"], sys.argv[2:]
'"$code" - "$@" 2>/dev/null
}

# servers_are ZONE STATE: every server of the zone is in STATE (the probe's
# verdict: unchecked, up, down, nolb), as the engine's stats say.
servers_are() {
	t_stats "$1" 'st = [s["state"] for f in r["farms"] for s in f["servers"]]
sys.exit(not st or any(x != a[0] for x in st))' "$2"
}

# sessions_cur ZONE frontend|farm NAME: the sessions it has now; for a
# server, farm FARM/SERVER.
sessions_cur() {
	t_stats "$1" 'k, n = a
f, _, sv = n.partition("/")
o = [x for x in r[k + "s"] if x["name"] == f][0]
if sv:
    o = [x for x in o["servers"] if x["name"] == sv][0]
print(o["counters"]["sessions_cur"])' "$2" "$3"
}

# vm PID FIELD: a field of /proc/PID/status (VmRSS, VmHWM...), in kB.
vm() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# mxlbd_lowfd LIMIT: from now on MXLBD is a wrapper that runs the engine
# with a soft and hard limit of LIMIT descriptors; exec keeps the PID that
# start_engine sees.
mxlbd_lowfd() {
	printf '#!/bin/sh\nulimit -Sn %s && ulimit -Hn %s || exit 1\nexec "%s" "$@"\n' \
		"$1" "$1" "$MXLBD" >"$T_DIR/mxlbd-lowfd"
	chmod +x "$T_DIR/mxlbd-lowfd"
	MXLBD=$T_DIR/mxlbd-lowfd
}

# --- smtp-sink --------------------------------------------------------------

# Every message a sink accepts ("." answered 250) is appended to its dump
# file, preceded by this line; aborted transactions are not written (checked
# with Postfix 3.7's smtp-sink), so the count of this line is the count of
# messages delivered to that sink.
T_SINK_MARK='X-MXLB-Sink: delivered'

# start_sink PORT [SMTP-SINK-OPTIONS...]: smtp-sink on 127.0.0.1:PORT.
# Sets SINK_PID; the PID is also kept per port in SINK_PIDS[PORT].
# SINK_NODUMP=1: no dump file (the benchmark: counting costs disk writes).
# SINK_BACKLOG: its listen queue (1024; the kernel caps it at somaxconn).
declare -A SINK_PIDS=()
start_sink() {
	local port=$1 dir=$T_DIR/sink-$1 dump user
	shift
	mkdir -p "$dir"
	# smtp-sink refuses to run as root without -u; it drops to nobody after
	# binding, so its dump directory belongs to nobody.
	user=()
	if [ "$(id -u)" = 0 ]; then
		user=(-u nobody)
		chown nobody "$dir"
	fi
	dump=(-D "$dir/dump" -S "$T_SINK_MARK\n")
	[ "${SINK_NODUMP:-0}" = 1 ] && dump=()
	spawn "sink-$port" smtp-sink "${user[@]}" "${dump[@]}" -m 512 \
		"$@" "127.0.0.1:$port" "${SINK_BACKLOG:-1024}"
	SINK_PID=$SPAWNED_PID
	SINK_PIDS[$port]=$SINK_PID
	wait_port 127.0.0.1 "$port" 5
}

# sink_count PORT: messages delivered to the sink on PORT so far (over all
# its restarts: the dump file is appended to).
sink_count() {
	local n
	n=$(grep -cxF -- "$T_SINK_MARK" "$T_DIR/sink-$1/dump" 2>/dev/null)
	echo "${n:-0}"
}

# stop_sink PORT [SIGNAL]
stop_sink() {
	stop_pid "${SINK_PIDS[$1]}" "${2:-TERM}" 5
}

# --- clients ----------------------------------------------------------------

# mx_hostname: the name mxlbd's 421 line carries by default, as the engine
# finds it: the FQDN (the canonical name of `hostname`) when it has a dot,
# else the short name.
mx_hostname() {
	local f
	f=$(hostname --fqdn 2>/dev/null)
	case $f in *.*) echo "$f" ;; *) hostname ;; esac
}

# The line a client reads when the engine refuses it (no server, a limit).
LINE421="421 4.3.2 $(mx_hostname) Service not available, try again later"

# expect_421 NAME PORT [SOURCE]: one connection to 127.0.0.1:PORT (from
# SOURCE) reads exactly LINE421, then the close.
expect_421() {
	local out=$T_DIR/got.$RANDOM how
	how=$(tcp_read 127.0.0.1 "$2" 8 "$out" "${3:-}")
	if printf '%s\r\n' "$LINE421" | cmp -s - "$out" && [ "$how" = eof ]; then
		ok "$1: exact 421 line, then closed"
	else
		fail "$1" "expected '$LINE421\\r\\n' then eof; got $(od -An -c "$out" | tr -s ' ' | head -c 200) then $how"
	fi
}

T_PEERS=$T_TOP/tests/peers

# The benchmarks' median, for their awk tables: awk "$T_AWK_MEDIAN"'...'.
T_AWK_MEDIAN='
function median(arr, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
	return arr[int((n + 1) / 2)]
}
'

# smtpload ARGS...: the per-message SMTP load client (tests/peers/smtpload.py).
smtpload() {
	"$T_PY" "$T_PEERS/smtpload.py" "$@"
}

# kv KEY LINE: the value of KEY=VALUE in a logfmt LINE (quotes removed).
kv() {
	local k=$1 line=$2 v
	v=$(printf '%s\n' "$line" | grep -Eo "(^| )$k=(\"[^\"]*\"|[^ ]*)" | head -1)
	v=${v# }
	v=${v#"$k="}
	v=${v#\"}
	v=${v%\"}
	printf '%s\n' "$v"
}

# log_time LINE: the leading ISO timestamp of a log line, as epoch seconds
# with fractions.
log_time() {
	date -d "${1%% *}" +%s.%N 2>/dev/null
}

now() {
	date +%s.%N
}

# fcmp A OP B: floating-point comparison (OP: < <= > >= ==).
fcmp() {
	awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		if (op == "<") r = a < b; else if (op == "<=") r = a <= b
		else if (op == ">") r = a > b; else if (op == ">=") r = a >= b
		else r = a == b
		exit !r }'
}

# fsub A B: A - B, 3 decimals.
fsub() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a - b }'
}

# tcp_read HOST PORT SECS FILE [SOURCE [SEND]]: connect (from SOURCE if
# given), optionally send SEND (printf escapes), then read everything the
# peer sends into FILE until it closes.  Prints how it ended: "eof" (FIN),
# "reset" (RST), "timeout" (still open after SECS) or "connect-error".
tcp_read() {
	"$T_PY" - "$@" <<'PY'
import socket, sys, time
host, port, secs, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
src = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else None
send = sys.argv[6].encode().decode("unicode_escape").encode("latin-1") if len(sys.argv) > 6 else b""
data, how = b"", "eof"
try:
    s = socket.create_connection((host, port), secs, (src, 0) if src else None)
except OSError:
    print("connect-error"); open(out, "wb").close(); sys.exit(0)
end = time.time() + secs
try:
    if send:
        s.sendall(send)
    while True:
        s.settimeout(max(0.01, end - time.time()))
        b = s.recv(65536)
        if not b:
            break
        data += b
except socket.timeout:
    how = "timeout"
except ConnectionResetError:
    how = "reset"
open(out, "wb").write(data)
print(how)
PY
}

# --- tmux -------------------------------------------------------------------

# The suite's private tmux server (-L); tm ARGS... talks to it.  The first
# "tm new-session" starts it, with T_TMUX_CONF as its config (none unset).
T_TMUX=mxlb-$T_NAME-$$
tm() {
	tmux -L "$T_TMUX" -f "${T_TMUX_CONF:-/dev/null}" "$@"
}

# tmux_server: tmux or die; at exit every pane's processes are stopped by
# PID, then the server, and its socket is removed.
tmux_server() {
	command -v tmux >/dev/null || die "tmux is not installed"
	at_exit tm_cleanup
}
tm_cleanup() {
	local pid c sock
	sock=$(tm display-message -p '#{socket_path}' 2>/dev/null)
	for pid in $(tm list-panes -a -F '#{pane_pid}' 2>/dev/null); do
		for c in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
			stop_pid "$c" TERM 3
		done
		stop_pid "$pid" TERM 3
	done
	tm kill-server 2>/dev/null
	[ -n "$sock" ] && rm -f "$sock"
}

# tm_screen SESSION: its screen as text, also kept in $T_DIR/SESSION.screen.
tm_screen() {
	tm capture-pane -p -t "$1" >"$T_DIR/$1.screen" 2>/dev/null &&
		cat "$T_DIR/$1.screen"
}

# tm_has SESSION ERE: a line of the session's screen matches.
tm_has() {
	tm_screen "$1" | grep -Eq -- "$2"
}

# tmux_mxlb COLS [VAR=VALUE...]: the shell ($MXLB, default build/mxlb) in
# tmux session "shell", COLS x 40, no status line, HOME the suite's dir,
# TERM=screen and the VARs in its environment.  The pane stays after mxlb
# ends, and its exit status is written to $STATUS (tmux sometimes leaves a
# dead pane's process unreaped: no #{pane_dead_status}).  Through bash: a
# Ctrl-C the shell handles does not end the script around it.
tmux_mxlb() {
	local cols=$1
	shift
	tmux_server
	T_TMUX_CONF=$T_DIR/tmux.conf
	printf '%s\n' 'set -g remain-on-exit on' 'set -g status off' \
		'set -g history-limit 2000' >"$T_TMUX_CONF"
	STATUS=$T_DIR/mxlb.status
	{
		echo '#!/bin/bash'
		printf "MXLB_RUNDIR='%s' HOME='%s' TERM=screen %s '%s'\n" \
			"$MXLB_RUNDIR" "$T_DIR" "$*" "${MXLB:-$T_TOP/build/mxlb}"
		printf "echo \$? >'%s'\n" "$STATUS"
	} >"$T_DIR/run-mxlb"
	chmod +x "$T_DIR/run-mxlb"
	tm new-session -d -s shell -x "$cols" -y 40 "$T_DIR/run-mxlb"
}

# --- the shell in tmux (tmux_mxlb) ---------------------------------------------

# screen [SESSION]: the shell's screen (or SESSION's) as the operator sees
# it: wrapped lines joined, trailing spaces kept (the one TAB adds matters),
# empty lines at the end dropped.
screen() {
	tm capture-pane -p -J -t "${1:-shell}" | sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}'
}
# The line the cursor is on: the prompt and what is typed after it.
last_line() {
	screen | tail -1
}
screen_has() {
	screen | grep -Eq -- "$1"
}
last_is() {
	[ "$(last_line)" = "$1" ]
}
wait_screen() {
	wait_until "${2:-5}" screen_has "$1"
}
wait_last() {
	wait_until "${2:-5}" last_is "$1"
}
keys() {
	tm send-keys -t shell "$@"
}
# input TEXT: typed as is (a `?` is a key like any other).
input() {
	keys -l "$1"
}
# shot NAME: the screen into $T_DIR/NAME.screen, for whoever reads a failure.
shot() {
	screen >"$T_DIR/$1.screen"
	note "screen after $1 in $T_DIR/$1.screen"
}
# fresh: Ctrl-L clears the screen; only the prompt (and the line typed so
# far) is left, so what a step shows cannot come from an earlier one.
fresh() {
	keys C-l
	wait_until 5 eval '[ "$(screen | wc -l)" -eq 1 ]' ||
		note "Ctrl-L did not clear the screen in 5 s"
}
# step NAME CHECK...: ok when CHECK succeeds, else fail with the screen.
step() {
	local name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		fail "$name" "not on the screen"
		shot "$(printf %s "$name" | tr -c 'a-zA-Z0-9' - | cut -c1-40)"
		screen | sed 's/^/#   | /'
	fi
}
