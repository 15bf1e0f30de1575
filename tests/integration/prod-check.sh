#!/bin/bash
# Issue 6, test 4: `mxlb check`, the Nagios/Icinga plugin, as servers go
# down.  One status line with perfdata after "|"; exit 0 OK, 1 WARNING,
# 2 CRITICAL, 3 UNKNOWN.
#
# Zone chk: one farm of two smtp-sinks (SMTP probe, 0.5 s, fall 1, rise 1).
#  1. both up                      -> 0, "MXLB OK", servers_up=2
#  2. sink 1 killed, probe says down -> 1, "MXLB WARNING", servers_down=1,
#     names the server; --warn-down 2 -> 0; --crit-down 1 -> 2
#  3. sink 2 killed too            -> 2, "MXLB CRITICAL", a farm has no
#     server available
#  4. sinks back, probe says up    -> 0 again
#  5. a zone named but not running -> 2; an engine killed (its socket left
#     behind) -> 2; an engine stopped (TERM) and named -> 2
#  6. usage errors (unknown option, missing or non-numeric threshold),
#     with the engine up -> 3 with "MXLB UNKNOWN"; no zone at all -> 3
# Issue 11: with no zone named, a zone whose engine is down is said first
# (before a server of another zone); a hung engine (SIGSTOP) is UNKNOWN
# "not answering" within -t; a cleanly stopped zone with state on disk is
# down (CRITICAL), not absent; -h and -V on stdout, exit 0; the perfdata
# thresholds are the ones the plugin alerts on, in the Monitoring Plugins
# range syntax (warn at 1 down = "0", alert above 0).
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
export MXLB_ZONES=/dev/null	# no zone of this machine's files
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"

free_ports FE P1 P2 FE2 P3

zone_config "$T_DIR/chk.json" chk \
	farm mx probe=smtp probe-interval=0.5 probe-timeout=1 probe-rise=1 probe-fall=1 \
		server s1 "$P1" \
		server s2 "$P2" \
	frontend in "$FE"
zone_config "$T_DIR/chk2.json" chk2 \
	farm relay probe=smtp probe-interval=0.5 probe-timeout=1 \
		server r1 "$P3" \
	frontend out "$FE2"

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/chk.json" || die "engine did not start"

# mxcheck ARGS...: run `mxlb check`, bounded; OUT its stdout, RC its status.
mxcheck() {
	OUT=$(timeout -k 5 30 "$MXLB" check "$@" 2>"$T_DIR/check.err")
	RC=$?
	note "mxlb check $*: $RC $OUT"
}
# rc_is N ARGS...: mxlb check ARGS exits N (for wait_until).
rc_is() {
	local want=$1
	shift
	timeout -k 5 30 "$MXLB" check "$@" >/dev/null 2>&1
	[ "$?" -eq "$want" ]
}
# plugin_line: one line, "MXLB STATE - text | perfdata", perfdata
# well-formed ('label'=value[UOM];warn;crit;min;max, space separated).
plugin_line() {
	[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 1 ] || return 1
	printf '%s\n' "$OUT" | grep -qE '^MXLB (OK|WARNING|CRITICAL|UNKNOWN) - [^|]+ \| ' || return 1
	printf '%s\n' "${OUT#*| }" | tr ' ' '\n' |
		grep -vqE "^('[^']+'|[A-Za-z_][A-Za-z0-9_]*)=-?[0-9.]+(s|ms|us|%|B|KB|MB|TB|c)?(;[0-9.:~@-]*){0,4}$" && return 1
	return 0
}
# perf NAME: a perfdata value (its number only).
perf() {
	printf '%s\n' "${OUT#*| }" | tr ' ' '\n' | sed -n "s/^$1=\([0-9.-]*\).*/\1/p"
}

# --- 1. both up -------------------------------------------------------------

wait_until 5 rc_is 0 || note "check not OK within 5 s of the start"
mxcheck
check_eq "both up: exit 0" 0 "$RC"
check "both up: status line starts 'MXLB OK'" eval '[[ "$OUT" == "MXLB OK"* ]]'
check "both up: one line, perfdata after |" plugin_line
check_eq "both up: perfdata servers_up=2 servers_down=0" "2 0" "$(perf servers_up) $(perf servers_down)"
mxcheck chk
check_eq "both up, zone named: exit 0" 0 "$RC"

# --- 2. usage errors, with the engine up -------------------------------------

