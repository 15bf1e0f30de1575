#!/bin/bash
# Issue 4, test 3: the shell in batch mode against real engines.
#
#  1. Each example script (share/examples/*.mxlb) applies, ports rewritten
#     to this suite's range, against one engine per zone it names, and mail
#     flows through every frontend it creates:
#       ovh-smtp        PROXY v1 servers -> two real, PROXY-aware Postfix
#                       instances (tests/peers/postfix.sh); Postfix logs the
#                       client as 127.0.0.2, so the header arrived intact.
#       multi-instance  inbound (PROXY v2) -> the same two Postfix
#                       instances; outbound and bulk -> smtp-sink.
#       mx-priority     four smtp-sinks: tier 10 takes everything, mx1:mx2
#                       about 2:1; with mx1 and mx2 down (probe), mx3; the
#                       backup only once mx3 is down too.
#  2. A script with an error on line 3 exits 1, names "line 3:" and applies
#     nothing; with --continue it goes on (the rest is applied) and exits 1.
#  3. Leaving with edits not applied: exit 3 and a warning.
#  4. `show running` of every zone, piped into mxlb against fresh engines of
#     the same zones (empty state dir), gives byte-identical `show running`
#     (and `show running json`).  tests/fixtures/shell/roundtrip.mxlb adds a
#     zone with every field set to edge values.
#  5. A 10,000-line script (1,000 farms, 5,000 servers, 1,000 frontends,
#     3,000 `set` edits, one `zone apply`) applies as one version; its time is
#     reported, not asserted.
. "$(dirname "$0")/../lib.sh"
. "$T_PEERS/postfix.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
EX=$T_TOP/share/examples
FIX=$T_TOP/tests/fixtures/shell
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"

# PF1: Postfix 1 smtpd (PROXY v1/v2)
# PF2: Postfix 2 smtpd (PROXY v1/v2)
# FE_OVH: ovh-smtp: bind 25
# FE_IN: multi-instance: bind 25
# FE_OUT: multi-instance: bind 587
# FE_BULK: multi-instance: bind 2526
# OUT1: 2611
# OUT2: 2612
# BULK1: 2621
# FE_MX: mx-priority: bind 25
# MX1: 2601
# MX2: 2602
# MX3: 2603
# RELAY: 2604
# FE_ERR: the line-3 script's frontend
# NOSRV: a server port nothing listens on
# RT1: fixture frontend
# FE_BIG: the 10,000-line script's frontends
free_ports PF1 PF2 FE_OVH FE_IN FE_OUT FE_BULK OUT1 OUT2 BULK1 FE_MX MX1 MX2 MX3 RELAY FE_ERR NOSRV RT1 RT2 FE_BIG

# --- helpers ----------------------------------------------------------------

# mx TAG [ARGS...] (stdin: the script): run the shell, bounded; its output
# in $T_DIR/TAG.out and TAG.err, its status in RC.
mx() {
	local tag=$1
	shift
	timeout -k 5 120 "$MXLB" "$@" >"$T_DIR/$tag.out" 2>"$T_DIR/$tag.err"
	RC=$?
}

# mxc CMDS: one-shot, stdout only (for comparisons).
mxc() {
	timeout -k 5 60 "$MXLB" -c "$1" </dev/null 2>>"$T_DIR/mxc.err"
}

# start_zone ZONE [STATEDIR]: an empty engine for ZONE in $MXLB_RUNDIR (its
# state in STATEDIR, default $MXLB_STATEDIR), log $T_DIR/engine-ZONE[-N].log.
declare -A ZPID=()
start_zone() {
	local zone=$1 sd=${2:-$MXLB_STATEDIR} log=engine-$1
	[ -e "$T_DIR/$log.log" ] && log=$log-2
	start_engine -z "$zone" "$log" --statedir "$sd" || return 1
	ZPID[$zone]=$ENGINE_PID
	ZLOG[$zone]=$ENGINE_LOG
}
declare -A ZLOG=()

# example NAME TAG SED-ARGS...: share/examples/NAME.mxlb with its ports
# rewritten by sed SED-ARGS, run as mxlb < it (mx TAG): every port
# rewritten, exit 0, nothing on stderr.
example() {
	local name=$1 tag=$2
	shift 2
	sed "$@" "$EX/$name.mxlb" >"$T_DIR/$name.mxlb"
	check "$name: every port rewritten" no_default_ports "$T_DIR/$name.mxlb"
	mx "$tag" <"$T_DIR/$name.mxlb"
	check_eq "$name: mxlb < script exits 0" 0 "$RC"
	check_eq "$name: stderr empty" "" "$(cat "$T_DIR/$tag.err")"
}

