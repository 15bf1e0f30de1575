#!/bin/bash
# mxlbd --workers 2: two event loops on SO_REUSEPORT sockets, one set of
# limits, counters and configs.
#   1. Both workers take sessions; the frontend's counters are the sums.
#   2. source-maxconn 5 lets exactly 5 of 100 concurrent connections from
#      one address through, whichever worker accepted them.
#   3. A server's maxconn holds across workers: 2 of 16 served at a time,
#      the rest queued, then every queued session is served.
#   4. A commit switches both workers at once: once it is acknowledged no
#      session of either worker goes to the server it drained.
#   5. A takeover by an engine with 3 workers keeps the old engine's 2
#      sockets (none is closed with clients in its queue) and adds one:
#      no client is refused.
#   6. A bad --workers is refused with the range.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
free_ports FE P1 P2 FE2 P3
start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
# A server that greets, then holds each session until the client leaves.
spawn slow "$T_PY" "$T_PEERS/badmx.py" "$P3" --quit-delay 0
wait_port 127.0.0.1 "$P3" 5 || die "held server on $P3 did not start"

zone_config "$T_DIR/w.json" workers \
	farm mx probe=none \
		server s1 "$P1" \
		server s2 "$P2" \
	farm held probe=none queue-timeout=20 \
		server h1 "$P3" maxconn=2 \
	frontend in "$FE" farm=mx source-maxconn=5 idle-timeout=30 \
	frontend in2 "$FE2" farm=held idle-timeout=30
start_engine "$T_DIR/w.json" engine --workers 2 || die "engine did not start"
check "the engine says it runs 2 workers" log_has "$ENGINE_LOG" " workers=2$"

# wstat PYTHON: a figure from the stats reply (r), printed.
wstat() { t_stats workers "print($1)"; }
check_eq "stats list 2 workers" 2 "$(wstat 'len(r["workers"])')"
check "mxlb show stats says so" eval \
	'timeout 10 "$MXLB" -c "show stats" | head -1 | grep -Eq "^zone workers  pid $ENGINE_PID  up [0-9]+s  workers 2$"'

# --- 1. both workers, one set of counters --------------------------------------

smtpload 127.0.0.1 "$FE" --source 127.0.0.3 -n 200 -c 4 --timeout 10 \
	>"$T_DIR/load1.log" 2>&1
l1=$(tail -1 "$T_DIR/load1.log")
note "200 messages over 4 connections at a time: $l1"
check_eq "all 200 delivered" 200 "$(kv delivered "$l1")"
acc=$(wstat '" ".join(str(w["accepted"]) for w in r["workers"])')
note "sessions accepted per worker: $acc"
check "each worker accepted sessions" eval '[ "${acc% *}" -gt 0 ] && [ "${acc#* }" -gt 0 ]'
check_eq "the frontend's sessions_total is the workers' sum" \
	"$(wstat 'sum(w["accepted"] for w in r["workers"])')" \
	"$(wstat '[f for f in r["frontends"] if f["name"] == "in"][0]["counters"]["sessions_total"]')"
check "the metrics have each worker's series (mxlb show stats prometheus)" eval \
	'timeout 10 "$MXLB" -c "show stats prometheus" >"$T_DIR/prom" &&
	grep -Eq "^mxlb_worker_accepted_total\{zone=\"workers\",worker=\"1\"\} [1-9]" "$T_DIR/prom" &&
	grep -Eq "^mxlb_worker_sessions\{zone=\"workers\",worker=\"0\"\} 0$" "$T_DIR/prom"'
check_eq "the farm's servers took all 200 (s1 + s2 sessions_total)" 200 \
	"$(wstat 'sum(s["counters"]["sessions_total"] for f in r["farms"] if f["name"] == "mx" for s in f["servers"])')"
wait_until 5 eval '[ "$(log_count "$ENGINE_LOG" " session client=127\.0\.0\.3:")" -ge 200 ]'
check_eq "every session logged once" 200 "$(log_count "$ENGINE_LOG" ' session client=127\.0\.0\.3:')"

# --- 2. source-maxconn across workers --------------------------------------------

"$T_PY" "$T_PEERS/flood.py" 127.0.0.1 "$FE" --source 127.0.0.2 --conns 100 \
	--conc 100 --hold 3 --expect "$LINE421" >"$T_DIR/flood.log" 2>&1
fl=$(tail -1 "$T_DIR/flood.log")
note "100 at once from 127.0.0.2: $fl"
check_eq "source-maxconn 5: exactly 5 of 100 greeted" 5 "$(kv greeted "$fl")"
check_eq "the other 95 read exactly the 421 line" 95 "$(kv exact "$fl")"
acc2=$(wstat '" ".join(str(w["accepted"]) for w in r["workers"])')
note "accepted per worker after the flood: $acc2"
check "the flood reached both workers" eval \
	'[ "${acc2% *}" -gt "${acc% *}" ] && [ "${acc2#* }" -gt "${acc#* }" ]'

