#!/bin/bash
# Issue 6, test 5: a remote zone through a real sshd and `mxlb bridge`.
#
# A private sshd on 127.0.0.1 (its own sshd_config, host key, authorized
# key and pid file in $T_DIR; no PAM, no DNS; root by key only) runs in the
# foreground, by PID.  The engine of zone z2 has its socket in a run
# directory the shell does not scan; the shell reaches z2 only through its
# zones file (MXLB_ZONES), whose line runs
#     ssh ... root@127.0.0.1 env MXLB_RUNDIR=<engine's> .../mxlb bridge z2
#  1. Without the zones file the shell does not see z2; with it, it does.
#  2. `mxlb -c 'farm add f zone z2; zone apply'` applies through ssh: sshd
#     logs the key login, and `show running` through the bridge shows it.
#  3. The engine's own history (read on its local socket) and log show the
#     commit, by root.
#  4. ~/.config/mxlb/zones is read as well when MXLB_ZONES is not set.
#  5. `mxlb bridge` alone: a zone it cannot reach fails with exit 1 and
#     says why; a request on stdin is answered on stdout.
. "$(dirname "$0")/../lib.sh"
. "$T_PEERS/sshd.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
command -v ssh >/dev/null || die "ssh is not installed (share/install-deps installs openssh-client)"
[ "$(id -u)" = 0 ] || die "needs root: sshd runs privilege-separated and logs in as root"

# --- sshd -------------------------------------------------------------------

S=$T_DIR/ssh
sshd_keys "$S"
free_port; SSHP=$PORT
sshd_config sshd 127.0.0.1 "$SSHP"
# -D: foreground, so its PID is ours; -e: log to stderr (sshd.log).
spawn sshd "$SSHD" -D -e -f "$S/sshd.conf"
SSHD_PID=$SPAWNED_PID
wait_port 127.0.0.1 "$SSHP" 5 || die "sshd not listening on 127.0.0.1:$SSHP: $(tail -3 "$T_DIR/sshd.log" | tr '\n' ' ')"

SSH=(ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
	-o LogLevel=ERROR -o ConnectTimeout=10 -o IdentitiesOnly=yes -i "$S/client" -p "$SSHP" root@127.0.0.1)
check_eq "ssh with the test key runs a command" "hello" \
	"$(timeout -k 5 20 "${SSH[@]}" echo hello </dev/null 2>"$T_DIR/ssh-hello.err")"
check "sshd logged the key login" wait_log "$T_DIR/sshd.log" "Accepted publickey for root from 127.0.0.1" 3

# --- the remote engine ----------------------------------------------------------

REMOTE_RUN=$T_DIR/remote-run	# the engine's; no shell below scans it
LOCAL_RUN=$T_DIR/local-run	# the shell's own run dir: empty
mkdir -p "$REMOTE_RUN" "$LOCAL_RUN"
free_ports FE P1
zone_config "$T_DIR/z2.json" z2 \
	farm mx probe=tcp probe-interval=1 \
		server s1 "$P1" \
	frontend in "$FE"
start_sink "$P1" || die "smtp-sink on $P1 did not start"
MXLB_RUNDIR=$REMOTE_RUN start_engine "$T_DIR/z2.json" || die "engine z2 not ready in 10 s"
check "the engine's socket is in its own run dir" test -S "$REMOTE_RUN/z2.sock"

# The zones file: z2 through ssh and the bridge on the "remote" side.
ZONES=$T_DIR/zones
{
	echo "# remote zones, one a line: NAME command CMD..."
	printf 'z2 command'
	printf ' %q' "${SSH[@]}" env "MXLB_RUNDIR=$REMOTE_RUN" "$MXLB" bridge z2
	echo
} >"$ZONES"
note "zones file: $(grep -v '^#' "$ZONES")"

# mx TAG CMDS [ENV...]: the shell, one-shot, with the local run dir only;
# output in $T_DIR/TAG.out and .err, status in RC.
mx() {
	local tag=$1 cmds=$2
	shift 2
	env MXLB_RUNDIR="$LOCAL_RUN" MXLB_ZONES="$ZONES" "$@" timeout -k 5 60 "$MXLB" -c "$cmds" \
		</dev/null >"$T_DIR/$tag.out" 2>"$T_DIR/$tag.err"
	RC=$?
}
# local_mx TAG CMDS: the shell on the engine's own run dir (no ssh).
local_mx() {
	MXLB_RUNDIR=$REMOTE_RUN MXLB_ZONES=/dev/null timeout -k 5 60 "$MXLB" -c "$2" \
		</dev/null >"$T_DIR/$1.out" 2>"$T_DIR/$1.err"
	RC=$?
}

# --- 1. z2 is reached only through the zones file ----------------------------------

