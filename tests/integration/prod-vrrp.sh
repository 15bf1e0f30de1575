#!/bin/bash
# run: alone (keepalived's timers decide who holds the address)
# Issue 13: two mxlb nodes and a VIP, with keepalived (VRRP).
#
# Three network namespaces of this run only: node A, node B and a client
# (the operator's workstation and a sending MTA).  The client namespace
# holds a bridge; each node's eth0 is a veth on it, so all three share one
# L2 segment, 192.0.2.0/24 (TEST-NET-1, only inside these namespaces).  The
# VIP is 192.0.2.25, as in share/examples/keepalived.conf.
#
# Each node runs zone "inbound": frontend on VIP:25 (bound before the node
# holds the VIP: IP_FREEBIND), a farm of two smtp-sinks on the node's own
# 127.0.0.1, a private sshd on the node's address, and keepalived in the
# foreground with the example config (script path, priority and timings
# changed; see ka_conf), whose track script is `mxlb check inbound` against
# the node's own engine.  Object names carry the node (mx-a, mx-b): the
# shell wants farm and frontend names unique over the zones it sees.
#
#  1. One `mxlb -c '...; zone apply all'` in the client namespace, with a
#     zones file of two lines (ssh to each node, `mxlb bridge inbound`),
#     changes both nodes: each engine's own socket shows the new version,
#     by root, with the comment, running the change.
#  2. keepalived on A (priority 150) takes the VIP; B (100) stays BACKUP;
#     mail to the VIP goes through A.
#  3. Mail to the VIP from the client, a bounded loop of sessions, while
#     A's engine is killed (SIGKILL): the VIP leaves A and is on B within
#     the bound keepalived's settings give (track interval * (fall + 1) +
#     master-down time 3 * advert_int + skew, + slack), measured and
#     printed.  Every message is delivered (counted at the sinks, as many
#     as the client was told 250) or answered: a 4xx, or a connect refused
#     while A held the VIP with no engine (the sending MTA keeps the
#     message and retries either way); a session cut by the kill itself is
#     only allowed if it was in flight at that instant.  None timed out,
#     none 5xx; mail flows through B afterwards.
#  4. One of B's two servers stopped: mxlb check counts it down, but the
#     track script (the example's arguments) still succeeds, so B keeps the
#     VIP and takes mail with the server left (failing B would leave the VIP
#     nowhere: A has no engine).
#
# Skipped (with a note) only when network namespaces cannot be made here.
. "$(dirname "$0")/../lib.sh"
. "$T_PEERS/sshd.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
export MXLB_ZONES=/dev/null	# no zone of this machine's files
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"

if [ "$(id -u)" != 0 ]; then
	note "skipped: needs root for network namespaces"
	finish
fi
NS_PROBE=mxlbp$$
if ! ip netns add "$NS_PROBE" 2>"$T_DIR/netns.err"; then
	note "skipped: ip netns does not work here: $(head -1 "$T_DIR/netns.err")"
	finish
fi
ip netns del "$NS_PROBE"

KEEPALIVED=$(command -v keepalived || echo /usr/sbin/keepalived)
[ -x "$KEEPALIVED" ] || die "keepalived is not installed (share/install-deps installs it)"
command -v ssh >/dev/null || die "ssh is not installed (share/install-deps installs openssh-client)"
command -v smtp-sink >/dev/null || die "smtp-sink is not installed (postfix)"

EXAMPLE=$T_TOP/share/examples/keepalived.conf
VIP=192.0.2.25
NET=192.0.2
declare -A NS ADDR PRIO SINKS_BEFORE
NS[A]=mxlbA$$ NS[B]=mxlbB$$ NS[C]=mxlbC$$
ADDR[A]=$NET.11 ADDR[B]=$NET.12 ADDR[C]=$NET.100
PRIO[A]=150 PRIO[B]=100
SINK_PORTS=(2525 2526)