# zone_version ZONE: the running version, from `show zones`.
zone_version() {
	mxc 'show zones' | awk -v z="$1" '$1 == z { print $3 }'
}

# no_default_ports FILE: no line (comments aside) still names an example's
# own port: a rewrite that missed one would test the wrong thing.
no_default_ports() {
	! grep -v '^#' "$1" | grep -Eq '(bind (25|587|2526)|port 26[0-9][0-9])\b'
}

# pf_has REGEX: a line of either Postfix log matches.
pf_has() {
	cat "$PF_A/maillog" "$PF_B/maillog" 2>/dev/null | grep -Eq -- "$1"
}

# pf_send NAME FRONTEND FROM: one message by swaks from 127.0.0.2 through a
# frontend to Postfix; it must be queued, logged with the client 127.0.0.2
# (the PROXY header was read) and delivered.  Sets PF_WHO to the instance
# (1 or 2) that took it.
pf_send() {
	local name=$1 fe=$2 from=$3 out=$T_DIR/swaks-$1.out qid
	PF_WHO=""
	if ! timeout -k 5 30 swaks --server "127.0.0.1:$fe" --local-interface 127.0.0.2 \
		--timeout 15 --from "$from" --to user@mx.test.invalid \
		--helo client.mxlb.test >"$out" 2>&1; then
		fail "$name: swaks delivered" "$(grep -E '^(<\*\*|\*\*\*)' "$out" | head -2 | tr '\n' ' ')"
		return 1
	fi
	qid=$(sed -n 's/.*250 2.0.0 Ok: queued as \([0-9A-F]*\).*/\1/p' "$out" | head -1)
	[ -n "$qid" ] || { fail "$name: queued by Postfix" "no queue id"; return 1; }
	if wait_until 5 pf_has ": $qid: client=[^ ]*\[127\.0\.0\.2\]" &&
		wait_until 5 pf_has ": $qid: to=<user@mx.test.invalid>.* status=sent"; then
		ok "$name: Postfix saw client 127.0.0.2 and delivered $qid"
	else
		fail "$name: Postfix saw client 127.0.0.2 and delivered $qid" \
			"$(cat "$PF_A/maillog" "$PF_B/maillog" | grep -F "$qid" | head -3)"
		return 1
	fi
	if grep -q ": $qid: " "$PF_A/maillog"; then PF_WHO=1; else PF_WHO=2; fi
}

# sinks_delta: each sink's count since the last call, "MX1 MX2 MX3 RELAY".
declare -A LAST=()
sinks_delta() {
	local p out="" n
	for p in "$@"; do
		n=$(sink_count "$p")
		out="$out $((n - ${LAST[$p]:-0}))"
		LAST[$p]=$n
	done
	echo "${out# }"
}

# all_alive ZONE...: every zone's engine runs; none_alive: none does.
all_alive() {
	local z
	for z; do alive "${ZPID[$z]}" || return 1; done
}
none_alive() {
	local z
	for z; do t_gone "${ZPID[$z]}" || return 1; done
}

# probe_down LOG FARM SERVER: the engine logged the server going down.
probe_down() {
	log_has "$1" " probe farm=$2 server=$3 state=down "
}

# --- peers and engines ------------------------------------------------------

PF_A=$T_DIR/postfix1
PF_B=$T_DIR/postfix2
postfix_start "$PF_A" "$PF1" || die "Postfix 1 did not start"
postfix_start "$PF_B" "$PF2" || die "Postfix 2 did not start"
for p in "$OUT1" "$OUT2" "$BULK1" "$MX1" "$MX2" "$MX3" "$RELAY"; do
	start_sink "$p" || die "smtp-sink on $p did not start"
done
for z in gra inbound outbound bulk mx z1 rt; do
	start_zone "$z" || die "engine for zone $z not ready"
done
check_eq "the shell sees the 7 zones, engines up, version 0" \
	"bulk up 0|gra up 0|inbound up 0|mx up 0|outbound up 0|rt up 0|z1 up 0" \
	"$(mxc 'show zones' | awk 'NR > 1 { printf "%s%s %s %s", sep, $1, $2, $3; sep = "|" }')"

# --- 1. the examples --------------------------------------------------------

