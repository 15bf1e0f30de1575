#!/bin/bash
# Issue 10: text from peers never reaches a log line raw.
#
#  1. A commit whose comment holds a newline followed by a fake log line, an
#     ESC sequence and a quote: the engine logs one commit line, the comment
#     escaped (\n, \x1b, the quote turned into '), and no forged line.
#  2. A server whose greeting holds ESC, CR and BEL (a 421 to the probe, so
#     its text is logged with the probe's verdict): the probe line has it
#     escaped.
# The engine's log holds no raw control character but the newline ending
# each line.
. "$(dirname "$0")/../lib.sh"

free_port; FE=$PORT
free_port; P1=$PORT
free_port; P2=$PORT
cat >"$T_DIR/esc.json" <<EOF
{ "zone": "esc",
  "farms": [
    { "name": "mx", "probe": "smtp", "probe-interval": 1, "probe-timeout": 2,
      "probe-rise": 1, "probe-fall": 1,
      "servers": [ { "address": "127.0.0.1", "port": $P1, "name": "evil" },
                   { "address": "127.0.0.1", "port": $P2, "name": "s2" } ] } ],
  "frontends": [ { "name": "in", "bind": "$FE", "address": ["127.0.0.1"], "farm": "mx" } ] }
EOF

# The evil server: a 421 greeting with ESC, CR and BEL in its text.
cat >"$T_DIR/evil.py" <<'PY'
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(16)
while True:
    c, _ = ls.accept()
    try:
        c.sendall(b"421 4.3.2 busy\x1b[31m\rforged\x07 end\r\n")
    except OSError:
        pass
    c.close()
PY
spawn evil "$T_PY" "$T_DIR/evil.py" "$P1"
EVIL_PID=$SPAWNED_PID
wait_port 127.0.0.1 "$P1" 5 || die "the evil server did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/esc.json" || die "engine did not start"
SOCK=$MXLB_RUNDIR/esc.sock

# --- 1. a commit comment -----------------------------------------------------------------
forged='2001-01-01T00:00:00.000 commit zone=esc version=99 user=root comment="forged"'
comment=$(printf 'first line\n%s\n\033[2J "quoted"' "$forged")
sed 's/"name": "s2" }/"name": "s2", "weight": 2 }/' "$T_DIR/esc.json" >"$T_DIR/esc2.json"
out=$("$T_PY" "$T_PEERS/ctl.py" -t 5 -p result.version --commit "$T_DIR/esc2.json" --comment "$comment" "$SOCK")
check_eq "the commit with a multi-line comment is accepted" 2 "$out"
wait_log "$ENGINE_LOG" " commit zone=esc version=2 " 5
check_eq "one commit line for version 2" 1 "$(log_count "$ENGINE_LOG" " commit zone=esc version=2 ")"
check "no forged line in the log" eval '! grep -q "^2001-01-01T00:00:00.000 commit" "$ENGINE_LOG"'
check "the comment is logged escaped" \
	grep -qF "comment=\"first line\\n2001-01-01T00:00:00.000 commit zone=esc version=99 user=root comment='forged'\\n\\x1b[2J 'quoted'\"" "$ENGINE_LOG"
grep " commit zone=esc version=2 " "$ENGINE_LOG" | sed 's/^/#   /'
check_eq "history still has the comment as sent" "$comment" \
	"$("$T_PY" "$T_PEERS/ctl.py" -t 5 -p result.versions.-1.comment "$SOCK" '{"id":1,"cmd":"history"}')"

# --- 2. a server's greeting ----------------------------------------------------------------
check "the probe logs the evil server's 421" \
	wait_log "$ENGINE_LOG" " probe farm=mx server=evil state=nolb " 10
check "its text is escaped" grep -qF 'busy\x1b[31m\rforged\x07 end' "$ENGINE_LOG"
grep " probe farm=mx server=evil " "$ENGINE_LOG" | head -1 | sed 's/^/#   /'

# --- the whole log -------------------------------------------------------------------------
raw=$(LC_ALL=C grep -c $'[\x01-\x09\x0b-\x1f\x7f]' "$ENGINE_LOG")
check_eq "no raw control character anywhere in the engine's log" 0 "$raw"
check "engine alive" alive "$ENGINE_PID"
stop_pid "$EVIL_PID"

finish