# The timings keepalived is given (the example's, made faster).
ADVERT_INT=1
TRACK_INTERVAL=1
TRACK_FALL=2
# Detection: up to interval * (fall + 1) (the kill falls anywhere between
# two runs); then B waits master-down = 3 * advert_int + skew at most
# (skew < advert_int), fewer if A's priority-0 advertisement comes first;
# + 2 s of slack for a loaded machine.
BOUND=$((TRACK_INTERVAL * (TRACK_FALL + 1) + 3 * ADVERT_INT + ADVERT_INT + 2))

# nsx NODE CMD...: CMD in NODE's namespace (ip netns exec execs CMD: PIDs are
# the command's own).
nsx() {
	local n=$1
	shift
	ip netns exec "${NS[$n]}" "$@"
}

# --- the namespaces and the segment -------------------------------------------

for n in A B C; do
	ip netns add "${NS[$n]}" || die "ip netns add ${NS[$n]} failed"
	at_exit "ip netns del ${NS[$n]}"
	nsx "$n" ip link set lo up
done
ip -n "${NS[C]}" link add br0 type bridge || die "no bridge in the client namespace"
for n in A B; do
	ip link add eth0 netns "${NS[$n]}" type veth peer name "v$n" netns "${NS[C]}" ||
		die "no veth pair for node $n"
	ip -n "${NS[C]}" link set "v$n" master br0
	ip -n "${NS[C]}" link set "v$n" up
	ip -n "${NS[$n]}" addr add "${ADDR[$n]}/24" dev eth0
	ip -n "${NS[$n]}" link set eth0 up
done
ip -n "${NS[C]}" addr add "${ADDR[C]}/24" dev br0
ip -n "${NS[C]}" link set br0 up

# --- mail servers and engines ---------------------------------------------------

# ns_listening NODE PORT: something listens on 127.0.0.1:PORT in NODE.
ns_listening() {
	[ -n "$(nsx "$1" ss -Hltn "sport = :$2" 2>/dev/null)" ]
}

# sink NODE PORT: smtp-sink on NODE's 127.0.0.1:PORT, dumping to
# $T_DIR/sink-NODEPORT (sink_count NODEPORT counts its messages).
sink() {
	local n=$1 port=$2 dir=$T_DIR/sink-$1$2
	mkdir -p "$dir"
	chown nobody "$dir"
	spawn "sink-$n$port" ip netns exec "${NS[$n]}" smtp-sink -u nobody \
		-D "$dir/dump" -S "$T_SINK_MARK\n" -m 512 "127.0.0.1:$port" 1024
	SINK_PID[$n$port]=$SPAWNED_PID
	wait_until 5 ns_listening "$n" "$port"
}

# node_sinks NODE: messages delivered to NODE's sinks.
node_sinks() {
	local p t=0
	for p in "${SINK_PORTS[@]}"; do
		t=$((t + $(sink_count "$1$p")))
	done
	echo "$t"
}

all_sinks() {
	echo $(($(node_sinks A) + $(node_sinks B)))
}

declare -A ENGINE_PIDS RUN SINK_PID
for n in A B; do
	l=${n,,}
	RUN[$n]=$T_DIR/node-$n/run
	mkdir -p "${RUN[$n]}" "$T_DIR/node-$n/state"
	for p in "${SINK_PORTS[@]}"; do
		sink "$n" "$p" || die "smtp-sink on node $n 127.0.0.1:$p did not start"
	done
	zone_config "$T_DIR/node-$n/inbound.json" inbound \
		farm "mx-$l" probe=smtp probe-interval=1 probe-timeout=2 probe-rise=1 probe-fall=2 connect-timeout=2 \
			server s1 "${SINK_PORTS[0]}" server s2 "${SINK_PORTS[1]}" \
		frontend "smtp-$l" 25 address="$VIP"
	ENGINE_WRAP=(ip netns exec "${NS[$n]}")
	MXLB_RUNDIR=${RUN[$n]} MXLB_STATEDIR=$T_DIR/node-$n/state \
		start_engine "$T_DIR/node-$n/inbound.json" "engine-$n" || die "engine of node $n not ready in 10 s"
	ENGINE_PIDS[$n]=$ENGINE_PID
