#!/bin/bash
# forward kernel: after the greeting, a BPF sockmap relays what the client
# sends (engine/sockmap.c).  The same engine has a farm of each kind in
# front of the same smtp-sink, and one in front of a byte-exact peer
# (tests/peers/relaycheck.py):
#  1. real mail (swaks) through forward kernel arrives, a 100 KiB message
#     intact;
#  2. the session log's bytes and the farm's counters are those of the
#     user-space path for the same message;
#  3. 1 MiB of random bytes arrive exactly, and the client's half-close
#     reaches the server after them (its answer comes back), also when the
#     server is slow to read;
#  4. show sessions lists a kernel-relayed session with its bytes;
#  5. a client that sends a byte every 0.5 s outlives idle-timeout 2 (the
#     kernel's last-activity time counts), a silent one is ended by it;
#  6. an engine without CAP_BPF refuses a commit of forward kernel with the
#     reason, and nothing else changes.
. "$(dirname "$0")/../lib.sh"

MXLB=$T_TOP/build/mxlb
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
[ "$(id -u)" = 0 ] || die "this suite runs as root (BPF, setpriv)"
command -v swaks >/dev/null || die "swaks is missing"
command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"

mxc() {
	timeout -k 5 30 "$MXLB" -c "$1" </dev/null 2>&1
}
relay() {
	"$T_PY" "$T_PEERS/relaycheck.py" "$@"
}

free_ports FEU FEK FER FES SINK RC RCS
start_sink "$SINK" || die "smtp-sink on $SINK did not start"
spawn relaycheck "$T_PY" "$T_PEERS/relaycheck.py" server "$RC"
wait_port 127.0.0.1 "$RC" 5 || die "relaycheck server on $RC did not start"
spawn relayslow "$T_PY" "$T_PEERS/relaycheck.py" server "$RCS" --delay 1
wait_port 127.0.0.1 "$RCS" 5 || die "relaycheck server on $RCS did not start"
zone_config "$T_DIR/zk.json" zk \
	farm user probe=none forward=user server u1 "$SINK" \
	farm kern probe=none forward=kernel server k1 "$SINK" \
	farm raw probe=none forward=kernel server r1 "$RC" \
	farm slow probe=none forward=kernel server r2 "$RCS" \
	frontend fu "$FEU" farm=user \
	frontend fk "$FEK" farm=kern \
	frontend fr "$FER" farm=raw idle-timeout=2 \
	frontend fs "$FES" farm=slow
start_engine "$T_DIR/zk.json" || die "engine not ready"

check "show running lists forward kernel for the kernel farms" \
	eval '[ "$(mxc "show running zk" | grep -c "forward kernel")" = 3 ]'

# --- 1. real mail, 100 KiB intact --------------------------------------------
{
	printf 'Subject: kernel relay\r\nFrom: a@t.test\r\n\r\n'
	for i in $(seq 1 1600); do
		printf 'line %05d abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS\r\n' "$i"
	done
} >"$T_DIR/big.eml"
send() {
	swaks --server 127.0.0.1 --port "$1" --helo t.test --from a@t.test \
		--to b@t.test --data "$T_DIR/big.eml" >"$T_DIR/swaks.$1" 2>&1
}
check "a 100 KiB message through forward kernel: accepted (swaks)" send "$FEK"
check "the sink has it" wait_until 5 eval '[ "$(sink_count "$SINK")" = 1 ]'
# The sink's dump, from the message's first header on, against what was
# sent (the dump has LF line ends, and blank lines after the message).
sed -n '/^Subject: kernel relay$/,$p' "$T_DIR/sink-$SINK/dump" |
	"$T_PY" -c 'import sys; sys.stdout.write(sys.stdin.read().rstrip("\n") + "\n")' >"$T_DIR/got.eml"
check "the 100 KiB message arrived intact (1600 body lines, byte for byte)" \
	cmp -s "$T_DIR/got.eml" <(tr -d '\r' <"$T_DIR/big.eml")

# --- 2. the same bytes counted as the user-space path counts them ---------------
check "the same message through forward user: accepted" send "$FEU"
wait_log "$ENGINE_LOG" "session .* frontend=fu " 5
lk=$(grep -a "session .* frontend=fk " "$ENGINE_LOG" | head -1)
lu=$(grep -a "session .* frontend=fu " "$ENGINE_LOG" | head -1)
check_eq "the session log's bytes_in: kernel as user ($(kv bytes_in "$lu"))" \
	"$(kv bytes_in "$lu")" "$(kv bytes_in "$lk")"