# ovh-smtp: two PROXY v1 servers -> two real Postfix instances.
example ovh-smtp ovh -e "s/\<bind 25\>/bind $FE_OVH/" -e "s/\<port 2601\>/port $PF1/" \
	-e "s/\<port 2602\>/port $PF2/"
check_eq "ovh-smtp: zone gra at version 1" "zone gra: version 1 running" "$(cat "$T_DIR/ovh.out")"
check "ovh-smtp: frontend listens on $FE_OVH" wait_port 127.0.0.1 "$FE_OVH" 3
n1=0 n2=0
for i in 1 2 3 4; do
	pf_send "ovh-smtp message $i" "$FE_OVH" "ovh$i@mxlb.test" || continue
	[ "$PF_WHO" = 1 ] && n1=$((n1 + 1))
	[ "$PF_WHO" = 2 ] && n2=$((n2 + 1))
done
check_eq "ovh-smtp: roundrobin, 2 messages to each Postfix (mx1 mx2)" "2 2" "$n1 $n2"
check "ovh-smtp: engine logged sessions to mx1 and mx2" eval \
	'log_has "${ZLOG[gra]}" " session client=127\.0\.0\.2:[0-9]+ frontend=smtp farm=smtp-farm server=mx1 " &&
	 log_has "${ZLOG[gra]}" " session client=127\.0\.0\.2:[0-9]+ frontend=smtp farm=smtp-farm server=mx2 "'
check "ovh-smtp: no PROXY error in Postfix's logs" eval \
	'! pf_has "haproxy read|warning: .*(proxy|PROXY)"'

# multi-instance: three zones, one `zone apply all`.
example multi-instance multi -e "s/\<bind 25\>/bind $FE_IN/" -e "s/\<bind 587\>/bind $FE_OUT/" \
	-e "s/\<bind 2526\>/bind $FE_BULK/" -e "s/\<port 2601\>/port $PF1/" \
	-e "s/\<port 2602\>/port $PF2/" -e "s/\<port 2611\>/port $OUT1/" \
	-e "s/\<port 2612\>/port $OUT2/" -e "s/\<port 2621\>/port $BULK1/"
check_eq "multi-instance: one apply, three zones at version 1" \
	"zone bulk: version 1 running|zone inbound: version 1 running|zone outbound: version 1 running" \
	"$(sort "$T_DIR/multi.out" | paste -sd'|')"
for p in "$FE_IN" "$FE_OUT" "$FE_BULK"; do
	check "multi-instance: frontend listens on $p" wait_port 127.0.0.1 "$p" 3
done
n1=0 n2=0
for i in 1 2; do
	pf_send "multi-instance inbound (PROXY v2) message $i" "$FE_IN" "in$i@mxlb.test" || continue
	[ "$PF_WHO" = 1 ] && n1=$((n1 + 1))
	[ "$PF_WHO" = 2 ] && n2=$((n2 + 1))
done
check_eq "multi-instance inbound: one message to each Postfix (in1 in2)" "1 1" "$n1 $n2"
sinks_delta "$OUT1" "$OUT2" "$BULK1" >/dev/null
r=$(smtpload 127.0.0.1 "$FE_OUT" -n 6 -c 2 --timeout 10 2>&1)
check_eq "multi-instance outbound: smtpload 6 through $FE_OUT" \
	"sent=6 delivered=6 tempfail=0 permfail=0 lost=0 timeout=0 connect=0" "$r"
r=$(smtpload 127.0.0.1 "$FE_BULK" -n 4 -c 2 --timeout 10 2>&1)
check_eq "multi-instance bulk: smtpload 4 through $FE_BULK" \
	"sent=4 delivered=4 tempfail=0 permfail=0 lost=0 timeout=0 connect=0" "$r"
wait_until 3 eval '[ "$(($(sink_count "$OUT1") + $(sink_count "$OUT2")))" -ge 6 ] && [ "$(sink_count "$BULK1")" -ge 4 ]'
read -r o1 o2 b1 <<<"$(sinks_delta "$OUT1" "$OUT2" "$BULK1")"
check_eq "multi-instance: sinks out1+out2 got 6, bulk1 got 4" "6 4" "$((o1 + o2)) $b1"

# mx-priority: tier 10 (2:1), then tier 20, then the backup.
example mx-priority prio -e "s/\<bind 25\>/bind $FE_MX/" -e "s/\<port 2601\>/port $MX1/" \
	-e "s/\<port 2602\>/port $MX2/" -e "s/\<port 2603\>/port $MX3/" \
	-e "s/\<port 2604\>/port $RELAY/"