done
ENGINE_WRAP=()

# The track script's arguments, as the example has them.
CHECK_ARGS=$(sed -n 's|^ *script "/usr/bin/mxlb check \(.*\)"$|\1|p' "$EXAMPLE")
[ -n "$CHECK_ARGS" ] || die "no 'script \"/usr/bin/mxlb check ...\"' line in $EXAMPLE"
# node_check NODE: `mxlb check $CHECK_ARGS` on NODE's engine, as keepalived
# runs it; OUT its line, RC its status.
node_check() {
	# shellcheck disable=SC2086
	OUT=$(nsx "$1" env MXLB_RUNDIR="${RUN[$1]}" timeout -k 5 20 "$MXLB" check $CHECK_ARGS 2>&1)
	RC=$?
}
check_ok() {
	node_check "$1"
	[ "$RC" -eq 0 ]
}
for n in A B; do
	check "node $n: mxlb check inbound is OK (both sinks up)" wait_until 10 check_ok "$n"
	note "node $n: $OUT"
done

# --- 1. one shell, both nodes, through ssh and mxlb bridge ----------------------------

S=$T_DIR/ssh
sshd_keys "$S"
for n in A B; do
	sshd_config "sshd-$n" "${ADDR[$n]}" 22
	spawn "sshd-$n" ip netns exec "${NS[$n]}" "$SSHD" -D -e -f "$S/sshd-$n.conf"
	wait_until 5 ns_listening "$n" 22 || die "sshd of node $n not listening: $(tail -3 "$T_DIR/sshd-$n.log" | tr '\n' ' ')"
done
# reaches ADDR: the client connects to ADDR's sshd (over the bridge).
reaches() {
	nsx C timeout 3 bash -c ": </dev/tcp/$1/22" 2>/dev/null
}
for n in A B; do
	check "the client reaches node $n (${ADDR[$n]}) over the bridge" wait_until 10 reaches "${ADDR[$n]}"
done

# The operator's zones file: lbA and lbB, each the zone inbound of one node.
ZONES=$T_DIR/zones
for n in A B; do
	printf 'lb%s command' "$n"
	printf ' %q' ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 \
		-o IdentitiesOnly=yes -i "$S/client" "root@${ADDR[$n]}" \
		env "MXLB_RUNDIR=${RUN[$n]}" "$MXLB" bridge inbound
	echo
done >"$ZONES"
mkdir -p "$T_DIR/client-run"	# the workstation's run dir: no local zone

# client_mx TAG CMDS: the shell in the client namespace; output in
# $T_DIR/TAG.out and .err, status in RC.
client_mx() {
	nsx C env MXLB_RUNDIR="$T_DIR/client-run" MXLB_ZONES="$ZONES" timeout -k 5 60 \
		"$MXLB" -c "$2" </dev/null >"$T_DIR/$1.out" 2>"$T_DIR/$1.err"
	RC=$?
}
# node_mx NODE TAG CMDS: the shell on NODE's engine's own socket.
node_mx() {
	MXLB_RUNDIR=${RUN[$1]} timeout -k 5 30 "$MXLB" -c "$3" </dev/null >"$T_DIR/$2.out" 2>"$T_DIR/$2.err"
	RC=$?
}

client_mx zones 'show zones'
check_eq "show zones in the client namespace: exit 0" 0 "$RC"
sed 's/^/#   /' "$T_DIR/zones.out"
for n in A B; do
	check "show zones: lb$n is up, version 1" \
		eval "awk '\$1 == \"lb$n\" && \$2 == \"up\" && \$3 == 1 { f = 1 } END { exit !f }' \"\$T_DIR/zones.out\""
done