for args in "--bogus" "--warn-down" "--crit-down" "--warn-down abc" "--crit-down 2x"; do
	# shellcheck disable=SC2086
	mxcheck $args
	check_eq "mxlb check $args: exit 3" 3 "$RC"
	check "mxlb check $args: 'MXLB UNKNOWN'" eval '[[ "$OUT" == "MXLB UNKNOWN"* ]]'
done

# --- 3. one down ------------------------------------------------------------------

stop_sink "$P1" KILL
wait_log "$ENGINE_LOG" " probe .*server=s1 .*state=down" 5 ||
	fail "probe marks s1 down" "no 'probe ... server=s1 ... state=down' line in 5 s"
mxcheck
check_eq "s1 down: exit 1" 1 "$RC"
check "s1 down: status line starts 'MXLB WARNING'" eval '[[ "$OUT" == "MXLB WARNING"* ]]'
check "s1 down: one line, perfdata after |" plugin_line
check_eq "s1 down: perfdata servers_up=1 servers_down=1" "1 1" "$(perf servers_up) $(perf servers_down)"
check "s1 down: the line names the server" eval '[[ "${OUT%%|*}" == *s1* ]]'
mxcheck --warn-down 2
check_eq "s1 down, --warn-down 2: exit 0" 0 "$RC"
perf_th() {
	printf '%s\n' "${OUT#*| }" | tr ' ' '\n' | sed -n "s/^$1=[0-9.]*;\([^;]*\);\([^;]*\).*/\1 \2/p"
}
check "s1 down, --warn-down 2: 'MXLB OK'" eval '[[ "$OUT" == "MXLB OK"* ]]'
mxcheck --warn-down never
check_eq "s1 down, --warn-down never (keepalived's track script): exit 0" 0 "$RC"
check "s1 down, --warn-down never: 'MXLB OK', no warn threshold in perfdata" \
	eval '[[ "$OUT" == "MXLB OK"* ]] && [ "$(perf_th servers_down)" = " " ]'
mxcheck
check_eq "perfdata: warn at 1 down is the range '0' (alert above 0), no crit" "0 " "$(perf_th servers_down)"
mxcheck chk --crit-down 1
check_eq "perfdata: --crit-down 1 is the range '0'" "0 0" "$(perf_th servers_down)"
mxcheck chk --warn-down 3 --crit-down 5
check_eq "perfdata: --warn-down 3 --crit-down 5 are '2' and '4'" "2 4" "$(perf_th servers_down)"
mxcheck chk --crit-down 1
check_eq "s1 down, --crit-down 1: exit 2" 2 "$RC"
check "s1 down, --crit-down 1: 'MXLB CRITICAL'" eval '[[ "$OUT" == "MXLB CRITICAL"* ]]'

# --- 4. both down -------------------------------------------------------------------

stop_sink "$P2" KILL
wait_log "$ENGINE_LOG" " probe .*server=s2 .*state=down" 5 ||
	fail "probe marks s2 down" "no 'probe ... server=s2 ... state=down' line in 5 s"
mxcheck
check_eq "both down: exit 2" 2 "$RC"
check "both down: status line starts 'MXLB CRITICAL'" eval '[[ "$OUT" == "MXLB CRITICAL"* ]]'
check "both down: says a farm has no server" eval '[[ "${OUT%%|*}" == *"farm has no server"* ]]'
check "both down: one line, perfdata after |" plugin_line
mxcheck --warn-down 5
check_eq "both down, --warn-down 5: still exit 2 (a farm has no server)" 2 "$RC"

# --- 5. back up ---------------------------------------------------------------------

start_sink "$P1" || fail "smtp-sink restarted on $P1" "not listening"
start_sink "$P2" || fail "smtp-sink restarted on $P2" "not listening"
if wait_until 10 rc_is 0; then
	ok "sinks back: exit 0 again"
else
	mxcheck
	fail "sinks back: exit 0 again" "exit $RC: $OUT"
fi

# --- 6. engines not answering ----------------------------------------------------------

mxcheck chk nosuchzone
check_eq "a zone named but not running: exit 2" 2 "$RC"
check "a zone named but not running: 'MXLB CRITICAL', names it" \
	eval '[[ "$OUT" == "MXLB CRITICAL"* && "$OUT" == *nosuchzone* ]]'