check_eq "mx-priority: zone mx at version 1" "zone mx: version 1 running" "$(cat "$T_DIR/prio.out")"
check "mx-priority: frontend listens on $FE_MX" wait_port 127.0.0.1 "$FE_MX" 3
SINKS=("$MX1" "$MX2" "$MX3" "$RELAY")
sinks_delta "${SINKS[@]}" >/dev/null

# mx_load N: N messages one after the other; every one delivered, counted at
# the sinks; sets D1 D2 D3 DR (per sink, this round).
mx_load() {
	local n=$1 r total=$((LAST[$MX1] + LAST[$MX2] + LAST[$MX3] + LAST[$RELAY] + $1))
	r=$(smtpload 127.0.0.1 "$FE_MX" -n "$n" -c 1 --timeout 10 2>&1)
	wait_until 3 eval '[ $(($(sink_count "$MX1") + $(sink_count "$MX2") + $(sink_count "$MX3") + $(sink_count "$RELAY"))) -ge '"$total"' ]'
	read -r D1 D2 D3 DR <<<"$(sinks_delta "${SINKS[@]}")"
	note "mx-priority: $r; mx1=$D1 mx2=$D2 mx3=$D3 relay=$DR"
	[ "$r" = "sent=$n delivered=$n tempfail=0 permfail=0 lost=0 timeout=0 connect=0" ]
}

check "mx-priority: 30 messages delivered with tier 10 up" mx_load 30
check "mx-priority: all 30 went to tier 10 (mx1+mx2), none to mx3 or relay" \
	eval '[ $((D1 + D2)) -eq 30 ] && [ "$D3" -eq 0 ] && [ "$DR" -eq 0 ]'
check "mx-priority: mx1:mx2 about 2:1 (16-24 : 6-14; got $D1:$D2)" \
	eval '[ "$D1" -ge 16 ] && [ "$D1" -le 24 ] && [ "$D2" -ge 6 ] && [ "$D2" -le 14 ]'

stop_sink "$MX1"
stop_sink "$MX2"
t0=$(now)
check "mx-priority: the probe marks mx1 and mx2 down (interval 5 s, fall 2; <= 20 s)" \
	wait_until 20 eval 'probe_down "${ZLOG[mx]}" mx mx1 && probe_down "${ZLOG[mx]}" mx mx2'
note "mx-priority: tier 10 down after $(fsub "$(now)" "$t0") s"
check "mx-priority: 10 messages delivered with tier 10 down" mx_load 10
check_eq "mx-priority: all 10 to mx3 (tier 20), none to the backup" "10 0" "$D3 $DR"

stop_sink "$MX3"
t0=$(now)
check "mx-priority: the probe marks mx3 down (<= 20 s)" \
	wait_until 20 probe_down "${ZLOG[mx]}" mx mx3
note "mx-priority: mx3 down after $(fsub "$(now)" "$t0") s"
check "mx-priority: 5 messages delivered with mx1-mx3 down" mx_load 5
check_eq "mx-priority: all 5 to the backup relay" "5" "$DR"

# --- 2. an error on line 3 --------------------------------------------------

cat >"$T_DIR/err3.mxlb" <<EOF
# line 1: a comment; line 3 has a weight out of range
farm add e3 zone gra probe none
server add e3 127.0.0.1 name e3a port $NOSRV weight 999
server add e3 127.0.0.1 name e3b port $NOSRV
frontend add e3-fe zone gra bind $FE_ERR address 127.0.0.1 farm e3
zone apply gra comment "must not be applied"
EOF
# The same with a command that does not exist on line 3.
sed '3s/^server add/sever add/' "$T_DIR/err3.mxlb" >"$T_DIR/err3b.mxlb"

mxc 'show running' >"$T_DIR/before.mxlb"
mxc 'show history gra' >"$T_DIR/before-history.txt"
v0=$(zone_version gra)
for s in err3 err3b; do
	mx "$s" <"$T_DIR/$s.mxlb"
	check_eq "$s: exit 1" 1 "$RC"
	check "$s: stderr is one line naming 'line 3:' ($(head -1 "$T_DIR/$s.err"))" \
		eval '[ "$(wc -l <"$T_DIR/$s.err")" -eq 1 ] && grep -q "^line 3: " "$T_DIR/$s.err"'
	check_eq "$s: nothing printed on stdout (no apply ran)" "" "$(cat "$T_DIR/$s.out")"
	check_eq "$s: version of gra unchanged" "$v0" "$(zone_version gra)"
	check "$s: show running unchanged (every zone)" cmp -s "$T_DIR/before.mxlb" <(mxc 'show running')
	check "$s: show history gra unchanged" cmp -s "$T_DIR/before-history.txt" <(mxc 'show history gra')