client_mx apply 'farm set mx-a connect-timeout 3; farm set mx-b connect-timeout 3; zone apply all comment vrrp-pair'
check_eq "one shell: farm set on both nodes; zone apply all: exit 0" 0 "$RC"
[ "$RC" -ne 0 ] && sed 's/^/#   /' "$T_DIR/apply.err"
sed 's/^/#   /' "$T_DIR/apply.out"
for n in A B; do
	l=${n,,}
	check "node $n's sshd logged the operator's key login" \
		log_has "$T_DIR/sshd-$n.log" "Accepted publickey for root from ${ADDR[C]}"
	node_mx "$n" "history-$n" 'show history inbound'
	check "node $n's own socket: version 2 runs, by root, comment vrrp-pair" \
		eval "awk '\$1 == \"*\" && \$2 == 2 && \$5 == \"root\" && \$6 == \"vrrp-pair\" { f = 1 } END { exit !f }' \"\$T_DIR/history-$n.out\""
	node_mx "$n" "running-$n" 'show running'
	check "node $n's own socket: farm mx-$l runs with connect-timeout 3" \
		grep -qE "^farm add mx-$l zone inbound .*connect-timeout 3( |$)" "$T_DIR/running-$n.out"
	check "node $n's engine logged the commit, by root" \
		log_has "$T_DIR/engine-$n.log" " commit zone=inbound version=2 user=root( |$)"
done

# --- 2. keepalived on both nodes ------------------------------------------------------

# The track script runs the built shell through a wrapper in a root-owned
# directory (keepalived's script security), on the node's own run dir.  The
# wrapper notes each run's time and status in the node's track.log.
mkdir -m 755 "$T_DIR/bin"
cat >"$T_DIR/bin/mxlb" <<EOF
#!/bin/sh
$(printf '%q' "$MXLB") "\$@"
rc=\$?
echo "\$(date +%s.%N) \$rc" >>"\$MXLB_RUNDIR/../track.log"
exit \$rc
EOF
chmod 755 "$T_DIR/bin/mxlb"
# track_runs NODE: how many times keepalived ran NODE's track script.
track_runs() {
	local n
	n=$(grep -c . "$T_DIR/node-$1/track.log" 2>/dev/null)
	echo "${n:-0}"
}

# ka_conf NODE: the example config, with the node's priority, the test's
# timings and the track script on the node's engine.
ka_conf() {
	local n=$1
	sed -e "s|\"/usr/bin/mxlb check |\"/usr/bin/env MXLB_RUNDIR=${RUN[$n]} $T_DIR/bin/mxlb check |" \
		-e "s|^\( *priority\) 100 |\1 ${PRIO[$n]} |" \
		-e "s|^\( *interval\) [0-9]*|\1 $TRACK_INTERVAL|" \
		-e "s|^\( *timeout\) [0-9]*|\1 $TRACK_INTERVAL|" \
		-e "s|^\( *fall\) [0-9]*|\1 $TRACK_FALL|" \
		-e "s|^\( *advert_int\) [0-9]*|\1 $ADVERT_INT|" \
		"$EXAMPLE" >"$T_DIR/node-$n/keepalived.conf"
}

# has_vip NODE: the VIP is on NODE's eth0.
has_vip() {
	ip -n "${NS[$1]}" -4 -o addr show dev eth0 2>/dev/null | grep -q " $VIP/"
}
no_vip() {
	! has_vip "$1"
}

declare -A KA_PIDS
ka_start() {
	local n=$1 d=$T_DIR/node-$1
	ka_conf "$n"
	# -n foreground, -l -D to our log, -G no syslog, -P VRRP only; pid
	# files of our own (the VRRP child is stopped by the parent, and by
	# its pid file if the parent died first).
	spawn "keepalived-$n" ip netns exec "${NS[$n]}" "$KEEPALIVED" -n -l -D -G -P \
		-f "$d/keepalived.conf" -p "$d/keepalived.pid" -r "$d/vrrp.pid" -c "$d/checkers.pid"
	KA_PIDS[$n]=$SPAWNED_PID
	at_exit "[ -s '$d/vrrp.pid' ] && kill \$(cat '$d/vrrp.pid')"
}

