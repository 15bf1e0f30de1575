#!/bin/bash
# No server can take the session: with on-unavailable tempfail the client
# reads exactly "421 4.3.2 <hostname> Service not available, try again
# later\r\n" and the connection closes; with on-unavailable close it is
# closed with 0 bytes.  Limits (source-maxconn, denied-source) refuse the
# same way.  mxlbd -n reports a bad config with the error's path, exit 1.
. "$(dirname "$0")/../lib.sh"

# FE_T: tempfail frontend, dead farm
# FE_C: close frontend, dead farm
# FE_L: limited frontend, live farm
# DEAD1, DEAD2: nothing listens on them
# FE_Q: server maxconn 1, queue-timeout 1 s
free_ports FE_T FE_C FE_L DEAD1 DEAD2 LIVE FE_Q

zone_config "$T_DIR/unavail.json" unavail \
	farm dead probe=smtp probe-interval=1 probe-timeout=1 probe-rise=2 probe-fall=2 on-unavailable=tempfail connect-timeout=1 queue-timeout=2 \
		server d1 "$DEAD1" \
		server d2 "$DEAD2" \
	farm deadclose probe=smtp probe-interval=1 probe-timeout=1 probe-rise=2 probe-fall=2 on-unavailable=close connect-timeout=1 queue-timeout=2 \
		server c1 "$DEAD1" \
	farm live probe=smtp probe-interval=1 probe-timeout=1 \
		server l1 "$LIVE" \
	farm queued probe=none queue-timeout=1 \
		server q1 "$LIVE" maxconn=1 \
	frontend tf "$FE_T" farm=dead \
	frontend cl "$FE_C" farm=deadclose \
	frontend lim "$FE_L" farm=live source-maxconn=1 denied-source=127.0.0.3/32 \
	frontend q "$FE_Q"

start_sink "$LIVE" || die "smtp-sink on $LIVE did not start"
start_engine "$T_DIR/unavail.json" || die "engine did not start"

# At once: the servers' state is not known yet, the connects fail, and no
# server is left to retry on.
expect_421 "all servers down (before the probe says so)" "$FE_T"

check "probe marks d1 down" wait_log "$ENGINE_LOG" " probe .*farm=dead .*server=d1 .*state=down" 5
check "probe marks d2 down" wait_log "$ENGINE_LOG" " probe .*farm=dead .*server=d2 .*state=down" 5
expect_421 "all servers down (probe says down)" "$FE_T"
check "session logged as end=tempfail:no-server" \
	wait_log "$ENGINE_LOG" " session .*frontend=tf .*end=tempfail:no-server( |$)" 3
# swaks, as a mail admin would check it: a 421 at the banner.
swaks --server "127.0.0.1:$FE_T" --to u@mxlb.test --timeout 10 >"$T_DIR/swaks.out" 2>&1
rc=$?
check "swaks sees the 421 at the banner" grep -q "<\*\* *421 4.3.2 " "$T_DIR/swaks.out"
check_eq "swaks exits 21 (error reading the banner)" 21 "$rc"

# on-unavailable close: 0 bytes, then the close.
out=$T_DIR/got.close
how=$(tcp_read 127.0.0.1 "$FE_C" 8 "$out")
size=$(stat -c %s "$out")
if [ "$size" = 0 ] && { [ "$how" = eof ] || [ "$how" = reset ]; }; then
	ok "on-unavailable close: 0 bytes then closed ($how)"
else
	fail "on-unavailable close" "expected 0 bytes then a close; got $size bytes then $how"
fi
check "session logged as end=close:..." \
	wait_log "$ENGINE_LOG" " session .*frontend=cl .*end=close:[a-z-]+" 3

# Limits refuse with the same 421.  source-maxconn 1: hold one session
# from 127.0.0.2, the second one from there is refused.
spawn hold "$T_PY" "$T_PEERS/hostile.py" hold 127.0.0.1 "$FE_L" --secs 4 --source 127.0.0.2
HOLD_PID=$SPAWNED_PID
wait_until 3 eval '[ "$(sessions_cur unavail frontend lim)" -ge 1 ]'
expect_421 "source-maxconn reached" "$FE_L" 127.0.0.2
check "logged as end=tempfail:source-maxconn" \
	wait_log "$ENGINE_LOG" " session .*frontend=lim .*end=tempfail:source-maxconn( |$)" 3
# ... while another source still gets through.
check "another source still served (swaks from 127.0.0.4)" \
	eval 'swaks --server "127.0.0.1:$FE_L" --local-interface 127.0.0.4 --to u@mxlb.test --timeout 10 >"$T_DIR/swaks4.out" 2>&1' 
stop_pid "$HOLD_PID"
expect_421 "denied-source 127.0.0.3" "$FE_L" 127.0.0.3
check "logged as end=tempfail:denied-source" \
	wait_log "$ENGINE_LOG" " session .*frontend=lim .*end=tempfail:denied-source( |$)" 3

# Server maxconn 1: with its one slot held, the next client waits in the
# queue for queue-timeout (1 s), then gets the 421.
spawn hold2 "$T_PY" "$T_PEERS/hostile.py" hold 127.0.0.1 "$FE_Q" --secs 4 --source 127.0.0.2
HOLD_PID=$SPAWNED_PID
wait_until 3 eval '[ "$(sessions_cur unavail farm queued/q1)" -ge 1 ]'
t0=$(now)
expect_421 "queue-timeout (server maxconn 1, its slot held)" "$FE_Q" 127.0.0.4
waited=$(fsub "$(now)" "$t0")
check "the 421 came after queue-timeout 1 s (${waited}s)" \
	eval 'fcmp "$waited" ">=" 0.9 && fcmp "$waited" "<=" 3'
check "logged as end=tempfail:queue-timeout" \
	wait_log "$ENGINE_LOG" " session .*frontend=q .*end=tempfail:queue-timeout( |$)" 3
stop_pid "$HOLD_PID"
check "engine still running" alive "$ENGINE_PID"

# mxlbd -n: a good config passes, a bad one names each error by its path.
check "mxlbd -n accepts the suite's config" eval '"$MXLBD" -n -c "$T_DIR/unavail.json" >/dev/null 2>&1' 
cat >"$T_DIR/bad.json" <<EOF
{ "zone": "bad",
  "farms": [ { "name": "mx", "balance": "roundrobin",
               "servers": [ { "address": "10.0.0.1", "port": 25, "weight": 300 },
                            { "address": "10.0.0.2", "port": 25, "name": "s2", "proxyprotocol": "v3" } ] } ],
  "frontends": [ { "name": "in", "bind": "2525", "farm": "mx" } ] }
EOF
"$MXLBD" -n -c "$T_DIR/bad.json" >"$T_DIR/check.out" 2>"$T_DIR/check.err"
rc=$?
check_eq "mxlbd -n on a bad config exits 1" 1 "$rc"
check "error names its path: farm mx: server 10.0.0.1: weight 300 is out of range 0-256" \
	grep -qxF "farm mx: server 10.0.0.1: weight 300 is out of range 0-256" "$T_DIR/check.err"
check "every error is reported (the v3 proxyprotocol too)" \
	grep -qE "^farm mx: server s2: proxyprotocol .*v3" "$T_DIR/check.err"
[ "$T_FAIL" -gt 0 ] && sed 's/^/# mxlbd -n: /' "$T_DIR/check.err"

finish