done
check "err3: the error says what is allowed (0-256)" grep -q "0-256" "$T_DIR/err3.err"
check "err3: frontend port $FE_ERR not opened" t_not_listening 127.0.0.1 "$FE_ERR"

mx err3k --continue <"$T_DIR/err3.mxlb"
check_eq "err3 --continue: exit 1" 1 "$RC"
check "err3 --continue: stderr is one line naming 'line 3:'" \
	eval '[ "$(wc -l <"$T_DIR/err3k.err")" -eq 1 ] && grep -q "^line 3: " "$T_DIR/err3k.err"'
check_eq "err3 --continue: went on to the zone apply on line 6" \
	"zone gra: version $((v0 + 1)) running" "$(cat "$T_DIR/err3k.out")"
check_eq "err3 --continue: lines 2, 4, 5 are running, line 3 is not" \
	"farm add e3 zone gra probe none|server add e3 127.0.0.1 zone gra name e3b port $NOSRV|frontend add e3-fe zone gra bind $FE_ERR address 127.0.0.1 farm e3" \
	"$(mxc 'show running gra' | grep -E '^(farm|server|frontend) add e3' | paste -sd'|')"
check "err3 --continue: frontend e3-fe listens on $FE_ERR" wait_port 127.0.0.1 "$FE_ERR" 3
mx undo -c 'no frontend e3-fe; no farm e3; zone apply gra'
check_eq "no frontend/no farm, zone apply: exit 0" 0 "$RC"
check "the running configs are back to what they were, byte for byte" \
	cmp -s "$T_DIR/before.mxlb" <(mxc 'show running')

# --- 3. leaving with edits not applied --------------------------------------

# A pipe on stdin, as with echo ... | mxlb (a pipeline would run mx in a
# subshell and lose RC).
mx pending < <(echo 'farm add x zone z1')
check_eq "echo 'farm add x zone z1' | mxlb: exit 3" 3 "$RC"
check "... warns on stderr, naming zone z1 ($(head -1 "$T_DIR/pending.err"))" \
	grep -q "zone z1 .*not applied" "$T_DIR/pending.err"
check_eq "... and z1 is still empty at version 0" "0|zone apply z1" \
	"$(zone_version z1)|$(mxc 'show running z1' | grep -v '^#')"
mx pending-c -c 'farm add x zone z1'
check_eq "mxlb -c 'farm add x zone z1': exit 3 too" 3 "$RC"
check "... with the warning" grep -q "zone z1 .*not applied" "$T_DIR/pending-c.err"
mx discarded < <(printf 'farm add x zone z1\ndiscard\n')
check_eq "edits then discard: exit 0, stderr empty" "0|" "$RC|$(cat "$T_DIR/discarded.err")"

# --- 4. round trip ------------------------------------------------------------

sed -e "s/@RT1@/$RT1/" -e "s/@RT2@/$RT2/" "$FIX/roundtrip.mxlb" >"$T_DIR/roundtrip.mxlb"
mx rtfix <"$T_DIR/roundtrip.mxlb"
check_eq "fixture roundtrip.mxlb applies to zone rt" "0|zone rt: version 1 running|" \
	"$RC|$(cat "$T_DIR/rtfix.out")|$(cat "$T_DIR/rtfix.err")"

mx rt1 -c 'show running'
check_eq "show running (7 zones): exit 0" 0 "$RC"
mxc 'show running json' >"$T_DIR/rt1.json"
check "show running is a script: 7 '# zone' blocks, each ending in zone apply" eval \
	'[ "$(grep -c "^# zone " "$T_DIR/rt1.out")" -eq 7 ] && [ "$(grep -c "^zone apply " "$T_DIR/rt1.out")" -eq 7 ]'

# Stop every engine; fresh ones, same zone names, empty state dir.
for z in gra inbound outbound bulk mx z1 rt; do
	stop_pid "${ZPID[$z]}"
done
check "the old engines are gone" none_alive gra inbound outbound bulk mx z1 rt
# The probe of the fresh mx zone would find mx1-mx3 down; start them again
# so that every zone comes back the same.
for p in "$MX1" "$MX2" "$MX3"; do start_sink "$p" || die "smtp-sink on $p did not restart"; done
FRESH=$T_DIR/state-fresh
mkdir -p "$FRESH"
for z in gra inbound outbound bulk mx z1 rt; do
	start_zone "$z" "$FRESH" || die "fresh engine for zone $z not ready"