for n in A B; do
	ka_conf "$n"
	check "keepalived -t accepts node $n's config (the example, adapted)" \
		eval "timeout 30 \"\$KEEPALIVED\" -t -f \"\$T_DIR/node-$n/keepalived.conf\" >\"\$T_DIR/keepalived-t-$n.log\" 2>&1"
done
note "node A's keepalived.conf, as the example but:"
diff "$EXAMPLE" "$T_DIR/node-A/keepalived.conf" | grep '^>' | sed 's/^/#   /'

# A first: with nopreempt and both BACKUP, the first one up is MASTER.
ka_start A
check "node A (priority ${PRIO[A]}) holds the VIP within $BOUND s" wait_until "$BOUND" has_vip A
check "node A's keepalived: MASTER" wait_log "$T_DIR/keepalived-A.log" "\(VI_MX\) Entering MASTER STATE" 5
ka_start B
check "node B's keepalived: BACKUP" wait_log "$T_DIR/keepalived-B.log" "\(VI_MX\) Entering BACKUP STATE" 10
for n in A B; do
	check "node $n's keepalived ran the track script: success" \
		wait_log "$T_DIR/keepalived-$n.log" "VRRP_Script\(chk_mxlb\) succeeded" 5
	check "node $n's track script ran on its own engine, status 0" \
		eval "[ \"\$(track_runs $n)\" -gt 0 ] && awk '\$2 != 0 { b = 1 } END { exit b }' \"\$T_DIR/node-$n/track.log\""
done
check "node B does not hold the VIP" no_vip B

# The client reaches the VIP; mail goes through A.
a0=$(node_sinks A)
OUT=$(nsx C "$T_PY" "$T_PEERS/smtpload.py" -n 3 -c 3 --timeout 10 "$VIP" 25 2>&1)
check_eq "3 messages to the VIP from the client: all delivered" \
	"sent=3 delivered=3 tempfail=0 permfail=0 lost=0 timeout=0 connect=0" "$OUT"
check_eq "they went through node A" "$((a0 + 3))" "$(node_sinks A)"

# --- 3. A's engine killed under load ---------------------------------------------------------------

for n in A B; do SINKS_BEFORE[$n]=$(node_sinks "$n"); done
LOAD_SECS=$((BOUND + 4))
spawn load ip netns exec "${NS[C]}" "$T_PY" "$T_PEERS/smtpload.py" -d "$LOAD_SECS" -c 2 \
	--pause 0.05 --timeout 10 --log "$T_DIR/load.records" "$VIP" 25
LOAD_PID=$SPAWNED_PID
a_busy() {
	[ "$(node_sinks A)" -ge $((SINKS_BEFORE[A] + 5)) ]
}
check "mail flows through node A under load" wait_until 5 a_busy

T0=$(now)
kill -KILL "${ENGINE_PIDS[A]}"
note "node A's engine killed (SIGKILL) at $T0"
wait_until "$BOUND" has_vip B
T1=$(now)
MOVE=$(fsub "$T1" "$T0")
note "VIP on node B $MOVE s after the kill (bound $BOUND s: track interval $TRACK_INTERVAL * (fall $TRACK_FALL + 1) + 3 * advert_int $ADVERT_INT + skew + 2)"
check "the VIP is on node B within $BOUND s of the kill" has_vip B
check "the VIP left node A" no_vip A
check "node A's keepalived: the track script failed, FAULT" \
	log_has "$T_DIR/keepalived-A.log" "\(VI_MX\) Entering FAULT STATE"
check "node A's track script: status 2 (CRITICAL) since the kill" \
	eval "awk -v t0=\"\$T0\" '\$1 > t0 && \$2 == 2 { n++ } END { exit n < $TRACK_FALL }' \"\$T_DIR/node-A/track.log\""
check "node B's keepalived: MASTER" wait_log "$T_DIR/keepalived-B.log" "\(VI_MX\) Entering MASTER STATE" 2
node_check A
check_eq "node A: mxlb check inbound is CRITICAL (2)" 2 "$RC"
note "node A: $OUT"
node_check B
check_eq "node B: mxlb check inbound is OK (0)" 0 "$RC"

