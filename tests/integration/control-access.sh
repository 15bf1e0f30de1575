#!/bin/bash
# run: alone (it adds groups to the system)
# Who may use the control socket.  The engine runs with --group ADMIN and
# --read-group READ (two throwaway groups).  The run directory is 0755 (zones
# share it) and the socket 0660 of group READ.  A client run as nobody with group
# READ can hello, get, stats, history and subscribe, but commit, admin,
# confirm and rollback are refused with "denied" (each refusal logged).  A
# client run as nobody with group ADMIN may commit.  nobody with no group is
# refused.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || die "this suite runs as root (groupadd, setpriv)"
command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"
PY=$(python3 -c 'import sys; print(sys.executable)')
CTL="$PY $T_PEERS/ctl.py"
# nobody cannot use root's Python (a version manager under /root): the
# system's.
SYSPY=/usr/bin/python3
[ -x "$SYSPY" ] || die "$SYSPY is missing"
ZONE=access
SOCK=$MXLB_RUNDIR/$ZONE.sock
free_ports FE P1

G_READ=mxlbt-ro-$$
G_ADMIN=mxlbt-adm-$$
for g in "$G_READ" "$G_ADMIN"; do
	getent group "$g" >/dev/null && die "group $g already exists"
	groupadd "$g" || die "groupadd $g failed"
	at_exit "groupdel $g"
done

zone_config "$T_DIR/$ZONE.json" "$ZONE" \
	farm mx probe=smtp probe-interval=1 \
		server s1 "$P1" \
	frontend in "$FE"