start_sink "$P3" || die "smtp-sink on $P3 did not start"
CHK_PID=$ENGINE_PID CHK_LOG=$ENGINE_LOG
start_engine "$T_DIR/chk2.json" engine-chk2 || die "engine chk2 not ready in 10 s"
CHK2_PID=$ENGINE_PID ENGINE_PID=$CHK_PID ENGINE_LOG=$CHK_LOG
wait_until 5 rc_is 0 || note "check of two zones not OK within 5 s"
mxcheck
check_eq "two zones up: exit 0" 0 "$RC"
check "two zones up: '2 zones'" eval '[[ "$OUT" == *"2 zones"* ]]'

# Killed: the socket stays behind and nothing answers on it.
stop_pid "$CHK2_PID" KILL
check "chk2's socket is left behind" test -S "$MXLB_RUNDIR/chk2.sock"
mxcheck
check_eq "an engine killed (stale socket): exit 2" 2 "$RC"
check "an engine killed: 'MXLB CRITICAL', names the zone" \
	eval '[[ "$OUT" == "MXLB CRITICAL"* && "$OUT" == *chk2* ]]'

# A server of zone chk down too: the dead engine of chk2 is said first.
stop_sink "$P1" KILL
wait_log "$ENGINE_LOG" " probe .*server=s1 .*state=down" 5 ||
	fail "probe marks s1 down again" "no line in 5 s"
mxcheck
check_eq "chk2 dead, s1 of chk down: exit 2" 2 "$RC"
check "the first thing said is zone chk2's engine, not s1" \
	eval '[[ "$(printf %s "${OUT%%|*}" | sed "s/^[^;]*; [^;]*; //")" == "zone chk2: engine not running"* ]]'
start_sink "$P1" || fail "smtp-sink restarted on $P1" "not listening"
rm -f "$MXLB_RUNDIR/chk2.sock"

# A hung engine: UNKNOWN, "not answering", within -t.
kill -STOP "$ENGINE_PID"
at_exit "kill -CONT $ENGINE_PID 2>/dev/null"
t0=$(date +%s%N)
mxcheck chk -t 2
t1=$(date +%s%N)
kill -CONT "$ENGINE_PID"
check_eq "engine stopped by SIGSTOP, -t 2: exit 3" 3 "$RC"
check "SIGSTOP: 'MXLB UNKNOWN', zone chk not answering" \
	eval '[[ "$OUT" == "MXLB UNKNOWN"* && "$OUT" == *"zone chk: engine not answering"* ]]'
check "SIGSTOP: answered within 4 s ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 4000
check "SIGSTOP: one line, perfdata after |" plugin_line

# -h and -V: on stdout, exit 0.
OUT=$("$MXLB" check -h 2>/dev/null); RC=$?
check "check -h: exit 0, the usage on stdout" eval '[ $RC -eq 0 ] && [[ "$OUT" == "usage: mxlb check"* ]]'
OUT=$("$MXLB" check -V 2>/dev/null); RC=$?
check "check -V: exit 0, 'mxlb check VERSION' on stdout" eval '[ $RC -eq 0 ] && [[ "$OUT" =~ ^mxlb\ check\ [0-9]+\.[0-9]+ ]]'

# Stopped cleanly: its socket is gone, so it is named, as a monitoring
# system's service definition (or keepalived.conf's script) does.
stop_pid "$ENGINE_PID" TERM 10
check "engine chk stopped" t_gone "$ENGINE_PID"
mxcheck chk
check_eq "an engine stopped, zone named: exit 2" 2 "$RC"
check "an engine stopped, zone named: 'MXLB CRITICAL'" eval '[[ "$OUT" == "MXLB CRITICAL"* ]]'
check "an engine stopped: one line, perfdata after |" plugin_line
# Both stopped, their state on disk: down, not absent.
mxcheck
check_eq "zones stopped, state on disk, no zone named: exit 2" 2 "$RC"
check "zones stopped: 'MXLB CRITICAL', names chk and chk2" \
	eval '[[ "$OUT" == "MXLB CRITICAL"* && "$OUT" == *"zone chk:"* && "$OUT" == *"zone chk2:"* ]]'
mkdir -p "$T_DIR/nostate"
OUT=$(MXLB_STATEDIR=$T_DIR/nostate timeout -k 5 30 "$MXLB" check 2>/dev/null)
RC=$?
check_eq "no engine and no state at all, no zone named: exit 3 (UNKNOWN)" 3 "$RC"
check "no engine at all: 'MXLB UNKNOWN'" eval '[[ "$OUT" == "MXLB UNKNOWN"* ]]'

finish