mx nozones 'show zones' MXLB_ZONES=/dev/null
check "without the zones file, the shell does not see z2" \
	eval '[ "$RC" -eq 0 ] && grep -q "^ZONE " "$T_DIR/nozones.out" && ! grep -qw z2 "$T_DIR/nozones.out"'
mx zones 'show zones'
check_eq "show zones through the bridge: exit 0" 0 "$RC"
check "show zones lists z2, up" eval 'grep -w z2 "$T_DIR/zones.out" | grep -qiw up'
sed 's/^/#   /' "$T_DIR/zones.out"
check "the zone list came over ssh (a second key login)" \
	eval '[ "$(log_count "$T_DIR/sshd.log" "Accepted publickey for root")" -ge 2 ]'

# --- 2. a change applied through ssh ----------------------------------------------------

logins=$(log_count "$T_DIR/sshd.log" "Accepted publickey for root")
mx apply 'farm add f zone z2; zone apply'
check_eq "mxlb -c 'farm add f zone z2; zone apply' exits 0" 0 "$RC"
[ "$RC" -ne 0 ] && sed 's/^/#   /' "$T_DIR/apply.err"
check "the apply went through sshd" \
	eval '[ "$(log_count "$T_DIR/sshd.log" "Accepted publickey for root")" -gt "$logins" ]'
mx running 'show running'
check_eq "show running through the bridge: exit 0" 0 "$RC"
check "show running through the bridge shows farm f in zone z2" \
	grep -qE '^farm add f zone z2( |$)' "$T_DIR/running.out"
check "show running through the bridge still has farm mx" grep -qE '^farm add mx zone z2( |$)' "$T_DIR/running.out"
mx diff 'show diff'
check_eq "nothing left to apply afterwards" "" "$(cat "$T_DIR/diff.out")"

# --- 3. the engine's own view ----------------------------------------------------------------

local_mx lrunning 'show running'
check "the engine's local socket: farm f runs" grep -qE '^farm add f zone z2( |$)' "$T_DIR/lrunning.out"
local_mx history 'show history z2'
check_eq "show history on the engine's socket: exit 0" 0 "$RC"
sed 's/^/#   /' "$T_DIR/history.out"
# running_by FILE VERSION USER: `show history` marks VERSION running (*),
# committed by USER.
running_by() {
	awk -v v="$2" -v u="$3" '$1 == "*" && $2 == v && $5 == u { f = 1 } END { exit !f }' "$1"
}
check "the engine's history has version 2, by root, running (*)" running_by "$T_DIR/history.out" 2 root
check "the engine logged the commit, by root" log_has "$ENGINE_LOG" " commit zone=z2 version=2 user=root( |$)"
check "engine still running" alive "$ENGINE_PID"
check "mail still flows through z2" timeout 30 smtp-source -m 2 "127.0.0.1:$FE"

# --- 4. ~/.config/mxlb/zones ------------------------------------------------------------------------

H=$T_DIR/home
mkdir -p "$H/.config/mxlb"
cp "$ZONES" "$H/.config/mxlb/zones"
if [ -e /etc/mxlb/zones ]; then
	note "/etc/mxlb/zones exists on this machine: its zones are read too"
fi
env -u MXLB_ZONES HOME="$H" MXLB_RUNDIR="$LOCAL_RUN" timeout -k 5 60 "$MXLB" -c 'farm set f probe tcp; zone apply z2' \
	</dev/null >"$T_DIR/home.out" 2>"$T_DIR/home.err"
check_eq "zones from ~/.config/mxlb/zones: an apply exits 0" 0 "$?"
local_mx lrunning2 'show running'
check "the engine runs the change made through ~/.config/mxlb/zones" \
	grep -qE '^farm add f zone z2 .*probe tcp' "$T_DIR/lrunning2.out"

# --- 5. mxlb bridge on its own ------------------------------------------------------------------------

MXLB_RUNDIR=$LOCAL_RUN timeout -k 5 10 "$MXLB" bridge z2 </dev/null >/dev/null 2>"$T_DIR/bridge-none.err"
check_eq "mxlb bridge to a zone not there: exit 1" 1 "$?"
check "mxlb bridge to a zone not there: says which socket" grep -q "$LOCAL_RUN/z2.sock" "$T_DIR/bridge-none.err"
printf '{"id":7,"cmd":"history"}\n' | MXLB_RUNDIR=$REMOTE_RUN timeout -k 5 10 "$MXLB" bridge z2 \
	>"$T_DIR/bridge.out" 2>"$T_DIR/bridge.err"
check_eq "mxlb bridge: exit 0 when the client is done" 0 "$?"
check "mxlb bridge: the reply echoes the request's id" grep -q '"id": *7' "$T_DIR/bridge.out"

check "sshd still running" alive "$SSHD_PID"
finish
