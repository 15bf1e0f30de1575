#!/bin/bash
# Issue 7, flood: one source address (127.0.0.2) floods a frontend with
# source-maxconn 5 and source-rate 60 (sessions per minute).
#
#  1. 100 connections at once, each holding its session 3 s: exactly 5 are
#     greeted, the other 95 read exactly
#       421 4.3.2 <hostname> Service not available, try again later
#     then the close; logged end=tempfail:source-maxconn.
#  2. The 5 released, 100 messages one per connection (4 at a time): the
#     source has 55 sessions left in its minute, so exactly 55 are delivered
#     and the rest get the 421 (end=tempfail:source-rate); then 500 more
#     connections in a burst all get the exact 421 line.
#  3. Meanwhile 127.0.0.3 sends 40 messages (under its own limits) through
#     the same frontend, and 127.0.0.4 one with swaks: all delivered, none
#     refused.
#  4. `mxlb -c 'show stats json'`: the frontend's refused counters equal what
#     the engine logged and what the clients saw.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
MAXCONN=5
RATE=60

two_sink_config flood "$T_DIR/flood.json" "\"source-maxconn\": $MAXCONN, \"source-rate\": $RATE, \"idle-timeout\": 30"

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/flood.json" || die "engine did not start"
check "both servers probed up" wait_until 5 servers_are flood up

flood() {
	"$T_PY" "$T_PEERS/flood.py" 127.0.0.1 "$FE" --expect "$LINE421" "$@"
}

# from_src ADDR-REGEX END-REGEX: session lines of that client ending so.
from_src() {
	log_count "$ENGINE_LOG" " session client=$1:[0-9]+ frontend=in .* end=$2$"
}

# stat_refused REASON: the frontend's refused counter, from the shell.
stat_refused() {
	timeout 10 "$MXLB" -c 'show stats json' 2>/dev/null | "$T_PY" -c '
import json, sys
z = json.load(sys.stdin)[0]
fe = [f for f in z["frontends"] if f["name"] == "in"][0]
print(fe["counters"]["refused"][sys.argv[1]])' "$1"
}

# The other source, all along: 40 messages, one connection each, well under
# its own 5 concurrent and 60 a minute.
spawn other "$T_PY" "$T_PEERS/smtpload.py" 127.0.0.1 "$FE" --source 127.0.0.3 -n 40 -c 1 \
	--pause 0.3 --timeout 10 --log "$T_DIR/other.records"
OTHER_PID=$SPAWNED_PID

# --- 1. concurrency ----------------------------------------------------------

spawn floodA flood --source 127.0.0.2 --conns 100 --conc 100 --hold 3 --out "$T_DIR/floodA.out"
FA_PID=$SPAWNED_PID
wait_until 5 eval '[ "$(ss -Htn state established "dport = :$FE" "src 127.0.0.2" | wc -l)" -eq "$MAXCONN" ] &&
	[ "$(from_src "127\.0\.0\.2" "tempfail:source-maxconn")" -ge 95 ]'
expect_421 "source-maxconn: a 106th connection while 5 are held" "$FE" 127.0.0.2
wait_until 15 t_gone "$FA_PID" || fail "flood 1 finished" "still running after 15 s"
fa=$(tail -1 "$T_DIR/floodA.log")
note "flood 1 (100 at once, hold 3 s): $fa"
check_eq "flood 1: exactly $MAXCONN of 100 greeted (source-maxconn $MAXCONN)" "$MAXCONN" "$(kv greeted "$fa")"
check_eq "flood 1: the other 95 read exactly the 421 line, then the close" 95 "$(kv exact "$fa")"
check_eq "flood 1: nothing else (other, timeout, connect errors)" "0 0 0" \
	"$(kv other "$fa") $(kv timeout "$fa") $(kv connect "$fa")"
check "engine logged 96 end=tempfail:source-maxconn from 127.0.0.2" \
	wait_until 3 eval '[ "$(from_src "127\.0\.0\.2" "tempfail:source-maxconn")" -eq 96 ]'
check "the 5 held sessions ended normally (end=closed)" \
	wait_until 5 eval '[ "$(from_src "127\.0\.0\.2" "closed")" -eq "$MAXCONN" ]'

# --- 2. rate -----------------------------------------------------------------

