#!/bin/bash
# Issue 12 (one definition of everything), the parts a user sees:
#  1. Ports are read by one rule: `mxlbd --metrics ADDR:PORT` refuses a
#     port with words after it (it listened on the number before them), as
#     the config refuses "port 2525x".
#  2. The name rule reads the same wherever a name is refused: mxlbd's zone
#     name, a zone file's farm, the shell's new farm; mxlb and mxlbd agree
#     on the run directory (a zone started with MXLB_RUNDIR only is found
#     by `mxlb show zones`).
#  3. `show running` writes each object as the command that makes it, and
#     piping it into a new zone rebuilds the same config.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
export MXLB_ZONES=/dev/null	# no zone of this machine's files
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"
RULE='1-63 of A-Z a-z 0-9 _ . -'

free_port; FE=$PORT
free_port; METRICS=$PORT
free_port; S1=$PORT
cat >"$T_DIR/pf1.json" <<EOF2
{ "zone": "pf1",
  "farms": [ { "name": "mx", "probe": "none", "port": $S1,
               "servers": [ { "address": "127.0.0.1", "name": "s1", "weight": 3 },
                            { "address": "127.0.0.2" } ] } ],
  "frontends": [ { "name": "in", "bind": "$FE", "address": ["127.0.0.1"], "farm": "mx",
                   "maxconn": 50 } ] }
EOF2

# --- 1. a port with words after it ------------------------------------------

sed 's/"zone": "pf1"/"zone": "pfm"/' "$T_DIR/pf1.json" >"$T_DIR/pfm.json"
OUT=$(timeout -k 2 10 "$MXLBD" -z pfm -c "$T_DIR/pfm.json" -f \
	--metrics "127.0.0.1:${METRICS}x" 2>&1); RC=$?
note "mxlbd --metrics 127.0.0.1:${METRICS}x: $RC $OUT"
check "--metrics PORTx: mxlbd exits at once, non-zero (not killed)" \
	eval '[ $RC -ne 0 ] && [ $RC -ne 124 ] && [ $RC -ne 137 ]'
check "--metrics PORTx: says what it expected" \
	eval '[[ "$OUT" == *"--metrics 127.0.0.1:${METRICS}x: expected ADDRESS:PORT"* ]]'
check "--metrics PORTx: nothing listens on $METRICS" t_not_listening 127.0.0.1 "$METRICS"
sed 's/"port": [0-9]*/"port": "2525x"/' "$T_DIR/pf1.json" >"$T_DIR/badport.json"
OUT=$("$MXLBD" -n -c "$T_DIR/badport.json" 2>&1); RC=$?
check "config port 2525x: refused with the range" \
	eval '[ $RC -ne 0 ] && [[ "$OUT" == *"port \"2525x\" is not valid (allowed: 1-65535)"* ]]'

# --- 2. the name rule, and where zones are ---------------------------------

OUT=$("$MXLBD" -z .pf -f 2>&1); RC=$?
check "mxlbd -z .pf: the zone name rule" \
	eval '[ $RC -eq 2 ] && [[ "$OUT" == *"a zone name is $RULE and does not start with a dot"* ]]'
sed 's/"name": "mx"/"name": "m x"/; s/"farm": "mx"/"farm": "m x"/' "$T_DIR/pf1.json" >"$T_DIR/badname.json"
OUT=$("$MXLBD" -n -c "$T_DIR/badname.json" 2>&1); RC=$?
check "zone file farm \"m x\": the name rule" \
	eval '[ $RC -ne 0 ] && [[ "$OUT" == *"(allowed: $RULE)"* ]]'

start_engine "$T_DIR/pf1.json" || die "engine pf1 did not start"
OUT=$("$MXLB" -c 'farm add "a b" zone pf1' 2>&1); RC=$?
check "mxlb farm add \"a b\": the name rule" \
	eval '[ $RC -ne 0 ] && [[ "$OUT" == *"($RULE)"* ]]'
OUT=$("$MXLB" -c 'show zones' 2>&1)
check "mxlb finds the zone mxlbd made in MXLB_RUNDIR" eval '[[ "$OUT" == *pf1* ]]'
check "the socket is RUNDIR/ZONE.sock" test -S "$MXLB_RUNDIR/pf1.sock"

# --- 3. show running replays --------------------------------------------------

RUN=$("$MXLB" -c 'show running pf1')
note "show running pf1:"$'\n'"$RUN"
check_eq "show running: the commands that make the zone, in order" \
"# zone pf1
farm add mx zone pf1 port $S1 probe none
server add mx 127.0.0.1 zone pf1 name s1 weight 3
server add mx 127.0.0.2 zone pf1
frontend add in zone pf1 bind $FE address 127.0.0.1 farm mx maxconn 50
zone apply pf1" "$RUN"
printf '%s\n' '{ "zone": "pf2" }' >"$T_DIR/pf2.json"
start_engine "$T_DIR/pf2.json" engine2 || die "engine pf2 did not start"
# Into zone pf2, on another port: pf1 holds $FE.
free_port; FE2=$PORT
printf '%s\n' "${RUN//pf1/pf2}" |
	sed "s/bind $FE /bind $FE2 /" >"$T_DIR/replay.mxlb"
OUT=$("$MXLB" <"$T_DIR/replay.mxlb" 2>&1); RC=$?
check "show running piped into mxlb (zone pf2): exit 0" eval '[ $RC -eq 0 ]'
RUN2=$("$MXLB" -c 'show running pf2')
check_eq "pf2 runs what pf1 runs (bar the zone and the port)" \
	"${RUN//pf1/pf2}" "${RUN2//bind $FE2 /bind $FE }"

finish
