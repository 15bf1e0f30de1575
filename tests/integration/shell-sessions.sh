#!/bin/bash
# `show sessions`: who is connected and who waits in a server's queue, as
# an operator asks it during an incident.  Server s1 (maxconn 1) is held by
# one slow client from 127.0.0.2; a second client, from 127.0.0.3, waits in
# s1's queue.  show sessions lists both by address, with their state; the
# farm and server filters and the JSON form agree; bad names are refused
# with an error; and a reply is bounded (limit) with a count of the rest.
. "$(dirname "$0")/../lib.sh"

MXLB=$T_TOP/build/mxlb
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"

mxc() {
	timeout -k 5 30 "$MXLB" -c "$1" </dev/null 2>>"$T_DIR/mxc.err"
}

free_ports FE P1
zone_config "$T_DIR/z.json" zs \
	farm mx probe=none queue-timeout=30 \
		server s1 "$P1" maxconn=1 \
	farm other probe=none \
		server o1 "$P1" \
	frontend in "$FE" farm=mx
start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_engine "$T_DIR/z.json" || die "engine not ready"

check_eq "no session yet: show sessions has its header only" "CLIENT" \
	"$(mxc 'show sessions' | awk '{ print $1 }' | paste -sd'|')"

spawn holder "$T_PY" "$T_PEERS/slowmail.py" 127.0.0.1 "$FE" --conns 1 \
	--go "$T_DIR/go" --wait 40 --source 127.0.0.2
check "one client from 127.0.0.2 holds s1's only slot (at RCPT TO)" \
	wait_log "$T_DIR/holder.log" "^ready 1$" 10
spawn waiter "$T_PY" "$T_PEERS/slowmail.py" 127.0.0.1 "$FE" --conns 1 \
	--go "$T_DIR/go" --wait 40 --timeout 30 --source 127.0.0.3

queued() {
	mxc 'show sessions mx s1' >"$T_DIR/sess.out"
	grep -Eq '^127\.0\.0\.3:[0-9]+ +in +mx +s1 +plain +queued ' "$T_DIR/sess.out"
}
check "show sessions mx s1: the client from 127.0.0.3 is queued on s1" \
	wait_until 10 queued
sed 's/^/#   /' "$T_DIR/sess.out"
check "show sessions mx s1: the client from 127.0.0.2 is connected to s1" \
	grep -Eq '^127\.0\.0\.2:[0-9]+ +in +mx +s1 +plain +connected ' "$T_DIR/sess.out"
in2=$(awk '$1 ~ /^127\.0\.0\.2:/ { print $9 }' "$T_DIR/sess.out")
out2=$(awk '$1 ~ /^127\.0\.0\.2:/ { print $10 }' "$T_DIR/sess.out")
check "the connected client's bytes each way are counted (in $in2, out $out2)" \
	eval '[ "${in2:-0}" -gt 0 ] && [ "${out2:-0}" -gt 0 ]'
check_eq "the queued one has sent nothing: bytes 0 and 0" "0 0" \
	"$(awk '$1 ~ /^127\.0\.0\.3:/ { print $9, $10 }' "$T_DIR/sess.out")"
check_eq "show sessions (every farm): the same two clients" "127.0.0.2 127.0.0.3" \
	"$(mxc 'show sessions' | awk 'NR > 1 { sub(/:[0-9]+$/, "", $1); print $1 }' | sort | paste -sd' ')"
check_eq "show sessions other: none (header only)" 1 "$(mxc 'show sessions other' | wc -l)"

json=$(mxc 'show sessions mx json')
check_eq "show sessions mx json: 2 sessions, states connected and queued" \
	"2 connected,queued" \
	"$(printf '%s' "$json" | "$T_PY" -c 'import json,sys
r = json.load(sys.stdin)[0]
print(r["total"], ",".join(sorted(s["state"] for s in r["sessions"])))')"

# The engine bounds a reply: asked for one, it lists one and counts one more.
bounded=$("$T_PY" "$T_PEERS/ctl.py" -t 5 "$MXLB_RUNDIR/zs.sock" \
	'{"id":1,"cmd":"sessions","farm":"mx","limit":1}' 2>/dev/null |
	"$T_PY" -c 'import json,sys
r = json.loads(sys.stdin.readline())["result"]
print(len(r["sessions"]), r["more"], r["total"])' 2>/dev/null)
check_eq "limit 1: one session listed, 1 more counted, 2 in all" "1 1 2" "$bounded"

err=$( { timeout 10 "$MXLB" -c 'show sessions nosuch' </dev/null; } 2>&1 >/dev/null)
check "show sessions nosuch: refused, naming the farm" eval '[[ $err == *nosuch* ]]'
err=$( { timeout 10 "$MXLB" -c 'show sessions mx nosuch' </dev/null; } 2>&1 >/dev/null)
check "show sessions mx nosuch: refused, naming the server" eval '[[ $err == *nosuch* ]]'

touch "$T_DIR/go"
gone() { [ "$(mxc 'show sessions' | wc -l)" -eq 1 ]; }
check "both deliver, and then show sessions is empty again" wait_until 15 gone
check "engine still running" alive "$ENGINE_PID"
finish
