#!/bin/bash
# What a zone keeps across a crash.  kill -9 the engine after a commit and
# after "admin ... drain": restarted without -c, and again with a -c file
# holding the running config, it runs the same version with the same config
# and the server is still draining (no new mail reaches it).  kill -9 in the
# middle of a stream of commits: the last acknowledged one is running after
# the restart.  A second engine for a running zone refuses to start and says
# so; after a kill -9 the stale socket is replaced.  mxlbd -n checks a file.
. "$(dirname "$0")/../lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
CTL="$PY $T_PEERS/ctl.py"
ZONE=persist
SOCK=$MXLB_RUNDIR/$ZONE.sock
STATE=$MXLB_STATEDIR/$ZONE
free_ports FE P1 P2

FARM=(farm mx probe=smtp probe-interval=1 probe-timeout=2 probe-rise=1 connect-timeout=2)
zone_config "$T_DIR/$ZONE.json" "$ZONE" "${FARM[@]}" server s1 "$P1" server s2 "$P2" weight=1 \
	frontend in "$FE" maxconn=100
zone_config "$T_DIR/v2.json" "$ZONE" "${FARM[@]}" balance=leastconn server s1 "$P1" server s2 "$P2" weight=3 \
	frontend in "$FE" maxconn=100

# --- mxlbd -n ---------------------------------------------------------------
out=$("$MXLBD" -n -c "$T_DIR/$ZONE.json" 2>&1)
rc=$?
check_eq "mxlbd -n on a good file exits 0" 0 "$rc"
check "mxlbd -n on a good file says OK ($out)" eval "[[ \$out == *OK* ]]"
cat >"$T_DIR/bad.json" <<EOF
{ "zone": "$ZONE",
  "farms": [ { "name": "mx", "balance": "fastest",
               "servers": [ { "address": "127.0.0.1", "port": $P1, "weight": 300 } ] } ],
  "frontends": [ { "name": "in", "bind": "$FE", "farm": "nope" } ] }
EOF
"$MXLBD" -n -c "$T_DIR/bad.json" >"$T_DIR/bad.out" 2>&1
rc=$?
check_eq "mxlbd -n on a bad file exits 1" 1 "$rc"
check "it lists the weight error" log_has "$T_DIR/bad.out" 'weight.*300'
check "it lists the balance error" log_has "$T_DIR/bad.out" 'fastest'
check "it lists the missing farm" log_has "$T_DIR/bad.out" '"?nope"?'
check "it counts the errors" log_has "$T_DIR/bad.out" '3 errors'
sed 's/^/#   /' "$T_DIR/bad.out"

# --- a commit and a drain, then kill -9 -------------------------------------
start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/$ZONE.json" || die "engine did not start"

out=$($CTL --commit "$T_DIR/v2.json" --comment "s2 weight 3, leastconn" "$SOCK")
check "commit acknowledged as version 2 ($out)" eval "[[ \$out == *'\"result\":{\"version\":2,'* ]]"
out=$($CTL "$SOCK" '{"id":1,"cmd":"admin","farm":"mx","server":"s1","state":"drain"}')
check_eq "admin mx s1 drain acknowledged" \
	'{"id":1,"ok":true,"result":{"farm":"mx","server":"s1","state":"drain"}}' "$out"
$CTL -p result.config "$SOCK" '{"id":1,"cmd":"get"}' >"$T_DIR/running.json"
$CTL -p result.versions "$SOCK" '{"id":1,"cmd":"history"}' >"$T_DIR/history.json"

# s1_admin: the admin state of s1 in `stats`.
s1_admin() {
	$CTL -p result.farms.0.servers "$SOCK" '{"id":1,"cmd":"stats"}' |
		$PY -c 'import json,sys; print([s for s in json.load(sys.stdin) if s["name"] == "s1"][0]["admin"])'
}
check_eq "stats: s1 admin drain" drain "$(s1_admin)"

# A second engine while the first runs: refused, the first keeps its socket.
timeout 10 "$MXLBD" -z "$ZONE" -f >"$T_DIR/second.out" 2>&1
rc=$?
check "a second engine (-f) exits non-zero (got $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "it says the zone is already running" log_has "$T_DIR/second.out" "already running"
sed 's/^/#   /' "$T_DIR/second.out"
timeout 10 "$MXLBD" -z "$ZONE" >"$T_DIR/second-daemon.out" 2>&1
rc=$?
check "a second engine (no -f) exits non-zero (got $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "without -f too, it says so on the terminal" log_has "$T_DIR/second-daemon.out" "already running"
pid=$($CTL -p result.pid "$SOCK" '{"id":1,"cmd":"hello"}')
check_eq "the first engine still answers on its socket" "$ENGINE_PID" "$pid"

kill -9 "$ENGINE_PID"
wait_until 5 t_gone "$ENGINE_PID"
check "after kill -9 the socket is left behind (stale)" test -S "$SOCK"
check "no engine answers on it" eval "! $CTL -t 2 '$SOCK' '{\"id\":1,\"cmd\":\"hello\"}' >/dev/null 2>&1"
no_temp_files() {
	[ -z "$(find "$STATE" -name '*.tmp')" ]
}
check "the state dir holds state.json and no temp file" eval 'test -f "$STATE/state.json" && no_temp_files'

