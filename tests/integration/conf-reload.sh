#!/bin/bash
# Issue 13, config files and reload.  A zone with an /etc-like config
# directory ($T_DIR/etc, --confdir): the start imports ZONE.json; SIGHUP
# (systemctl reload) imports a changed file as a new version whose comment
# says so; after a commit from the shell, SIGHUP is refused with a message
# naming the versions, who committed and the export command, and nothing
# changes; `mxlb zone import ZONE force` imports anyway; a bad file is
# refused with its reason and nothing changes; `zone export` then a reload
# meet without a new version; a restart does not import a file older than
# a shell commit, a first start does; MXLB_CONFDIR and `mxlbd -n -z`.
. "$(dirname "$0")/../lib.sh"

CTL="$T_PY $T_PEERS/ctl.py"
MXLB=${MXLB:-$T_TOP/build/mxlb}
ZONE=cf$$
SOCK=$MXLB_RUNDIR/$ZONE.sock
ETC=$T_DIR/etc
FILE=$ETC/$ZONE.json
mkdir -p "$ETC"
free_port; FE=$PORT
free_port; P1=$PORT

mkconf() {	# mkconf WEIGHT
	cat >"$FILE" <<EOF
{ "zone": "$ZONE",
  "farms": [ { "name": "mx", "probe": "none",
               "servers": [ { "address": "127.0.0.1", "port": $P1, "name": "s1", "weight": $1 } ] } ],
  "frontends": [ { "name": "in", "bind": "$FE", "address": ["127.0.0.1"], "farm": "mx" } ] }
EOF
}

get() {	# get PATH: from the engine's running config ("get")
	$CTL -p "$1" "$SOCK" '{"id":1,"cmd":"get"}'
}
running() { get result.running; }
weight() { get result.config.farms.0.servers.0.weight; }
mxc() { timeout -k 5 20 "$MXLB" -c "$1"; }

start() {	# start LOGNAME [ENGINE ARGS...]
	local name=$1
	shift
	spawn "$name" "$MXLBD" -z "$ZONE" --confdir "$ETC" -f "$@"
	ENGINE_PID=$SPAWNED_PID
	ENGINE_LOG=$T_DIR/$name.log
	wait_log "$ENGINE_LOG" " ready zone=$ZONE " 10
}

# more_than N REGEX: the engine's log has more than N lines matching.
more_than() {
	[ "$(log_count "$ENGINE_LOG" "$2")" -gt "$1" ]
}

# hup REGEX: SIGHUP, then wait for the reload's outcome in the log.
hup() {
	local before
	before=$(log_count "$ENGINE_LOG" "$1")
	kill -HUP "$ENGINE_PID"
	wait_until 5 more_than "$before" "$1"
}

# --- start imports the file ---------------------------------------------------
mkconf 2
check "mxlbd -n -z ZONE --confdir checks DIR/ZONE.json" eval \
	'"$MXLBD" -n -z "$ZONE" --confdir "$ETC" | grep -q ": OK$"'
start engine || die "engine with --confdir $ETC not ready"
check_eq "start: the file is version 1" "1 2" "$(running) $(weight)"
check_eq "start: its history comment says it came from the file" \
	"imported from $FILE (start)" \
	"$($CTL -p result.versions.-1.comment "$SOCK" '{"id":1,"cmd":"history"}')"

# --- SIGHUP imports a changed file --------------------------------------------
mkconf 3
check "SIGHUP: the changed file is imported" hup "import zone=$ZONE version=2 "
check_eq "SIGHUP: version 2 runs with the file's weight 3" "2 3" "$(running) $(weight)"
check_eq "SIGHUP: the comment says it was imported from the file on reload" \
	"imported from $FILE (reload)" \
	"$($CTL -p result.versions.-1.comment "$SOCK" '{"id":1,"cmd":"history"}')"
check "SIGHUP on the same file: nothing changes, and the log says so" \
	hup "reload: $FILE is what runs \(version 2\)"
check_eq "... still version 2" 2 "$(running)"

# --- after a shell commit, SIGHUP is refused ----------------------------------
out=$(mxc "server set mx s1 weight 7; zone apply $ZONE comment 'by hand'" 2>&1)
check_eq "shell commit: version 3" "zone $ZONE: version 3 running" "$out"
mkconf 4
check "SIGHUP after the shell commit: refused at err" hup "err: reload: $FILE refused"
line=$(grep "err: reload: $FILE not imported" "$ENGINE_LOG" | tail -1)
check "... names the running version and the file's last import" eval \
	'[[ $line == *"runs version 3, committed after the file'"'"'s last import (version 2)"* ]]'
check "... names who committed (version 3 by $(id -un) (by hand))" eval \
	'[[ $line == *"version 3 by $(id -un) (by hand)"* ]]'
check "... gives the command that writes the running config to the file" eval \
	'[[ $line == *"mxlb zone export $ZONE $FILE"* ]]'
check "... and the one that imports it anyway" eval \
	'[[ $line == *"mxlb zone import $ZONE force"* ]]'
check_eq "... nothing changed: version 3, weight 7" "3 7" "$(running) $(weight)"

out=$(mxc "zone import $ZONE" 2>&1)
rc=$?
check "zone import without force: refused the same way (exit $rc)" eval \
	'[ $rc -ne 0 ] && [[ $out == *"not imported"*"mxlb zone import $ZONE force"* ]]'
check_eq "... nothing changed" "3 7" "$(running) $(weight)"