check_eq "the session log's bytes_out: kernel as user ($(kv bytes_out "$lu"))" \
	"$(kv bytes_out "$lu")" "$(kv bytes_out "$lk")"
check "bytes_in covers the message ($(kv bytes_in "$lk") > $(wc -c <"$T_DIR/big.eml"))" \
	[ "$(kv bytes_in "$lk")" -gt "$(wc -c <"$T_DIR/big.eml")" ]
check_eq "both sessions ended closed" "closed closed" "$(kv end "$lk") $(kv end "$lu")"
counters() {
	t_stats zk 'f = {x["name"]: x["counters"] for x in r["farms"]}
print(f["user"]["bytes_in"], f["user"]["bytes_out"], "/", f["kern"]["bytes_in"], f["kern"]["bytes_out"])'
}
c=$(counters)
check "the farms' counters bytes_in/bytes_out: kernel as user ($c)" \
	[ "${c% / *}" = "${c#* / }" ] && [ "${c%% *}" -gt 0 ]

# --- 3. exact bytes, half-close passed on -----------------------------------------
out=$(relay client "$FER" 1048576)
check "1 MiB of random bytes through forward kernel arrive exactly, and the client's half-close reaches the server after them" \
	[ $? = 0 ]
printf '%s\n' "$out" | sed 's/^/#   /'
wait_log "$ENGINE_LOG" "session .* frontend=fr .*end=closed" 5
check_eq "its log line: bytes_in 1048576, end closed" "1048576 closed" \
	"$(grep -a "session .* frontend=fr " "$ENGINE_LOG" | head -1 | { read -r l; echo "$(kv bytes_in "$l") $(kv end "$l")"; })"

# A server that reads nothing for a second: the client's 4 MiB and its FIN
# are all in before the server takes any, and the FIN must wait for them.
out=$(relay client "$FES" 4194304)
check "4 MiB to a server slow to read: all of it arrives before the client's half-close" \
	[ $? = 0 ]
printf '%s\n' "$out" | sed 's/^/#   /'

# --- 4. show sessions --------------------------------------------------------------
spawn trickle "$T_PY" "$T_PEERS/relaycheck.py" client "$FER" 10 --every 0.5
listed() {
	mxc 'show sessions raw' >"$T_DIR/sess.out"
	awk '$1 ~ /^127\.0\.0\.1:/ && $2 == "fr" && $3 == "raw" && $6 == "connected" && $9 > 0 { f = 1 } END { exit !f }' "$T_DIR/sess.out"
}
check "show sessions raw: the kernel-relayed session, connected, with its bytes in" \
	wait_until 10 listed
sed 's/^/#   /' "$T_DIR/sess.out"

# --- 5. idle timeout ---------------------------------------------------------------
check "a byte every 0.5 s for 5 s outlives idle-timeout 2 (the kernel's activity counts), and all 10 arrive" \
	wait_until 20 eval '! alive "$SPAWNED_PID" && grep -q "^got 250 10 " "$T_DIR/trickle.log"'
relay client "$FER" 0 --silent >"$T_DIR/silent.out" 2>&1 &
spid=$!
T_PIDS+=("$spid")
check "a silent client is ended by idle-timeout 2" \
	wait_log "$ENGINE_LOG" "session .* frontend=fr .*bytes_in=0 .*end=idle-timeout" 10
wait "$spid"
check_eq "and it saw the close" closed "$(cat "$T_DIR/silent.out")"

# --- 6. no CAP_BPF: a clear refusal, nothing else changes ------------------------
free_ports FEN SINK2
start_sink "$SINK2" || die "smtp-sink on $SINK2 did not start"
zone_config "$T_DIR/zn.json" zn farm mx probe=none server m1 "$SINK2" frontend in "$FEN"
ENGINE_WRAP=(setpriv --inh-caps=-all --bounding-set=-bpf,-sys_admin --)
start_engine "$T_DIR/zn.json" nocap || die "engine without CAP_BPF not ready"
ENGINE_WRAP=()
out=$(mxc "farm set mx forward kernel; zone apply zn")
printf '%s\n' "$out" | sed 's/^/#   /'
check "without CAP_BPF, the commit of forward kernel is refused with the reason" \
	eval 'printf "%s" "$out" | grep -q "farm mx: forward kernel is not available here: cannot load the BPF program: Operation not permitted"'
mxc 'show running zn' >"$T_DIR/running.out"
check "and the running config has no forward kernel (it has farm mx)" \
	eval 'grep -q "farm.* mx" "$T_DIR/running.out" && ! grep -q "forward kernel" "$T_DIR/running.out"'
check "and mail still goes through that engine" send "$FEN"

finish