b_busy() {
	[ "$(node_sinks B)" -ge $((SINKS_BEFORE[B] + 5)) ]
}
check "mail flows through node B after the move" wait_until $((LOAD_SECS + 5)) b_busy
check "the load client ends within its ${LOAD_SECS} s + timeout" wait_until $((LOAD_SECS + 15)) t_gone "$LOAD_PID"
LOAD=$(tail -1 "$T_DIR/load.log")
note "load: $LOAD"

R=$T_DIR/load.records
[ -s "$R" ] || fail "load records" "no records from smtpload"
delivered=$(kv delivered "$LOAD")
d_sinks=$(($(all_sinks) - SINKS_BEFORE[A] - SINKS_BEFORE[B]))
check_eq "every message the client was told 250 for is at a sink (none more)" "$delivered" "$d_sinks"
check_eq "no message answered 5xx" 0 "$(kv permfail "$LOAD")"
check_eq "no session timed out without a reply" 0 "$(kv timeout "$LOAD")"
# Connects refused: only while A held the VIP with its engine dead.
refused_ok=$(awk -v t0="$T0" -v t1="$T1" '$3 == "connect" && /Connection refused/ && $1 >= t0 - 0.1 && $1 <= t1 { n++ } END { print n + 0 }' "$R")
check_eq "every failed connect was refused (an answer), between the kill and the move" \
	"$(kv connect "$LOAD")" "$refused_ok"
# A session the kill cut: it was in flight at that instant.
cut_ok=$(awk -v t0="$T0" '$3 == "lost" && $1 <= t0 + 0.05 && $2 >= t0 - 0.05 { n++ } END { print n + 0 }' "$R")
check_eq "no session lost, but those in flight when the engine was killed" \
	"$(kv lost "$LOAD")" "$cut_ok"
note "outcomes: delivered=$delivered tempfail=$(kv tempfail "$LOAD") refused=$refused_ok cut-by-the-kill=$cut_ok"
check "messages delivered after the move, through node B" \
	eval '[ "$(awk -v t1="$T1" '\''$3 == "delivered" && $1 >= t1 { n++ } END { print n + 0 }'\'' "$R")" -gt 0 ]'

# --- 4. one of B's two servers down: B keeps the VIP -----------------------------------

# A node with a server left still takes mail; failing it would leave the VIP
# nowhere (A has no engine).  mxlb check says a server is down, but the
# track script (the example's arguments) does not fail.
stop_pid "${SINK_PID[B${SINK_PORTS[0]}]}"
one_down() {
	node_check B
	case $OUT in *" servers_down=1;"*) return 0 ;; esac
	return 1
}
check "node B: mxlb check counts one server down" wait_until 10 one_down
note "node B: $RC $OUT"
runs=$(track_runs B)
more_runs() {
	[ "$(track_runs B)" -ge $((runs + TRACK_FALL + 1)) ]
}
check "keepalived ran B's track script $((TRACK_FALL + 1)) more times" \
	wait_until $((TRACK_INTERVAL * (TRACK_FALL + 2) + 2)) more_runs
check_eq "B's track script: status 0 with one server down" "" \
	"$(tail -n +$((runs + 1)) "$T_DIR/node-B/track.log" | awk '$2 != 0')"
check "node B's keepalived: still MASTER (no FAULT)" \
	eval '! grep -q "(VI_MX) Entering FAULT STATE" "$T_DIR/keepalived-B.log"'
check "node B still holds the VIP" has_vip B
OUT=$(nsx C "$T_PY" "$T_PEERS/smtpload.py" -n 3 -c 3 --timeout 10 "$VIP" 25 2>&1)
check_eq "3 messages to the VIP: all delivered (by B's server left)" \
	"sent=3 delivered=3 tempfail=0 permfail=0 lost=0 timeout=0 connect=0" "$OUT"

for n in A B; do
	check "node $n's keepalived still running" alive "${KA_PIDS[$n]}"
done
check "node B's engine still running" alive "${ENGINE_PIDS[B]}"
finish
