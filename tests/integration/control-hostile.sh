#!/bin/bash
# run: alone (it measures the engine's memory)
# Hostile control clients: garbage lines, truncated JSON, wrong types,
# unknown commands (each with its exact error code), a 100 MB line (answered
# "too-long" and closed, memory bounded), 200 clients connecting at once, a
# client that sends requests and never reads the replies (dropped).  All the
# while another control client keeps being answered, mail keeps being
# forwarded, and the engine is alive at the end.
. "$(dirname "$0")/../lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
CTL="$PY $T_PEERS/ctl.py"
RSS_MAX_KB=$((200 * 1024))
free_ports FE P1 P2

zone_config "$T_DIR/hostile.json" chostile \
	farm mx probe=smtp probe-interval=1 probe-timeout=2 connect-timeout=2 \
		server s1 "$P1" \
		server s2 "$P2" \
	frontend in "$FE" maxconn=200 source-maxconn=100 source-rate=1000000

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/hostile.json" || die "engine did not start"
SOCK=$MXLB_RUNDIR/chostile.sock


# The well-behaved ones, for the whole run.
spawn load "$PY" "$T_PEERS/smtpload.py" 127.0.0.1 "$FE" -d 20 -c 2 --pause 0.05 \
	--timeout 10 --log "$T_DIR/load.records"
LOAD_PID=$SPAWNED_PID
spawn poll "$PY" "$T_PEERS/ctl.py" -t 5 --poll 20 "$SOCK"
POLL_PID=$SPAWNED_PID
check "the load delivers and the polling client is connected" wait_until 5 eval \
	'[ $(( $(sink_count "$P1") + $(sink_count "$P2") )) -ge 1 ] &&
	 ss -Hxn state connected | grep -qF "$SOCK"'