# --- 3. a server's maxconn and queue across workers -----------------------------

spawn idle "$T_PY" "$T_PEERS/idleconns.py" 127.0.0.1 "$FE2" --conns 16 --rate 50 \
	--timeout 30 --hold 600
IDLE_PID=$SPAWNED_PID
held() { wstat '" ".join(str(s["counters"][k]) for f in r["farms"] if f["name"] == "held" for s in f["servers"] for k in ("sessions_cur", "queue_cur", "sessions_max"))'; }
check "h1 serves 2 (maxconn 2) and 14 wait in its queue" \
	wait_until 10 eval '[ "$(held)" = "2 14 2" ]'
note "h1 sessions_cur queue_cur sessions_max: $(held)"
min_open() { wstat 'min(w["sessions"] for w in r["workers"])'; }
check "the 16 came through both workers" eval '[ "$(min_open)" -gt 0 ]'
stop_pid "$IDLE_PID"
check "h1's queue is empty once the clients left" wait_until 10 eval '[ "$(held | cut -d" " -f1,2)" = "0 0" ]'
check_eq "h1 never served more than 2 at once" 2 "$(held | cut -d' ' -f3)"

# --- 4. a commit switches both workers ------------------------------------------

timeout 10 "$MXLB" -c "server set mx s1 weight 0; zone apply workers" >/dev/null 2>&1
check_eq "the commit is version 2" 2 \
	"$("$T_PY" "$T_PEERS/ctl.py" -p result.running "$MXLB_RUNDIR/workers.sock" '{"id":1,"cmd":"get"}')"
smtpload 127.0.0.1 "$FE" --source 127.0.0.4 -n 60 -c 4 --timeout 10 \
	>"$T_DIR/load2.log" 2>&1
check_eq "60 more delivered after the commit" 60 "$(kv delivered "$(tail -1 "$T_DIR/load2.log")")"
check "the 60 sessions are logged" wait_until 5 eval \
	'[ "$(log_count "$ENGINE_LOG" " session client=127\.0\.0\.4:")" -eq 60 ]'
check_eq "no session after the commit went to s1 (weight 0), in either worker" 0 \
	"$(grep ' session client=127\.0\.0\.4:' "$ENGINE_LOG" | grep -c ' server=s1 ')"
check_eq "all 60 went to s2" 60 \
	"$(grep ' session client=127\.0\.0\.4:' "$ENGINE_LOG" | grep -c ' server=s2 ')"

# --- 5. a takeover keeps every worker's socket -------------------------------------

spawn loop "$T_PY" "$T_PEERS/greetloop.py" 127.0.0.1 "$FE" --stop "$T_DIR/stop" --max 40
LOOP=$SPAWNED_PID
wait_log "$T_DIR/loop.log" '^started$' 5 || die "client loop not greeted: $(cat "$T_DIR/loop.log")"
OLD=$ENGINE_PID
spawn engine2 "$MXLBD" -z workers --takeover -f --workers 3
wait_log "$T_DIR/engine2.log" "takeover zone=workers done" 10 ||
	die "takeover not done: $(tail -5 "$T_DIR/engine2.log")"
check "the old engine (2 workers) ends" wait_until 10 t_gone "$OLD"
ENGINE_LOG=$T_DIR/engine2.log
check_eq "the new engine runs 3 workers" 3 "$(wstat 'len(r["workers"])')"
check_eq "3 sockets listen on the frontend's port: the old engine's 2 and 1 new" 3 \
	"$(ss -Hltn "sport = :$FE" | wc -l)"
check "the new engine serves the client loop (10 of its sessions)" wait_until 5 eval \
	'[ "$(log_count "$T_DIR/engine2.log" " session client=")" -ge 10 ]'
touch "$T_DIR/stop"
wait_until 10 t_gone "$LOOP"
res=$(tail -1 "$T_DIR/loop.log")
note "client loop: $res"
check_eq "every 20 ms client through the takeover: none refused, none without a 220" \
	"0 0" "$(kv refused "$res") $(kv not_greeted "$res")"
check_eq "the commit carried over: version 2" 2 \
	"$("$T_PY" "$T_PEERS/ctl.py" -p result.running "$MXLB_RUNDIR/workers.sock" '{"id":1,"cmd":"get"}')"

# --- 6. a bad --workers ------------------------------------------------------------

out=$("$MXLBD" -z bad --workers 0 -f 2>&1)
check_eq "--workers 0 exits 2" 2 $?
check "... and says the range" eval '[[ $out == *"--workers 0: a number of workers is 1-64, or auto"* ]]'
out=$(MXLBD_WORKERS=many "$MXLBD" -z bad -f 2>&1)
check_eq "MXLBD_WORKERS=many exits 2" 2 $?

finish
