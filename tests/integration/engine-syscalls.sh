#!/bin/bash
# What the engine asks of the kernel per session, as strace shows it
# (issue 16): in SMTP the server speaks first, so its greeting proves the
# connect.  Over 200 one-message sessions through the engine, the floor:
# one accept, socket, connect and TCP_NODELAY, the dialogue's reads and
# writes, two closes, two registrations (each socket once, for reading: no
# EPOLLOUT round trip on a connect, no re-registration between the
# handshake and the relay, no EPOLL_CTL_DEL: a closed socket leaves the
# epoll set by itself), and the waits.  No getsockopt(SO_ERROR), no
# shutdown, no SO_REUSEADDR (the server closes first, after its 221), no
# read that returns EAGAIN, a read for each write (a FIN that comes with
# the 221 needs no read of its own).  At concurrency 16, as issue 16
# counts them.  A refused server is still found out at once (the session goes to the other
# one), and a connect that never completes is caught by connect-timeout.
# Skipped when strace is not installed (share/install-deps has it).
. "$(dirname "$0")/../lib.sh"

if ! command -v strace >/dev/null; then
	note "skipped: strace is not installed"
	finish
fi

N=200
free_ports FE SINK DEAD HOLE

start_sink "$SINK" || die "smtp-sink on $SINK did not start"
zone_config "$T_DIR/sys.json" sys \
	farm mx probe=none connect-timeout=2 \
		server sink "$SINK" \
	frontend in "$FE"
start_engine "$T_DIR/sys.json" || die "engine did not start"

spawn strace strace -f -qq -o "$T_DIR/trace" -p "$ENGINE_PID"
STRACE_PID=$SPAWNED_PID
# strace -qq says nothing when attached: a first syscall in the trace is
# the sign (a session that waits for it).
attached() { [ -s "$T_DIR/trace" ]; }
timeout 10 smtp-source -s 1 -m 1 -f a@example.com -t b@example.com \
	127.0.0.1:"$FE" >/dev/null 2>&1 &
SRC=$!
wait_until 10 attached || die "strace did not attach to the engine"
wait "$SRC"
wait_until 5 eval '[ "$(log_count "$ENGINE_LOG" " session ")" -ge 1 ]'
: >"$T_DIR/trace"	# from here on: the sessions counted

timeout 60 smtp-source -s 16 -m "$N" -f a@example.com -t b@example.com \
	127.0.0.1:"$FE" >"$T_DIR/source.log" 2>&1
check_eq "smtp-source sent its $N messages (exit 0)" 0 $?
wait_until 10 eval '[ "$(log_count "$ENGINE_LOG" " session ")" -ge $((N + 1)) ]'
check_eq "$N more sessions logged end=closed" $((N + 1)) \
	"$(log_count "$ENGINE_LOG" ' session .* end=closed$')"
stop_pid "$STRACE_PID" INT 10
T="$T_DIR/trace"

calls() { grep -aEc -- "$1" "$T"; }
adds=$(calls 'epoll_ctl\(.*EPOLL_CTL_ADD')
reads=$(calls 'recvfrom\(') writes=$(calls 'sendto\(')
note "per $N sessions: epoll_ctl ADD=$adds MOD=$(calls EPOLL_CTL_MOD) DEL=$(calls EPOLL_CTL_DEL) getsockopt=$(calls 'getsockopt\(') setsockopt=$(calls 'setsockopt\(') shutdown=$(calls 'shutdown\(') recvfrom=$reads sendto=$writes epoll_wait=$(calls 'epoll_wait\(') EAGAIN=$(calls EAGAIN)"
note "system calls per session: $(awk -v n="$N" '/[0-9] +[a-z_0-9]+\(/ { c++ } END { printf "%.1f", c / n }' "$T") (the waits depend on timing)"
check_eq "one accept per session" "$N" "$(calls 'accept4\(.* = [0-9]+$')"
check_eq "one socket and one connect per session" "$N $N" "$(calls '[0-9] +socket\(') $(calls '[0-9] +connect\(')"
check_eq "two closes per session" $((N * 2)) "$(calls '[0-9] +close\(')"
check_eq "two registrations per session (client, server)" $((N * 2)) "$adds"
check_eq "no registration changed (EPOLL_CTL_MOD)" 0 "$(calls 'EPOLL_CTL_MOD')"
# Below 8 sessions a socket is libevent's, removed with a DEL (a wakeup
# then serves one session: the engine's own set would cost more).
dels=$(calls 'EPOLL_CTL_DEL')
check "a closed socket leaves the epoll set by itself: EPOLL_CTL_DEL for fewer than a quarter ($dels)" \
	[ "$dels" -lt $((N / 2)) ]
