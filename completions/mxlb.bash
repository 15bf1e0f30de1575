# bash completion for mxlb.  The words come from the shell's own grammar
# (`mxlb __complete WORDS...`), so they never drift from it.
_mxlb()
{
	local cur=${COMP_WORDS[COMP_CWORD]} IFS=$'\n' line
	local -a words=("${COMP_WORDS[@]:1:COMP_CWORD}")
	COMPREPLY=()
	case ${COMP_WORDS[1]} in
	-c|--rundir|-t|--timeout) [ "$COMP_CWORD" -eq 2 ] && return 0 ;;
	esac
	while IFS=$'\t' read -r line _; do
		[ -n "$line" ] && COMPREPLY+=("$line")
	done < <(mxlb __complete "${words[@]}" 2>/dev/null)
	[ "${#COMPREPLY[@]}" -eq 0 ] && [ "$COMP_CWORD" -eq 1 ] &&
		COMPREPLY=($(IFS=$' \t\n'; compgen -W "--continue -c --rundir --timeout --version --help" -- "$cur"))
	return 0
}
complete -F _mxlb mxlb
