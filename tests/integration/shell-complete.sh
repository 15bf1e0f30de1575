#!/bin/bash
# Completion as a user meets it.  One engine (zone z1) with a small config
# applied through the shell; then `mxlb __complete WORDS...` on a set of
# partial lines, each compared byte for byte with its transcript in
# tests/golden/complete/ (the command, its output, its status if not 0).
# Then the bash completion script: sourced, it registers _mxlb, and a
# COMP_WORDS/COMP_CWORD simulation returns the grammar's words; the zsh
# script declares itself for mxlb.
#
# MXLB_GOLDEN_UPDATE=1 writes the transcripts instead of comparing them:
# read every changed one (git diff) before keeping it.
. "$(dirname "$0")/../lib.sh"

MXLB=$T_TOP/build/mxlb
GOLDEN=$T_TOP/tests/golden/complete
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
free_ports FE SRV

start_engine -z z1 || die "engine z1 not ready in 10 s"

# Ports appear in no completion: the transcripts do not depend on them.
out=$("$MXLB" -c "farm add mx zone z1 probe none;
	server add mx 127.0.0.1 name mx1 port $SRV;
	server add mx 127.0.0.2 name mx2 port $SRV weight 2;
	frontend add in zone z1 bind $FE address 127.0.0.1 farm mx;
	zone apply z1 comment 'shell-complete'" 2>&1)
check_eq "the config applies through mxlb -c" "zone z1: version 1 running" "$out"

# transcript WORDS...: what `mxlb __complete WORDS...` prints, as a user
# would read it in a terminal: the command (words quoted), then the output,
# then the exit status when it is not 0.
transcript() {
	local rc
	printf '$ mxlb __complete'
	printf " '%s'" "$@"
	printf '\n'
	"$MXLB" __complete "$@" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || printf '[exit %d]\n' "$rc"
}

# golden NAME WORDS...: the transcript equals tests/golden/complete/NAME.out.
golden() {
	local name=$1 file=$GOLDEN/$1.out got
	shift
	got=$T_DIR/$name.out
	transcript "$@" >"$got"
	if [ -n "${MXLB_GOLDEN_UPDATE:-}" ]; then
		mkdir -p "$GOLDEN"
		cp "$got" "$file"
		note "wrote $file"
	fi
	if [ ! -f "$file" ]; then
		fail "complete $name" "no golden file $file (MXLB_GOLDEN_UPDATE=1 writes it)"
	elif cmp -s "$file" "$got"; then
		ok "complete $name"
	else
		fail "complete $name" "differs from $file:"
		diff -u "$file" "$got" | sed 's/^/#   /'
	fi
}

# The first word: every command, with its help.
golden top ''
# An ambiguous prefix lists both; a unique one completes.
golden s s
golden sh sh
golden show show ''
golden sh-r sh r
golden farm farm ''
# Names from the running config (a farm's help names its zone), then
# attributes with their help.
golden farm-set farm set ''
golden farm-set-mx farm set mx ''
golden farm-set-mx-no-probe farm set mx no probe
golden farm-set-mx-balance farm set mx balance ''
golden farm-set-mx-balance-done farm set mx balance leastconn ''
# A farm's source: the one word it takes, or an address.
golden farm-set-mx-source farm set mx source ''
golden server-set-mx server set mx ''
golden server-set-mx-mx1-p server set mx mx1 p
golden server-set-mx-mx1-proxyprotocol server set mx mx1 proxyprotocol ''
# Abbreviated words before the one completed.
golden fa-a-web-zo fa a web zo ''
golden frontend-add-web-farm frontend add web farm ''
golden no no ''
golden no-server-mx no server mx ''
golden zone-apply zone apply ''
golden show-running show running ''
golden server-drain server drain mx mx1 ''
# An error earlier on the line: nothing to offer, status 1.
golden farm-set-nofarm farm set nofarm ''

# Every golden file is used: none is left over from a renamed case.
for f in "$GOLDEN"/*.out; do
	grep -q "^golden $(basename "$f" .out) " "$0" ||
		fail "golden $(basename "$f")" "no case in $(basename "$0") uses it"
done

# --- bash ------------------------------------------------------------------

# bash_complete WORD...: what _mxlb offers for the command line mxlb WORD...
# (the last word is the one being completed), one per line.
bash_complete() {
	(
		PATH=$T_TOP/build:$PATH
		# shellcheck disable=SC1091
		. "$T_TOP/completions/mxlb.bash"
		COMP_WORDS=(mxlb "$@")
		COMP_CWORD=$#
		COMP_LINE="mxlb $*"
		COMP_POINT=${#COMP_LINE}
		_mxlb mxlb "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf '%s\n' "${COMPREPLY[@]}"
	)
}

reg=$(
	# shellcheck disable=SC1091
	. "$T_TOP/completions/mxlb.bash" && complete -p mxlb
)
check_eq "bash: sourcing completions/mxlb.bash registers _mxlb" \
	"complete -F _mxlb mxlb" "$reg"
check_eq "bash: mxlb farm s<TAB> gives set" "set" "$(bash_complete farm s)"
check_eq "bash: mxlb server set mx <TAB> gives the farm's servers" \
	"mx1 mx2" "$(bash_complete server set mx '' | xargs)"
check_eq "bash: mxlb fa a web zo <TAB> gives the zone" "z1" \
	"$(bash_complete fa a web zo '')"
check_eq "bash: mxlb <TAB> gives the grammar's first words" \
	"$("$MXLB" __complete '' | cut -f1 | xargs)" "$(bash_complete '' | xargs)"
check_eq "bash: mxlb farm set mx balance l<TAB> gives leastconn" "leastconn" \
	"$(bash_complete farm set mx balance l)"
# The options, one word each (not one string with them all).
check_eq "bash: mxlb --c<TAB> gives the option --continue" "--continue" \
	"$(bash_complete --c)"
check_eq "bash: mxlb --r<TAB> gives the option --rundir" "--rundir" \
	"$(bash_complete --r)"
check_eq "bash: nothing after an unknown farm" "" \
	"$(bash_complete farm set nofarm '')"

# --- zsh -------------------------------------------------------------------

check_eq "zsh: completions/_mxlb starts with #compdef mxlb" "#compdef mxlb" \
	"$(head -1 "$T_TOP/completions/_mxlb")"

finish