# restarted: same version, same config, same history, s1 still draining.
verify_restart() {	# verify_restart HOW
	local how=$1 v
	v=$($CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}')
	check_eq "$how: version 2 runs" 2 "$v"
	check "$how: get shows the same config" \
		eval "[ \"\$($CTL -p result.config '$SOCK' '{\"id\":1,\"cmd\":\"get\"}')\" = \"\$(cat '$T_DIR/running.json')\" ]"
	check "$how: the same history" \
		eval "[ \"\$($CTL -p result.versions '$SOCK' '{\"id\":1,\"cmd\":\"history\"}')\" = \"\$(cat '$T_DIR/history.json')\" ]"
	check_eq "$how: stats shows s1 still in drain" drain "$(s1_admin)"
	# Draining: new mail goes to s2 only.
	local b1 b2 r
	b1=$(sink_count "$P1") b2=$(sink_count "$P2")
	r=$(smtpload 127.0.0.1 "$FE" -n 10 -c 2 --timeout 10)
	check_eq "$how: 10 messages delivered" \
		"sent=10 delivered=10 tempfail=0 permfail=0 lost=0 timeout=0 connect=0" "$r"
	wait_until 3 eval '[ $(($(sink_count "$P2") - b2)) -ge 10 ]'
	check_eq "$how: none reached the draining s1, 10 reached s2" "0 10" \
		"$(($(sink_count "$P1") - b1)) $(($(sink_count "$P2") - b2))"
}

start_engine -z "$ZONE" engine2 || die "restarted engine (no -c) not ready"
check "the stale socket was replaced" eval "$CTL '$SOCK' '{\"id\":1,\"cmd\":\"hello\"}' >/dev/null"
check "restart without -c: restored version 2" log_has "$ENGINE_LOG" "restored zone=$ZONE version=2"
wait_port 127.0.0.1 "$FE" 5
verify_restart "restart without -c"

# Again, with -c naming a file that holds the running config: no new version.
kill -9 "$ENGINE_PID"
wait_until 5 t_gone "$ENGINE_PID"
$PY -c 'import json,sys; json.dump(json.load(open(sys.argv[1])), open(sys.argv[2], "w"), indent=1)' \
	"$T_DIR/running.json" "$T_DIR/same.json"
start_engine "$T_DIR/same.json" engine3 || die "restarted engine (same -c) not ready"
check "restart with the same -c: nothing imported" eval '! log_has "$ENGINE_LOG" " import zone="'
wait_port 127.0.0.1 "$FE" 5
verify_restart "restart with the same -c"

# --- kill -9 in the middle of a stream of commits ----------------------------
# A background client commits as fast as it can and records each version it
# got acknowledged; the engine is killed under it.
$CTL "$SOCK" '{"id":1,"cmd":"admin","farm":"mx","server":"s1","state":"ready"}' >/dev/null
cat >"$T_DIR/committer.py" <<'EOF'
import json, socket, sys
sock, conf, out = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3], "w")
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = s.makefile("rb")
def ask(req):
    s.sendall((json.dumps(req) + "\n").encode())
    line = f.readline()
    if not line:
        raise EOFError
    return json.loads(line)
base = ask({"id": 0, "cmd": "get"})["result"]["running"]
try:
    for i in range(1, 100000):
        conf["farms"][0]["servers"][1]["weight"] = 1 + i % 200
        r = ask({"id": i, "cmd": "commit", "base": base, "config": conf, "comment": "w%d" % (1 + i % 200)})
        if not r.get("ok"):
            print("refused", r, file=sys.stderr)
            break
        base = r["result"]["version"]
        out.write("%d %d\n" % (base, 1 + i % 200))
        out.flush()
except (EOFError, OSError):
    pass
EOF
spawn committer "$PY" "$T_DIR/committer.py" "$SOCK" "$T_DIR/same.json" "$T_DIR/acked"
COMMITTER_PID=$SPAWNED_PID
wait_until 10 eval '[ "$(cat "$T_DIR/acked" 2>/dev/null | wc -l)" -ge 20 ]' ||
	note "few commits acknowledged before the kill"
kill -9 "$ENGINE_PID"
wait_until 5 t_gone "$ENGINE_PID"
wait_until 5 t_gone "$COMMITTER_PID"
last=$(tail -1 "$T_DIR/acked")
acked=${last%% *}
note "last acknowledged before kill -9: version $acked ($(wc -l <"$T_DIR/acked") commits)"
start_engine -z "$ZONE" engine4 || die "engine not ready after kill -9 during commits"
v=$($CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}')
# One commit may have been saved but not acknowledged when the kill came.
check "the last acknowledged commit ($acked) or the one after runs (got $v)" \
	eval "[ '$v' = '$acked' ] || [ '$v' = '$((acked + 1))' ]"
w=$($CTL -p result.config.farms.0.servers.1.weight "$SOCK" '{"id":1,"cmd":"get"}')
c=$($CTL -p result.versions.-1.comment "$SOCK" '{"id":1,"cmd":"history"}')
check_eq "its config and its history entry agree" "w$w" "$c"
if [ "$v" = "$acked" ]; then
	check_eq "the acknowledged version's config (weight ${last#* })" "${last#* }" "$w"
fi
check "engine still running" alive "$ENGINE_PID"

finish
