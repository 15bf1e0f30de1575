#!/bin/bash
# 20 commits through the control socket while smtpload sends 5,000 messages,
# one per connection: servers added and removed, weights changed, a frontend
# port added.  Every message is delivered (counted at the sinks), no session
# is cut (every session line ends "closed", smtpload saw no lost or
# tempfail), the new port answers once its commit is acknowledged, and the
# history lists 21 consecutive versions with the comments given.
. "$(dirname "$0")/../lib.sh"

N=${COMMITS_MSGS:-5000}
# The interpreter itself, not a version manager's shim: ctl.py runs often.
PY=$(python3 -c 'import sys; print(sys.executable)')
CTL="$PY $T_PEERS/ctl.py"
# FE2: added by a commit
free_ports FE FE2 P1 P2 P3 P4
declare -A SPORT=([s1]=$P1 [s2]=$P2 [s3]=$P3 [s4]=$P4)

# conf FILE BIND SERVER:WEIGHT...: the zone's config.
conf() {
	local file=$1 bind=$2 sv srv=()
	shift 2
	for sv in "$@"; do
		srv+=(server "${sv%%:*}" "${SPORT[${sv%%:*}]}" weight="${sv#*:}")
	done
	zone_config "$file" commits farm mx probe=smtp probe-interval=1 probe-timeout=2 \
		probe-rise=1 probe-fall=3 connect-timeout=2 "${srv[@]}" \
		frontend in "$bind" maxconn=1000 source-maxconn=200 source-rate=1000000
}

# The 20 steps: the frontend's ports, then the servers with their weights.
# Every step keeps at least two servers of the one before.
STEPS=(
	"$FE s1:1 s2:1 s3:1"		# 1 add s3
	"$FE s1:2 s2:1 s3:1"		# 2 weight
	"$FE s1:2 s2:1 s3:1 s4:1"	# 3 add s4
	"$FE s2:1 s3:1 s4:1"		# 4 remove s1
	"$FE s2:3 s3:1 s4:1"		# 5 weight
	"$FE s2:3 s3:1 s4:2"		# 6 weight
	"$FE,$FE2 s1:1 s2:3 s3:1 s4:2"	# 7 add s1 and a frontend port
	"$FE,$FE2 s1:1 s2:3 s4:2"	# 8 remove s3
	"$FE,$FE2 s1:4 s2:3 s4:2"	# 9 weight
	"$FE,$FE2 s1:4 s2:1 s4:2"	# 10 weight
	"$FE,$FE2 s1:4 s2:1 s3:1 s4:2"	# 11 add s3
	"$FE,$FE2 s1:4 s3:1 s4:2"	# 12 remove s2
	"$FE,$FE2 s1:1 s3:1 s4:2"	# 13 weight
	"$FE,$FE2 s1:1 s2:1 s3:1 s4:2"	# 14 add s2
	"$FE,$FE2 s1:1 s2:1 s3:5 s4:2"	# 15 weight
	"$FE,$FE2 s1:1 s2:1 s3:5"	# 16 remove s4
	"$FE,$FE2 s1:1 s2:2 s3:5"	# 17 weight
	"$FE,$FE2 s1:1 s2:2 s3:5 s4:1"	# 18 add s4
	"$FE,$FE2 s2:2 s3:5 s4:1"	# 19 remove s1
	"$FE,$FE2 s1:1 s2:2 s3:1 s4:1"	# 20 add s1, weights
)

conf "$T_DIR/commits.json" "$FE" s1:1 s2:1
for i in "${!STEPS[@]}"; do
	# shellcheck disable=SC2086 # a step is words on purpose
	conf "$T_DIR/step$((i + 1)).json" ${STEPS[i]}
done

for p in "$P1" "$P2" "$P3" "$P4"; do
	start_sink "$p" || die "smtp-sink on $p did not start"
done
start_engine "$T_DIR/commits.json" || die "engine did not start"
SOCK=$MXLB_RUNDIR/commits.sock
check "control socket $SOCK exists" test -S "$SOCK"
check_eq "version 1 runs (imported from -c)" 1 "$($CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}')"
check "port $FE2 is not open before its commit" t_not_listening 127.0.0.1 "$FE2"

# Paced so the load lasts longer than the commits (about 15 s).
spawn load "$PY" "$T_PEERS/smtpload.py" 127.0.0.1 "$FE" -n "$N" -c 8 --pause 0.015 \
	--timeout 15 --log "$T_DIR/load.records"
LOAD_PID=$SPAWNED_PID
check "the load delivers before the commits" \
	wait_until 5 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") )) -ge 200 ]'

