#!/bin/bash
# run: alone (it adds groups to the system)
# Issue 10: zone names and zones that share a run directory.
#
#  1. `mxlbd -z ..` and `mxlbd -z .` (and `-z .hidden`) are refused with the
#     name rule and exit 2, before anything touches the disk: the run and
#     state directories and their parents keep their modes, owners and
#     contents (today `-z ..` chmods the parent of the state directory and
#     puts a socket at RUNDIR/...sock).
#  2. Zones A and B share one run directory, with read-only groups G1 and G2
#     (two throwaway groups).  Starting B does not lock G1 out of A: each
#     socket has its own group (A.sock G1, B.sock G2, both 0660), the
#     directory is 0755; nobody with group G1 only says hello to A and is
#     refused by B's socket mode, and the other way round.  A third zone
#     with no group has a 0600 socket (0660 of group mxlb if that exists).
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || die "this suite runs as root (groupadd, setpriv)"
command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"
SYSPY=/usr/bin/python3
[ -x "$SYSPY" ] || die "$SYSPY is missing"

# --- 1. names that are not zone names ---------------------------------------------
# snapshot: every path under the suite's dir, with mode, owner and group.
snapshot() {
	find "$T_DIR" -path "$T_DIR/*.log" -prune -o -printf '%p %m %u %g\n' 2>/dev/null | sort
	stat -c '%n %a %U %G' "$(dirname "$T_DIR")"
}
mkdir -p "$MXLB_STATEDIR/keep" "$MXLB_RUNDIR"
chmod 755 "$T_DIR" "$MXLB_STATEDIR" "$MXLB_RUNDIR"
before=$(snapshot)
for z in .. . .hidden; do
	out=$(timeout -k 2 5 "$MXLBD" -z "$z" -f 2>&1)
	rc=$?
	check_eq "mxlbd -z '$z': exit 2" 2 "$rc"
	check "mxlbd -z '$z' says why ($out)" eval '[[ "$out" == *"does not start with a dot"* ]]'
done
after=$(snapshot)
check "nothing on disk changed (modes, owners, files)" test "$before" = "$after"
[ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after") | sed 's/^/#   /'
check "no socket named ...sock or ..sock" eval '! ls -a "$MXLB_RUNDIR" | grep -q "^\.\.*sock$"'

# --- 2. two zones, one run directory, two read groups -------------------------------
G1=mxlbt-z1-$$
G2=mxlbt-z2-$$
for g in "$G1" "$G2"; do
	getent group "$g" >/dev/null && die "group $g already exists"
	groupadd "$g" || die "groupadd $g failed"
	at_exit "groupdel $g"
done

zone_conf() {	# zone_conf NAME: a zone with one frontend, no probes
	free_port
	cat >"$T_DIR/$1.json" <<EOF
{ "zone": "$1",
  "farms": [ { "name": "mx", "probe": "none",
               "servers": [ { "address": "127.0.0.1", "port": 9, "name": "s1" } ] } ],
  "frontends": [ { "name": "in", "bind": "$PORT", "address": ["127.0.0.1"], "farm": "mx" } ] }
EOF
}
start_zone() {	# start_zone NAME [FLAGS...]
	local z=$1
	shift
	zone_conf "$z"
	spawn "engine-$z" "$MXLBD" -z "$z" -c "$T_DIR/$z.json" -f "$@"
	wait_log "$T_DIR/engine-$z.log" " ready zone=$z " 10 ||
		die "zone $z not ready: $(tail -3 "$T_DIR/engine-$z.log")"
}
hello_as() {	# hello_as GROUP ZONE: hello as nobody with GROUP only; prints the access or the error
	setpriv --reuid=nobody --regid="$1" --clear-groups "$SYSPY" "$T_PEERS/ctl.py" -t 5 \
		-p result.access "$MXLB_RUNDIR/$2.sock" '{"id":1,"cmd":"hello"}' 2>&1 | tail -1
}

start_zone za --read-group "$G1"
check_eq "zone A alone: nobody in $G1 may read A" read "$(hello_as "$G1" za)"
start_zone zb --read-group "$G2"
start_zone zc

check_eq "run directory: 0755, shared by the zones" 755 "$(stat -c %a "$MXLB_RUNDIR")"
check_eq "A's socket: 0660, group $G1" "660 $G1" "$(stat -c '%a %G' "$MXLB_RUNDIR/za.sock")"
check_eq "B's socket: 0660, group $G2" "660 $G2" "$(stat -c '%a %G' "$MXLB_RUNDIR/zb.sock")"
if getent group mxlb >/dev/null; then	# the default admin group
	check_eq "C's socket (the default admin group mxlb): 0660" "660 mxlb" "$(stat -c '%a %G' "$MXLB_RUNDIR/zc.sock")"
else
	check_eq "C's socket (no group): 0600" 600 "$(stat -c %a "$MXLB_RUNDIR/zc.sock")"
fi
check_eq "after B started, nobody in $G1 still reads A" read "$(hello_as "$G1" za)"
check_eq "nobody in $G2 reads B" read "$(hello_as "$G2" zb)"
check "nobody in $G1 cannot connect to B" eval '[[ "$(hello_as "$G1" zb)" == *"Permission denied"* ]]'
check "nobody in $G2 cannot connect to A" eval '[[ "$(hello_as "$G2" za)" == *"Permission denied"* ]]'
check "nobody in $G1 cannot connect to C" eval '[[ "$(hello_as "$G1" zc)" == *"Permission denied"* ]]'

finish
