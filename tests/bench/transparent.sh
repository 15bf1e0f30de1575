#!/bin/bash
# Transparent mode (farm source client) against plain forwarding, CPU per
# message of the engine.  Not on loopback like bench.sh: there the client's
# address is the balancer's own, so `source client` would bind a local
# address and never take the transparent path (nor its routing).  So this
# runs in the three namespaces of engine-transparent.sh
# (tests/peers/tproxy-net.sh): smtp-source in the client namespace, the
# engine in the balancer's, one smtp-sink in the server's.  One engine,
# two frontends: one to farm "plain" (no source), one to farm "client"
# (source client), the same sink behind both; SMTP probe every 2 s.
# smtp-source sends one message per connection; each case runs plain then
# client, three times, and the table gives each run and the medians.
#
# Per case: messages/s (wall clock of smtp-source) and the engine's CPU
# microseconds per message (utime+stime from /proc/PID/stat, delta over the
# run).  The table goes to stdout (markdown); the rest to stderr.
#
#   tests/bench/transparent.sh                   (make bench runs it)
#   BENCH_MSGS=2000 tests/bench/transparent.sh   quick run
# Environment:
#   BENCH_MSGS     messages per run (5000)
#   BENCH_CASES    "CONC:SIZE ..." (default "1:1024 16:1024 64:1024")
#   BENCH_REPEAT   runs of each case per mode (3)
. "$(dirname "$0")/../lib.sh"
. "$T_PEERS/tproxy-net.sh"

MSGS=${BENCH_MSGS:-5000}
CASES=${BENCH_CASES:-"1:1024 16:1024 64:1024"}
REPEAT=${BENCH_REPEAT:-3}
TICK=$(getconf CLK_TCK)

[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"
command -v smtp-source >/dev/null || die "smtp-source is not installed (postfix)"
if ! tp_net_up; then
	note "skipped: $TP_WHY"
	finish
fi

free_port; FE_P=$PORT
free_port; FE_C=$PORT
free_port; SINK=$PORT

cat >"$T_DIR/bench.json" <<EOF
{ "zone": "tpbench",
  "farms": [
    { "name": "plain", "probe": "smtp", "probe-interval": 2, "probe-timeout": 2,
      "probe-rise": 1, "probe-fall": 2, "connect-timeout": 2, "queue-timeout": 5,
      "servers": [ { "address": "$TP_SERVER", "port": $SINK, "name": "s1" } ] },
    { "name": "client", "source": "client", "probe": "smtp", "probe-interval": 2,
      "probe-timeout": 2, "probe-rise": 1, "probe-fall": 2, "connect-timeout": 2,
      "queue-timeout": 5,
      "servers": [ { "address": "$TP_SERVER", "port": $SINK, "name": "s1" } ] } ],
  "frontends": [
    { "name": "plain", "bind": "$FE_P", "address": ["$TP_FRONT"], "farm": "plain",
      "maxconn": 4096, "source-maxconn": 4096, "source-rate": 1000000 },
    { "name": "client", "bind": "$FE_C", "address": ["$TP_FRONT"], "farm": "client",
      "maxconn": 4096, "source-maxconn": 4096, "source-rate": 1000000 } ] }
EOF

spawn sink ip netns exec "$TP_NS_S" smtp-sink -u nobody -m 512 "$TP_SERVER:$SINK" 1024
sink_up() {
	[ -n "$(tp_nsx "$TP_NS_S" ss -Hltn "src $TP_SERVER:$SINK")" ]
}
wait_until 5 sink_up || die "smtp-sink did not listen in the server namespace"
spawn engine ip netns exec "$TP_NS_B" "$MXLBD" -z tpbench -c "$T_DIR/bench.json" -f
ENGINE_PID=$SPAWNED_PID
ENGINE_LOG=$T_DIR/engine.log
wait_log "$ENGINE_LOG" " ready zone=tpbench( |$)" 10 || die "engine not ready"
sleep 0.5	# the first probes

cpu_ticks() {
	local rest
	rest=$(sed 's/.*) //' "/proc/$1/stat") || return 1
	set -- $rest
	echo $((${12} + ${13}))
}

# run_case MODE CONC SIZE: appends "MODE CONC SIZE COUNT US TICKS RC".
run_case() {
	local mode=$1 conc=$2 size=$3 port t0 t1 c0 c1 rc
	port=$FE_P
	[ "$mode" = client ] && port=$FE_C
	RUN=$((RUN + 1))
	c0=$(cpu_ticks "$ENGINE_PID")
	t0=$(date +%s%N)
	timeout 600 ip netns exec "$TP_NS_C" smtp-source -s "$conc" -m "$MSGS" \
		-l "$size" -f bench@mxlb.test -t sink@mxlb.test "$TP_FRONT:$port" \
		>"$T_DIR/source-$RUN.out" 2>&1
	rc=$?
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$ENGINE_PID")
	if [ "$rc" = 0 ]; then
		ok "$mode: $MSGS x $size bytes at concurrency $conc"
	else
		fail "$mode: $MSGS x $size bytes at concurrency $conc" "smtp-source: $(tail -1 "$T_DIR/source-$RUN.out")"
	fi
	echo "$mode $conc $size $MSGS $(((t1 - t0) / 1000)) $((c1 - c0)) $rc" >>"$T_DIR/results"
}

exec 3>&1 1>&2
RUN=0
: >"$T_DIR/results"
for c in $CASES; do
	for r in $(seq "$REPEAT"); do
		for mode in plain client; do
			run_case "$mode" "${c%%:*}" "${c#*:}"
		done
	done
done
check "no session failed to connect from the client's address" \
	eval '! grep -q "connect farm=client" "$ENGINE_LOG"'

{
	echo
	echo "mxlbd, plain forwarding vs source client (transparent), $(nproc) CPUs, three namespaces on veth; smtp-source one message per connection, one smtp-sink, probe every 2 s"
	echo
	awk -v tick="$TICK" '
	'"$T_AWK_MEDIAN"'
	{
		key = $2 ":" $3
		if (!(key in seen)) { order[++nkeys] = key; seen[key] = 1; count[key] = $4 }
		if ($7 != 0) next
		n = ++runs[key, $1]
		rate[key, $1, n] = $4 * 1e6 / $5
		cpu[key, $1, n] = $6 * 1e6 / tick / $4
	}
	END {
		print "| case | plain msg/s | client msg/s | plain CPU us/msg | client CPU us/msg | client/plain CPU |"
		print "|---|---:|---:|---:|---:|---:|"
		for (k = 1; k <= nkeys; k++) {
			key = order[k]; split(key, kc, ":")
			np = runs[key, "plain"]; nc = runs[key, "client"]
			for (i = 1; i <= np; i++) { a[i] = rate[key, "plain", i]; b[i] = cpu[key, "plain", i] }
			for (i = 1; i <= nc; i++) { c[i] = rate[key, "client", i]; d[i] = cpu[key, "client", i] }
			rp = np ? median(a, np) : 0; cp = np ? median(b, np) : 0
			rc = nc ? median(c, nc) : 0; cc = nc ? median(d, nc) : 0
			printf "| c=%s, %s B, %d msgs, median of %d | %.0f | %.0f | %.1f | %.1f | %s |\n",
			    kc[1], kc[2], count[key], np, rp, rc, cp, cc,
			    (cp > 0 ? sprintf("%.2f", cc / cp) : "-")
		}
	}' "$T_DIR/results"
	echo
} >&3

finish
