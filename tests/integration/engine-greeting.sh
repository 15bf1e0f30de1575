#!/bin/bash
# The server's greeting decides, before the client sees anything (issue 15).
# A farm of a broken server (tests/peers/badmx.py, switched by a mode file)
# and a good one (smtp-sink), no probe, so the broken one keeps its share:
# a server that accepts and never greets, one that greets
# "421 4.7.0 busy" (postscreen-style), one that resets before greeting, one
# that greets 554.  Every client is greeted by the good server within
# greeting-timeout + 1 s and every message delivered; the client never sees
# the failed server; the log and the server's counters say why.  Only when
# no server is left does the 421 apply; on-greeting-5xx pass hands a 554 to
# the client; a multi-line greeting reaches the client whole.
. "$(dirname "$0")/../lib.sh"

GT=2		# greeting-timeout, seconds
N=6		# messages per case, all at once
free_port; FE=$PORT
free_port; FE_SOLO=$PORT
free_port; P1=$PORT
free_port; P2=$PORT
MODE=$T_DIR/mode
ZONE=greet
SOCK=$MXLB_RUNDIR/$ZONE.sock
CTL=("$T_PY" "$T_PEERS/ctl.py" -t 5)

cat >"$T_DIR/greet.json" <<EOF
{ "zone": "$ZONE",
  "farms": [
    { "name": "mx", "probe": "none", "greeting-timeout": $GT,
      "connect-timeout": 2,
      "servers": [ { "address": "127.0.0.1", "port": $P1, "name": "bad" },
                   { "address": "127.0.0.1", "port": $P2, "name": "good" } ] },
    { "name": "solo", "probe": "none", "greeting-timeout": $GT,
      "on-greeting-5xx": "pass",
      "servers": [ { "address": "127.0.0.1", "port": $P1, "name": "bad" } ] } ],
  "frontends": [
    { "name": "in", "bind": "$FE", "address": ["127.0.0.1"], "farm": "mx" },
    { "name": "solo", "bind": "$FE_SOLO", "address": ["127.0.0.1"], "farm": "solo" } ] }
EOF

echo silent >"$MODE"
spawn badmx "$T_PY" "$T_PEERS/badmx.py" "$P1" --mode-file "$MODE" --pregreet 1
wait_port 127.0.0.1 "$P1" 5 || die "badmx did not start"
start_sink "$P2" || die "smtp-sink did not start"
start_engine "$T_DIR/greet.json" || die "engine did not start"

# counter SERVER-INDEX KEY: a counter of farm mx's server, from the engine.
counter() {
	"${CTL[@]}" -p "result.farms.0.servers.$1.counters.$2" "$SOCK" \
	    '{"id":1,"cmd":"stats"}'
}

# load CASE: N messages at once through frontend in; every one delivered,
# each in at most greeting-timeout + 1 s.
load() {
	local case=$1 rec=$T_DIR/$1.records sum slow
	sum=$(smtpload 127.0.0.1 "$FE" -n "$N" -c "$N" --timeout 20 --log "$rec" | tail -1)
	note "$case: $sum"
	check_eq "$case: all $N messages delivered, no 4xx seen" \
	    "sent=$N delivered=$N tempfail=0" \
	    "sent=$(kv sent "$sum") delivered=$(kv delivered "$sum") tempfail=$(kv tempfail "$sum")"
	slow=$(awk -v max=$((GT + 1)) '$2 - $1 > max' "$rec" | wc -l)
	check_eq "$case: every message done within greeting-timeout + 1 s" 0 "$slow"
}

# --- a server that accepts and never greets ---------------------------------
load silent
check "silent: the log says why (no greeting within $GT s)" \
	wait_log "$ENGINE_LOG" " greeting farm=mx server=bad transport=plain error=\"no greeting within $GT.000 s\"" 3