done
check_eq "fresh engines: every zone empty, at version 0" \
	"bulk 0|gra 0|inbound 0|mx 0|outbound 0|rt 0|z1 0" \
	"$(mxc 'show zones' | awk 'NR > 1 { printf "%s%s %s", sep, $1, $3; sep = "|" }')"

mx rt-apply <"$T_DIR/rt1.out"
check_eq "show running output piped into mxlb: exit 0" 0 "$RC"
check_eq "... stderr empty" "" "$(cat "$T_DIR/rt-apply.err")"
check_eq "... version 1 in the 6 zones with objects, nothing to apply in z1" \
	"6|zone z1: nothing to apply (version 0 running)" \
	"$(grep -c ': version 1 running$' "$T_DIR/rt-apply.out")|$(grep -v ': version 1 running$' "$T_DIR/rt-apply.out")"
mx rt2 -c 'show running'
if cmp -s "$T_DIR/rt1.out" "$T_DIR/rt2.out"; then
	ok "round trip: show running byte-identical ($(wc -l <"$T_DIR/rt1.out") lines)"
else
	fail "round trip: show running byte-identical" "$(diff "$T_DIR/rt1.out" "$T_DIR/rt2.out" | head -6 | tr '\n' ' ')"
fi
check "round trip: show running json identical" cmp -s "$T_DIR/rt1.json" <(mxc 'show running json')
check "round trip: mail flows again through the rebuilt ovh-smtp zone" \
	pf_send "ovh-smtp after the round trip" "$FE_OVH" rt@mxlb.test

# --- 5. 10,000 lines ----------------------------------------------------------

start_zone big || die "engine for zone big not ready"
# 1,000 farms of 5 servers; 1,000 frontends on port FE_BIG, each on its own
# loopback address (every 10th enabled: 100 listeners); 1,000 farm set and
# 1,999 server set; one zone apply.
awk -v P="$FE_BIG" -v S="$NOSRV" 'BEGIN {
	for (i = 1; i <= 1000; i++) {
		printf "farm add f%d zone big probe none\n", i
		for (j = 1; j <= 5; j++)
			printf "server add f%d 10.%d.%d.%d name s%d port %d\n", i, j, int(i / 250), i % 250 + 1, j, S
	}
	for (i = 1; i <= 1000; i++)
		printf "frontend add fe%d zone big bind %d address 127.1.%d.%d farm f%d%s\n",
		    i, P, int(i / 250), i % 250 + 1, i, i % 10 ? " disabled" : ""
	for (i = 1; i <= 1000; i++)
		printf "farm set f%d balance %s\n", i, i % 2 ? "leastconn" : "first"
	for (i = 1; i <= 1999; i++)
		printf "server set f%d s%d weight %d\n", i % 1000 + 1, int(i / 1000) + 1, i % 7 + 2
	print "zone apply big comment \"10,000 lines\""
}' >"$T_DIR/big.mxlb"
check_eq "the big script has 10,000 lines" 10000 "$(wc -l <"$T_DIR/big.mxlb")"
t0=$(now)
mx big <"$T_DIR/big.mxlb"
big_secs=$(fsub "$(now)" "$t0")
note "10,000-line script: mxlb < big.mxlb took $big_secs s"
check_eq "10,000 lines: exit 0, stderr empty" "0|" "$RC|$(cat "$T_DIR/big.err")"
check_eq "10,000 lines: one zone apply, version 1" "zone big: version 1 running" "$(cat "$T_DIR/big.out")"
check_eq "show farms: 1,000 farms in zone big" 1000 \
	"$(mxc 'show farms' | awk '$2 == "big"' | wc -l)"
check_eq "show running big: 5,000 servers, 1,000 frontends, 1,999 weights set" "5000 1000 1999" \
	"$(mxc 'show running big' | awk '/^server add/ { s++; if (/ weight /) w++ } /^frontend add/ { f++ } END { print s, f, w }')"
check_eq "show history big: one version" 1 \
	"$(mxc 'show history big' | grep -cE '^\*? +[0-9]+ ')"
check "an enabled frontend of the big zone listens (127.1.0.11:$FE_BIG)" \
	wait_port 127.1.0.11 "$FE_BIG" 3
check "every engine still running" all_alive gra inbound outbound bulk mx z1 rt big

finish