sed 's/"name": "s1" }/"name": "s1", "weight": 2 }/' "$T_DIR/$ZONE.json" >"$T_DIR/w2.json"
chmod 644 "$T_DIR"/*.json

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_engine "$T_DIR/$ZONE.json" engine --group "$G_ADMIN" --read-group "$G_READ" ||
	die "engine not ready"

check_eq "run directory: mode 0755 (zones share it; each socket decides)" "755" "$(stat -c '%a' "$MXLB_RUNDIR")"
check_eq "socket: mode 0660, group $G_READ" "660 $G_READ" "$(stat -c '%a %G' "$SOCK")"

as() {	# as GROUP ctl.py-ARGS...: ctl.py as nobody, GROUP its only group
	local g=$1
	shift
	setpriv --reuid=nobody --regid="$g" --clear-groups "$SYSPY" "$T_PEERS/ctl.py" "$@"
}
refusals() {
	log_count "$ENGINE_LOG" "control: refused"
}

# --- the read-only group --------------------------------------------------------
out=$(as "$G_READ" "$SOCK" '{"id":1,"cmd":"hello"}')
acc=$($SYSPY -c 'import json,sys; r = json.loads(sys.argv[1])["result"]; print(r["user"], r["access"])' "$out" 2>/dev/null)
check_eq "read-only: hello answers, as nobody with read access" "nobody read" "$acc"
for cmd in get stats history; do
	check "read-only: $cmd answered" eval "as '$G_READ' '$SOCK' '{\"id\":1,\"cmd\":\"$cmd\"}' >/dev/null"
done
check_eq "read-only: get shows version 1" 1 "$(as "$G_READ" -p result.running "$SOCK" '{"id":1,"cmd":"get"}')"

# A read-only subscriber sees what the admins do.
spawn rosub setpriv --reuid=nobody --regid="$G_READ" --clear-groups "$SYSPY" "$T_PEERS/ctl.py" --subscribe 15 "$SOCK"
ROSUB_PID=$SPAWNED_PID
wait_log "$T_DIR/rosub.log" '"id":"sub","ok":true' 5
check "read-only: subscribe acknowledged" log_has "$T_DIR/rosub.log" '"id":"sub","ok":true'

before=$(refusals)
denied=0
for req in \
	"{\"id\":1,\"cmd\":\"commit\",\"base\":1,\"config\":$(cat "$T_DIR/w2.json")}" \
	'{"id":2,"cmd":"admin","farm":"mx","server":"s1","state":"drain"}' \
	'{"id":3,"cmd":"confirm"}' \
	'{"id":4,"cmd":"rollback","version":1}'; do
	cmd=$($SYSPY -c 'import json,sys; print(json.loads(sys.argv[1])["cmd"])' "$req")
	out=$(as "$G_READ" "$SOCK" "$req")
	code=$($SYSPY -c 'import json,sys; print(json.loads(sys.argv[1])["error"]["code"])' "$out" 2>/dev/null)
	check_eq "read-only: $cmd refused with denied" denied "$code"
	[ "$code" = denied ] && denied=$((denied + 1))
	note "$out"
done
check_eq "engine logged each of the 4 refusals" 4 $(($(refusals) - before))
check "the log names the user and the command" log_has "$ENGINE_LOG" "control: refused commit to nobody \(pid [0-9]+\): read-only"
check_eq "nothing changed: version 1 runs" 1 "$($CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}')"
s1=$($CTL -p result.farms.0.servers.0.admin "$SOCK" '{"id":1,"cmd":"stats"}')
check_eq "nothing changed: s1 is ready" ready "$s1"

# root may change things; the read-only subscriber sees it.
out=$($CTL --commit "$T_DIR/w2.json" --comment "by root" "$SOCK")
check "root: commit acknowledged as version 2 ($out)" eval "[[ \$out == *'\"result\":{\"version\":2,'* ]]"
wait_log "$T_DIR/rosub.log" '"event":"commit"' 5
check "read-only subscriber saw root's commit" eval "grep '\"event\":\"commit\"' '$T_DIR/rosub.log' | grep -q '\"version\":2'"

# --- the admin group --------------------------------------------------------------
# A member of the admin group only (not of the read group): the socket
# belongs to the read group, so the file modes keep it out, as mxlbd(8)
# documents (admins are members of both groups).
out=$(as "$G_ADMIN" "$SOCK" '{"id":1,"cmd":"hello"}' 2>&1)
note "admin group only, hello: $out"
check "admin group only: refused by the socket's mode (documented)" \
	eval "[[ \$out == *'Permission denied'* ]]"

# A member of both groups (admin as its group, read as a supplementary one).
both() {
	setpriv --reuid=nobody --regid="$G_ADMIN" --groups="$G_READ" "$SYSPY" "$T_PEERS/ctl.py" "$@"
}
out=$(both "$SOCK" '{"id":1,"cmd":"hello"}')
acc=$($SYSPY -c 'import json,sys; r = json.loads(sys.argv[1])["result"]; print(r["user"], r["access"])' "$out" 2>/dev/null)
check_eq "admin and read groups: hello answers, as nobody with admin access" "nobody admin" "$acc"
out=$(both "$SOCK" '{"id":1,"cmd":"admin","farm":"mx","server":"s1","state":"drain"}')
check_eq "admin and read groups: admin drain accepted" \
	'{"id":1,"ok":true,"result":{"farm":"mx","server":"s1","state":"drain"}}' "$out"
check_eq "stats shows s1 in drain" drain "$($CTL -p result.farms.0.servers.0.admin "$SOCK" '{"id":1,"cmd":"stats"}')"
v=$($CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}')
out=$(both --commit "$T_DIR/$ZONE.json" --comment "by the admin group" "$SOCK")
check "admin and read groups: commit acknowledged as version $((v + 1)) ($out)" \
	eval "[[ \$out == *'\"result\":{\"version\":$((v + 1)),'* ]]"
user=$($CTL -p result.versions.-1.user "$SOCK" '{"id":1,"cmd":"history"}')
check_eq "history names nobody as the committer" nobody "$user"

# --- nobody, in no group of the zone ----------------------------------------------
before=$(refusals)
v=$($CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}')
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$SYSPY" "$T_PEERS/ctl.py" -t 5 "$SOCK" '{"id":1,"cmd":"hello"}' 2>&1)
rc=$?
note "outsider: exit $rc: $out"
check "outsider: refused (exit $rc)" test "$rc" -ne 0
if [[ $out == connect-error:*"Permission denied"* ]]; then
	ok "outsider: the system refuses the connect (Permission denied: the run directory is 0750)"
elif [[ $out == *'"code":"denied"'* ]]; then
	ok "outsider: the engine answers denied"
	check "the engine logged the refusal" test "$(refusals)" -gt "$before"
else
	fail "outsider: a clear refusal" "got: $out"
fi
check "outsider: never got an answer" eval "[[ \$out != *'\"ok\":true'* ]]"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$SYSPY" "$T_PEERS/ctl.py" -t 5 "$SOCK" \
	"{\"id\":1,\"cmd\":\"commit\",\"base\":$v,\"config\":$(cat "$T_DIR/w2.json")}" 2>&1)
check "outsider: a commit is refused too" eval "[[ \$out != *'\"ok\":true'* ]]"
check_eq "nothing changed: version $v runs" "$v" "$($CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}')"

check "engine still running" alive "$ENGINE_PID"
stop_pid "$ROSUB_PID"

finish
