# Added by `keyctl completions bash`: the values clap_complete cannot list. Called from the
# option cases above with `cur` (the word being completed) in scope:
#   _keyctl_values profiles          the config's profile names (keyctl profiles -o name)
#   _keyctl_values columns NAME...   comma-separated column names
#   _keyctl_values sort FIELD...     a field name, optionally after `-`
_keyctl_values() {
    local kind="$1" word="${cur}" prefix="" i c
    local -a config=() words=()
    shift
    case "${kind}" in
        profiles | columns)
            if [[ "${word}" == *,* ]]; then
                prefix="${word%,*},"
                word="${word##*,}"
            fi
            ;;
        sort)
            if [[ "${word}" == -* ]]; then
                prefix="-"
                word="${word#-}"
            fi
            ;;
    esac
    if [[ "${kind}" == profiles ]]; then
        # The config the command line names, if any (`--config PATH` or `--config=PATH`; bash
        # splits the latter at `=`).
        for ((i = 1; i < COMP_CWORD; i++)); do
            c=""
            if [[ "${COMP_WORDS[i]}" == --config ]]; then
                c="${COMP_WORDS[i + 1]}"
                [[ "${c}" == "=" ]] && c="${COMP_WORDS[i + 2]}"
            elif [[ "${COMP_WORDS[i]}" == --config=* ]]; then
                c="${COMP_WORDS[i]#--config=}"
            fi
            if [[ -n "${c}" ]]; then
                [[ "${c}" == "~/"* ]] && c="${HOME}/${c#"~/"}"
                config=(--config "${c}")
            fi
        done
        words=($("${COMP_WORDS[0]}" "${config[@]}" profiles -o name 2>/dev/null))
    else
        words=("$@")
    fi
    COMPREPLY=($(compgen -P "${prefix}" -W "${words[*]}" -- "${word}"))
}