fe2_msgs=0
commit_fail=0
t0=$(now)
for i in $(seq 1 20); do
	out=$($CTL --commit "$T_DIR/step$i.json" --comment "step $i" "$SOCK" 2>&1)
	v=error
	[[ $out =~ ^\{\"id\":2,\"ok\":true,\"result\":\{\"version\":([0-9]+) ]] && v=${BASH_REMATCH[1]}
	if [ "$v" != $((i + 1)) ]; then
		commit_fail=$((commit_fail + 1))
		note "commit $i: $out"
	fi
	if [ "$i" = 7 ]; then
		# Acknowledged means switched in: the new port listens now.
		check "port $FE2 listens once commit 7 is acknowledged" listening 127.0.0.1 "$FE2"
		r=$(smtpload 127.0.0.1 "$FE2" -n 5 -c 1 --timeout 10)
		check_eq "5 messages through the new port $FE2" \
			"sent=5 delivered=5 tempfail=0 permfail=0 lost=0 timeout=0 connect=0" "$r"
		fe2_msgs=5
	fi
	sleep 0.3	# commits spread over the load: the pacing under test
done
check_eq "20 commits acknowledged, versions 2-21" 0 "$commit_fail"
note "20 commits in $(fsub "$(now)" "$t0") s"
if alive "$LOAD_PID"; then
	ok "the load was still running after the 20th commit"
else
	fail "the load was still running after the 20th commit" "it ended first: commits not under load"
fi
check "port $FE still listens" listening 127.0.0.1 "$FE"

check "the load ends within 60 s" wait_until 60 t_gone "$LOAD_PID"
summary=$(cat "$T_DIR/load.log")
note "load: $(awk 'NR == 1 { a = $1 } { b = $2 } END { printf "%.1f", b - a }' "$T_DIR/load.records") s"
check_eq "smtpload: every message delivered" \
	"sent=$N delivered=$N tempfail=0 permfail=0 lost=0 timeout=0 connect=0" "$summary"

total=$((N + fe2_msgs))
wait_until 5 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") + $(sink_count "$P3") + $(sink_count "$P4") )) -ge "$total" ]'
c1=$(sink_count "$P1") c2=$(sink_count "$P2") c3=$(sink_count "$P3") c4=$(sink_count "$P4")
check_eq "all $total messages at the sinks ($c1 + $c2 + $c3 + $c4)" "$total" $((c1 + c2 + c3 + c4))
note "per sink: s1=$c1 s2=$c2 s3=$c3 s4=$c4"
for s in s3 s4; do
	p=${SPORT[$s]}
	check "$s (added by a commit) got mail" test "$(sink_count "$p")" -gt 0
done

# One session line per connection, each ended by the peers' QUIT/close.
wait_until 5 eval '[ $(log_count "$ENGINE_LOG" " session ") -ge "$total" ]'
check_eq "engine logged $total sessions" "$total" "$(log_count "$ENGINE_LOG" " session ")"
bad=$(grep -E " session " "$ENGINE_LOG" | grep -Evc " end=closed( |$)")
check_eq "no session cut: every session ended closed" 0 "$bad"
[ "$bad" = 0 ] || grep -E " session " "$ENGINE_LOG" | grep -Ev " end=closed( |$)" | head -5 | sed 's/^/#   /'

# The history: 21 consecutive versions, the comments as given.
$CTL "$SOCK" '{"id":1,"cmd":"history"}' >"$T_DIR/history.json"
hist=$(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))["result"]
print(" ".join(str(v["version"]) for v in r["versions"]))' "$T_DIR/history.json")
check_eq "history versions are consecutive" "$(seq -s ' ' 1 21)" "$hist"
comments=$(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))["result"]
print("|".join(v["comment"] for v in r["versions"][1:]))' "$T_DIR/history.json")
check_eq "history comments are the ones given" "$(seq -s '|' -f 'step %g' 1 20)" "$comments"
users=$(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))["result"]
print(" ".join(sorted(set(v["user"] for v in r["versions"][1:]))))' "$T_DIR/history.json")
check_eq "history names the committer (root)" root "$users"
check_eq "get shows version 21 running" 21 "$($CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}')"
servers=$($CTL -p result.config.farms.0.servers "$SOCK" '{"id":1,"cmd":"get"}' |
	python3 -c 'import json,sys; print(" ".join("%s:%s" % (s["name"], s.get("weight", 1)) for s in json.load(sys.stdin)))')
check_eq "the running config is step 20's" "s1:1 s2:2 s3:1 s4:1" "$servers"
check "engine still running" alive "$ENGINE_PID"

finish