# --- garbage, truncated, mistyped, unknown: one error each, in order ----------
# codes FILE: "id:code" of every reply line in FILE (ok for a success).
codes() {
	$PY - "$1" <<'EOF'
import json, sys
out = []
for line in open(sys.argv[1]):
    if line.startswith("#"):
        continue
    r = json.loads(line)
    out.append("%s:%s" % (r.get("id"), "ok" if r.get("ok") else r["error"]["code"]))
print(" ".join(out))
EOF
}
# Each line sent, and the reply's "id:code" expected for it.
LINES=(
	'garbage'					'None:parse'
	'{"id":1,"cmd":"get"'				'None:parse'	# truncated
	'[1,2,3]'					'None:parse'	# not an object
	'\x00\xff\xfe binary'				'None:parse'
	'{"id":2,"id":3,"cmd":"get"}'			'None:parse'	# duplicate key
	'{"cmd":"get"}'					'None:bad-request'	# no id
	'{"id":[1],"cmd":"get"}'			'None:bad-request'	# id mistyped
	'{"id":7}'					'7:bad-request'	# no cmd
	'{"id":8,"cmd":"get","version":"x"}'		'8:bad-request'
	'{"id":9,"cmd":"commit","base":"one","config":{}}' '9:bad-request'
	'{"id":10,"cmd":"explode"}'			'10:unknown-command'
	'{"id":11,"cmd":"admin","farm":"mx"}'		'11:bad-request'
	'{"id":12,"cmd":"admin","farm":"mx","server":"s1","state":"asleep"}' '12:bad-request'
	'{"id":"thirteen","cmd":"get"}'			'thirteen:ok'
)
raw="" want=""
for ((i = 0; i < ${#LINES[@]}; i += 2)); do
	raw="$raw${LINES[i]}\n"
	want="$want${want:+ }${LINES[i + 1]}"
done
# Then a truncated line, no newline, and EOF: nothing to answer.
$CTL -t 5 --raw "$raw"'{"id":14,"cmd":"he' "$SOCK" >"$T_DIR/garbage.out" 2>&1
got=$(codes "$T_DIR/garbage.out")
check_eq "garbage: each line its error code, then a good request is answered" "$want" "$got"
check "the truncated last line (no newline, then EOF) got no reply and the engine closed" \
	eval '[ "$(tail -1 "$T_DIR/garbage.out")" = "# end=eof" ]'
check "every error has a message" $PY -c 'import json,sys
for l in open(sys.argv[1]):
    r = None if l.startswith("#") else json.loads(l)
    if r and not r["ok"] and len(r["error"]["message"]) < 10: sys.exit(1)' "$T_DIR/garbage.out"
check "the unknown command's message lists the known ones" \
	log_has "$T_DIR/garbage.out" '"id":10,.*known: hello, get'

# The same connection survives its errors: two mistakes, then hello.
$CTL "$SOCK" '{"id":1,"cmd":"nope"}' '{"id":2,"cmd":"get","version":-1}' '{"id":3,"cmd":"hello"}' \
	>"$T_DIR/one.out"
check_eq "on one connection: unknown-command, bad-request, then hello answered" \
	"1:unknown-command 2:bad-request 3:ok" "$(codes "$T_DIR/one.out")"

# --- a 100 MB line and a client that never reads, at the same time -----------
spawn bigline "$PY" "$T_PEERS/ctl.py" -t 20 --bigline 100 "$SOCK"
BIG_PID=$SPAWNED_PID
spawn noread "$PY" "$T_PEERS/ctl.py" -t 25 --noread 300000 "$SOCK"
NOREAD_PID=$SPAWNED_PID

# --- 200 clients at once, each says hello -----------------------------------
out=$($CTL -t 10 --many 200 "$SOCK")
check_eq "200 clients at once: every hello answered" "# ok=200 failed=0" "$(head -1 <<<"$out")"
[ "$(head -1 <<<"$out")" = "# ok=200 failed=0" ] || printf '%s\n' "$out"

wait_until 25 t_gone "$BIG_PID" || note "the 100 MB sender still runs"
big=$(cat "$T_DIR/bigline.log")
check_eq "100 MB line: answered too-long" None:too-long "$(codes "$T_DIR/bigline.log")"
sent=$(sed -n 's/^# sent=\([0-9]*\) .*/\1/p' "$T_DIR/bigline.log")
check "100 MB line: the engine closed the connection (${big##*# })" \
	eval "[[ \$big == *'end=eof'* || \$big == *'end=reset'* ]]"
check "100 MB line: the engine stopped reading well before 100 MB (sent $sent bytes)" \
	test "${sent:-0}" -lt $((40 * 1024 * 1024))
check "engine logged the oversized line" log_has "$ENGINE_LOG" "control: root \(pid [0-9]+\) sent an oversized line, dropped"

wait_until 30 t_gone "$NOREAD_PID" || note "the never-reading client still runs"
nr=$(cat "$T_DIR/noread.log")
check "the client that never reads was dropped ($nr)" eval "[[ \$nr == *'end=closed'* ]]"
check "engine logged it" log_has "$ENGINE_LOG" "control: root \(pid [0-9]+\) reads no replies, dropped"

hwm=$(vm "$ENGINE_PID" VmHWM)
check "engine peak memory stayed under $((RSS_MAX_KB / 1024)) MB (VmHWM ${hwm} kB)" \
	test "${hwm:-999999999}" -lt "$RSS_MAX_KB"
hwm1=$hwm

# Again: what the dropped clients held is reused, not leaked (glibc may or
# may not give it back to the system, so the peak is what is compared).
spawn bigline2 "$PY" "$T_PEERS/ctl.py" -t 20 --bigline 100 "$SOCK"
BIG_PID=$SPAWNED_PID
spawn noread2 "$PY" "$T_PEERS/ctl.py" -t 25 --noread 300000 "$SOCK"
NOREAD_PID=$SPAWNED_PID
wait_until 25 t_gone "$BIG_PID"
wait_until 30 t_gone "$NOREAD_PID"
check "second round: too-long and dropped again" \
	eval 'log_has "$T_DIR/bigline2.log" "\"too-long\"" && log_has "$T_DIR/noread2.log" "end=closed"'
hwm=$(vm "$ENGINE_PID" VmHWM)
check "second round: the peak did not grow by more than 16 MB (VmHWM $hwm1 -> $hwm kB)" \
	test "${hwm:-999999999}" -lt $((${hwm1:-0} + 16 * 1024))
note "engine VmRSS now $(vm "$ENGINE_PID" VmRSS) kB"

# --- meanwhile ---------------------------------------------------------------
wait_until 20 t_gone "$POLL_PID"
poll=$(tail -1 "$T_DIR/poll.log")
check "another client was answered all along ($poll)" eval "[[ \$poll =~ ^'# asked='([0-9]+)' answered='([0-9]+) && \${BASH_REMATCH[1]} == \${BASH_REMATCH[2]} && \${BASH_REMATCH[1]} -gt 50 ]]"
maxms=$(sed -n 's/.*max_ms=\([0-9]*\).*/\1/p' <<<"$poll")
check "its slowest reply took under 3 s (${maxms} ms)" test "${maxms:-99999}" -lt 3000

wait_until 20 t_gone "$LOAD_PID"
summary=$(cat "$T_DIR/load.log")
n=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' <<<"$summary")
check "mail kept flowing: $summary" eval "[ '${n:-0}' -gt 50 ] && [ '$summary' = 'sent=$n delivered=$n tempfail=0 permfail=0 lost=0 timeout=0 connect=0' ]"
wait_until 5 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") )) -ge "${n:-0}" ]'
check_eq "every message reached a sink" "${n:-0}" $(( $(sink_count "$P1") + $(sink_count "$P2") ))
r=$(smtpload 127.0.0.1 "$FE" -n 1 --timeout 10)
check_eq "a message after it all is delivered" \
	"sent=1 delivered=1 tempfail=0 permfail=0 lost=0 timeout=0 connect=0" "$r"

check "engine still running" alive "$ENGINE_PID"
pid=$($CTL -p result.pid "$SOCK" '{"id":1,"cmd":"hello"}')
check_eq "and still answers hello" "$ENGINE_PID" "$pid"

finish