# 5 sessions admitted so far this minute: 55 left.
smtpload 127.0.0.1 "$FE" --source 127.0.0.2 -n 100 -c 4 --timeout 10 \
	--log "$T_DIR/rate.records" >"$T_DIR/rate.log" 2>&1
rb=$(tail -1 "$T_DIR/rate.log")
note "flood 2 (100 messages, 4 at a time): $rb"
check_eq "flood 2: exactly $((RATE - MAXCONN)) delivered (source-rate $RATE a minute, $MAXCONN used)" \
	$((RATE - MAXCONN)) "$(kv delivered "$rb")"
check_eq "flood 2: the other $((100 - RATE + MAXCONN)) got a 421 at the greeting" \
	"$((100 - RATE + MAXCONN))" "$(awk '$3 == "tempfail" && $4 == "greeting"' "$T_DIR/rate.records" | wc -l)"
check "flood 2: every 421 is the exact line" eval \
	'! awk "\$3 == \"tempfail\"" "$T_DIR/rate.records" | cut -d" " -f5- | grep -vqxF "$LINE421"'
spawn swaks4 swaks --server "127.0.0.1:$FE" --local-interface 127.0.0.4 --to u@mxlb.test --timeout 10
SW_PID=$SPAWNED_PID
flood --source 127.0.0.2 --conns 500 --conc 50 --timeout 10 --out "$T_DIR/floodC.out" >"$T_DIR/floodC.log" 2>&1
fc=$(tail -1 "$T_DIR/floodC.log")
note "flood 3 (500 connections, 50 at a time): $fc"
check_eq "flood 3: all 500 read exactly the 421 line, then the close" 500 "$(kv exact "$fc")"
expect_421 "source-rate: one more connection" "$FE" 127.0.0.2
# Rate refusals: flood 2's 421s (less any it got for source-maxconn, had 4
# clients briefly been 6 sessions on the engine's side), flood 3, the probe.
# The engine's log is written by a timer: wait for the lines.
rate_want=$(( $(awk '$3 == "tempfail"' "$T_DIR/rate.records" | wc -l) + 500 + 1 -
	($(from_src "127\.0\.0\.2" "tempfail:source-maxconn") - 96) ))
wait_until 3 eval '[ "$(from_src "127\.0\.0\.2" "tempfail:source-rate")" -ge "$rate_want" ]'
rate_logged=$(from_src "127\.0\.0\.2" "tempfail:source-rate")
check_eq "engine logged end=tempfail:source-rate for every rate refusal (flood 2, 3 and the probe)" \
	"$rate_want" "$rate_logged"
wait_until 15 t_gone "$SW_PID"
check "swaks from 127.0.0.4 delivered during the flood" grep -q "^<- *250 " "$T_DIR/swaks4.log"
check "... and it ended with QUIT and 221" grep -q "^<- *221 " "$T_DIR/swaks4.log"

# --- 3. the other source -----------------------------------------------------

wait_until 30 t_gone "$OTHER_PID" || fail "the other source finished" "still running after 30 s"
ob=$(tail -1 "$T_DIR/other.log")
note "127.0.0.3: $ob"
check_eq "127.0.0.3: all 40 messages delivered during the flood" "sent=40 delivered=40" \
	"sent=$(kv sent "$ob") delivered=$(kv delivered "$ob")"
check_eq "127.0.0.3 and 127.0.0.4: no refusal logged" 0 "$(from_src "127\.0\.0\.[34]" "tempfail:.*")"
expect=$((40 + RATE - MAXCONN + 1))
wait_until 3 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") )) -ge "$expect" ]'
check_eq "sinks got exactly the delivered messages (40 + 55 + swaks)" "$expect" \
	"$(( $(sink_count "$P1") + $(sink_count "$P2") ))"

# --- 4. counters -------------------------------------------------------------

mc=$(stat_refused source-maxconn)
rc=$(stat_refused source-rate)
note "show stats json: refused source-maxconn=$mc source-rate=$rc"
check_eq "show stats json: refused source-maxconn = the log's count" \
	"$(from_src "127\.0\.0\.2" "tempfail:source-maxconn")" "$mc"
check_eq "show stats json: refused source-rate = the log's count" "$rate_logged" "$rc"
check_eq "show stats json: no other refusal" "0 0 0" \
	"$(stat_refused no-server) $(stat_refused frontend-maxconn) $(stat_refused denied-source)"
check "engine still running" alive "$ENGINE_PID"

finish