check_eq "TCP_NODELAY on each server socket" "$N" "$(calls 'setsockopt\(.*TCP_NODELAY')"
# The server closes first, after its 221; where the client's FIN or reset
# comes first, the engine closes first and the TIME_WAIT is its own.
reuse=$(calls 'setsockopt\(.*SO_REUSEADDR')
check "SO_REUSEADDR only where the engine closed first ($reuse), no other setsockopt" \
	[ "$reuse" -lt $((N / 2)) -a "$(calls 'setsockopt\(')" -eq $((N + reuse)) ]
# A read returns 0 only when a FIN comes after the last bytes were read.
eofs=$(calls 'recvfrom\(.* = 0$') errs=$(calls 'recvfrom\(.* = -1 ')
check "a read for each write ($reads, $writes; $eofs returned 0, $errs an error)" \
	[ "$((reads - eofs - errs))" -eq "$writes" -a "$((eofs + errs))" -lt $((N / 2)) ]
check_eq "no socket watched for writing (EPOLLOUT)" 0 "$(calls 'epoll_ctl\(.*EPOLLOUT')"
check_eq "no getsockopt (SO_ERROR) after the connects" 0 "$(calls 'getsockopt\(')"
check_eq "no shutdown" 0 "$(calls 'shutdown\(')"
check_eq "no read that returned EAGAIN" 0 "$(calls 'recvfrom\(.*EAGAIN')"

# A refused server, watched only for reading: the refusal is reported as
# an error at once, and the session goes to the sink.
stop_pid "$ENGINE_PID"
zone_config "$T_DIR/dead.json" sys2 \
	farm mx probe=none connect-timeout=20 balance=roundrobin \
		server dead "$DEAD" \
		server sink "$SINK" \
	frontend in "$FE"
start_engine "$T_DIR/dead.json" engine2 || die "engine did not start"
timeout 10 smtp-source -s 2 -m 4 -f a@example.com -t b@example.com \
	127.0.0.1:"$FE" >"$T_DIR/source2.log" 2>&1
check_eq "with a refused server, smtp-source sent its 4 messages (exit 0)" 0 $?
check "the refused connect is logged" \
	wait_log "$ENGINE_LOG" 'connect farm=mx server=dead error="Connection refused"' 5
check "sessions went to the sink after the refusal (redispatch=1)" \
	wait_log "$ENGINE_LOG" ' session .* server=sink .*redispatch=1 .*end=closed$' 5
stop_pid "$ENGINE_PID"

# A connect that never completes: a listener whose accept queue is full
# (never accepting) drops the SYNs.
spawn hole "$T_PY" -c '
import socket, sys, time
port = int(sys.argv[1])
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port))
l.listen(0)
held = []
for _ in range(3):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", port))
    held.append(c)
time.sleep(120)
' "$HOLE"
wait_port 127.0.0.1 "$HOLE" 5 || die "the full listener did not start"
zone_config "$T_DIR/hole.json" sys3 \
	farm mx probe=none connect-timeout=1 balance=roundrobin \
		server hole "$HOLE" \
		server sink "$SINK" \
	frontend in "$FE"
start_engine "$T_DIR/hole.json" engine3 || die "engine did not start"
timeout 20 smtp-source -s 2 -m 2 -f a@example.com -t b@example.com \
	127.0.0.1:"$FE" >"$T_DIR/source3.log" 2>&1
check_eq "with a server that never answers the SYN, smtp-source sent its 2 messages (exit 0)" 0 $?
check "the connect timeout is logged" \
	wait_log "$ENGINE_LOG" 'connect farm=mx server=hole error="connect timeout"' 5
check "that session went to the sink (redispatch=1)" \
	wait_log "$ENGINE_LOG" ' session .* server=sink .*redispatch=1 .*end=closed$' 5

finish