# --- force --------------------------------------------------------------------
out=$(mxc "zone import $ZONE force" 2>&1)
check_eq "zone import force: the file runs" "zone $ZONE: version 4 running, imported from $FILE" "$out"
check_eq "... version 4, weight 4" "4 4" "$(running) $(weight)"
check "... its comment says it was forced over version 3" eval \
	'$CTL -p result.versions.-1.comment "$SOCK" "{\"id\":1,\"cmd\":\"history\"}" | grep -qF "forced over version 3"'
mkconf 5
check "SIGHUP after the forced import: imported again" hup "import zone=$ZONE version=5 "
check_eq "... version 5, weight 5" "5 5" "$(running) $(weight)"

# --- a bad file changes nothing -----------------------------------------------
cp "$FILE" "$T_DIR/good.json"
sed -i 's/"weight": 5/"weight": 999/' "$FILE"
check "SIGHUP with a bad file: refused at err with the reason and the path" \
	hup "err: reload: .*$FILE.*weight"
check "... the reload says the file was not imported" log_has "$ENGINE_LOG" \
	"err: reload: $FILE not imported, version 5 stays running"
check_eq "... nothing changed" "5 5" "$(running) $(weight)"
printf '{ "zone": "%s", ' "$ZONE" >"$FILE"
check "SIGHUP with a file that is not JSON: refused with line and column" \
	hup "err: reload: $FILE:[0-9]+:[0-9]+: "
check_eq "... nothing changed" "5 5" "$(running) $(weight)"
sed "s/\"zone\": \"$ZONE\"/\"zone\": \"other\"/" "$T_DIR/good.json" >"$FILE"
check "SIGHUP with another zone's file: refused, says which zone" \
	hup "err: reload: $FILE: zone is \"other\", this engine runs zone \"$ZONE\""
check_eq "... nothing changed" 5 "$(running)"
check "the engine is still serving" alive "$ENGINE_PID"

# --- the two workflows meet: export, then reload ------------------------------
mxc "server set mx s1 weight 9; zone apply $ZONE" >/dev/null 2>&1
check_eq "another shell commit: version 6" "6 9" "$(running) $(weight)"
out=$(mxc "zone export $ZONE $FILE" 2>&1)
check_eq "zone export writes the running version to the file, and says the engine knows" \
	"zone $ZONE: version 6 written to $FILE|zone $ZONE: it is the zone's config file: 'systemctl reload' imports its next edits" \
	"$(printf '%s\n' "$out" | paste -sd'|')"
check "SIGHUP after the export: the file is what runs" \
	hup "reload: $FILE is what runs \(version 6\)"
check_eq "... no new version" 6 "$(running)"
mkconf 10
check "then an edited file is imported again on reload" hup "import zone=$ZONE version=7 "
check_eq "... version 7, weight 10" "7 10" "$(running) $(weight)"

# --- on start, a file older than a shell commit is not imported ---------------
mxc "server set mx s1 weight 11; zone apply $ZONE" >/dev/null 2>&1
check_eq "shell commit: version 8" "8 11" "$(running) $(weight)"
stop_pid "$ENGINE_PID"
start engine2 || die "restarted engine not ready"
check "restart: the older file is not imported, logged at err" log_has "$ENGINE_LOG" \
	"err: start: zone $ZONE starts with version 8, not $FILE"
check "... with the reason (versions, who, export command)" log_has "$ENGINE_LOG" \
	"err: start: $FILE not imported: zone $ZONE runs version 8.*mxlb zone export $ZONE $FILE"
check_eq "... version 8 runs, weight 11" "8 11" "$(running) $(weight)"
mxc "zone export $ZONE $FILE" >/dev/null 2>&1
mkconf 12
check "after zone export, a reload imports the file's next edit" \
	hup "import zone=$ZONE version=9 "
check_eq "... version 9, weight 12" "9 12" "$(running) $(weight)"
stop_pid "$ENGINE_PID"
start engine3 || die "engine not ready"
check_eq "restart with the file that runs: no new version" 9 "$(running)"
stop_pid "$ENGINE_PID"

# --- first start: no state, the file is imported; MXLB_CONFDIR ----------------
mkdir -p "$T_DIR/etc2"
sed "s/\"weight\": 12/\"weight\": 13/" "$FILE" >"$T_DIR/etc2/$ZONE.json"
spawn engine4 env MXLB_CONFDIR="$T_DIR/etc2" MXLB_STATEDIR="$T_DIR/state2" \
	"$MXLBD" -z "$ZONE" -f
ENGINE_PID=$SPAWNED_PID
ENGINE_LOG=$T_DIR/engine4.log
check "first start with MXLB_CONFDIR: ready" wait_log "$ENGINE_LOG" " ready zone=$ZONE " 10
check_eq "... the file is version 1" "1 13" "$(running) $(weight)"
stop_pid "$ENGINE_PID"

# No file in the config directory: a zone as before, and a reload says so.
spawn engine5 env MXLB_STATEDIR="$T_DIR/state3" "$MXLBD" -z "$ZONE" --confdir "$T_DIR/none" -f
ENGINE_PID=$SPAWNED_PID
ENGINE_LOG=$T_DIR/engine5.log
check "no file in --confdir: the zone starts empty" wait_log "$ENGINE_LOG" " ready zone=$ZONE .*running=0" 10
check "... SIGHUP says there is nothing to import" hup "reload: no $T_DIR/none/$ZONE.json, nothing to import"
stop_pid "$ENGINE_PID"

# -c names a file that must exist.
out=$("$MXLBD" -z "$ZONE" -c "$T_DIR/missing.json" -f 2>&1)
rc=$?
check "-c with a missing file: the start fails and names it (exit $rc)" eval \
	'[ $rc -ne 0 ] && [[ $out == *"$T_DIR/missing.json"* ]]'

finish