n=$(log_count "$ENGINE_LOG" " greeting farm=mx server=bad .*no greeting within")
check "silent: some sessions met the silent server (roundrobin): $n" test "$n" -ge 1
check_eq "silent: its greeting_timeout counter says so" "$n" "$(counter 0 greeting_timeout)"
check "silent: those sessions went to the good server (redispatch=1)" wait_log "$ENGINE_LOG" " session .*frontend=in .*server=good .*redispatch=1 .*end=closed" 3

# --- a postscreen-style 421 greeting ----------------------------------------
echo busy >"$MODE"
load busy
check "busy: the log says why (the 421 greeting)" \
	wait_log "$ENGINE_LOG" " greeting farm=mx server=bad .*error=\"greeting 421 4.7.0 badmx.test busy\"" 3
n=$(log_count "$ENGINE_LOG" " greeting farm=mx server=bad .*greeting 421")
check_eq "busy: greeting_refused counts them" "$n" "$(counter 0 greeting_refused)"

# --- a reset before the greeting --------------------------------------------
echo reset >"$MODE"
load reset
check "reset: the log says why" \
	wait_log "$ENGINE_LOG" " greeting farm=mx server=bad .*error=\"(Connection reset by peer|closed) during greeting\"" 3
check "reset: greeting_closed counts them" test "$(counter 0 greeting_closed)" -ge 1

# --- a 554 greeting: another server, unless on-greeting-5xx pass ------------
echo refuse >"$MODE"
load refuse554
check "554: the log says why" \
	wait_log "$ENGINE_LOG" " greeting farm=mx server=bad .*error=\"greeting 554 5.7.1 " 3
how=$(tcp_read 127.0.0.1 "$FE_SOLO" 3 "$T_DIR/pass.out" "" 'QUIT\r\n')
check "on-greeting-5xx pass: the client sees the server's 554" \
	grep -q "^554 5.7.1 badmx.test No SMTP service here" "$T_DIR/pass.out"
check_eq "... and the session runs to its end" eof "$how"

# --- no server left: the usual 421 ------------------------------------------
echo silent >"$MODE"
t0=$(now)
how=$(tcp_read 127.0.0.1 "$FE_SOLO" 10 "$T_DIR/solo.out")
dt=$(fsub "$(now)" "$t0")
check "no server left: the client gets the 421" \
	grep -q "^421 4.3.2 .* Service not available" "$T_DIR/solo.out"
check "... after greeting-timeout, not the idle timeout (${dt}s)" fcmp "$dt" "<" $((GT + 2))
check_eq "... and nothing of the silent server before it" 1 "$(wc -l <"$T_DIR/solo.out")"
check_eq "... then closed" eof "$how"

# --- a client that leaves while the server has not greeted ------------------
spawn gone tcp_read 127.0.0.1 "$FE_SOLO" 1 "$T_DIR/gone.out"
in_greeting() {
	"${CTL[@]}" "$SOCK" '{"id":1,"cmd":"sessions","farm":"solo"}' | "$T_PY" -c '
import json, sys
r = json.loads(sys.stdin.readline())["result"]
sys.exit(not any((s["server"], s["transport"], s["state"]) ==
                 ("bad", "plain", "greeting") for s in r["sessions"]))'
}
check "show sessions: the session waits in state greeting" wait_until 3 in_greeting
check "a client gone before the greeting: end=client-gone-greeting" \
	wait_log "$ENGINE_LOG" " session .*frontend=solo .*end=client-gone-greeting" $((GT + 1))

# --- a multi-line greeting reaches the client whole -------------------------
echo pregreet >"$MODE"
how=$(tcp_read 127.0.0.1 "$FE_SOLO" 5 "$T_DIR/pre.out" "" 'QUIT\r\n')
check_eq "220- then 220 then 221, as the server sent them" \
	"220-badmx.test wait|220 badmx.test ESMTP badmx|221 2.0.0 Bye" \
	"$(tr -d '\r' <"$T_DIR/pre.out" | paste -sd'|')"
check "... and no redispatch for it" \
	wait_log "$ENGINE_LOG" " session .*frontend=solo .*redispatch=0 .*end=closed" 3

check "engine still running" alive "$ENGINE_PID"
finish
