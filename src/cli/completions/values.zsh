# Added by `keyctl completions zsh`: the values clap_complete cannot list, as `_arguments`
# actions:
#   _keyctl_values profiles          the config's profile names (keyctl profiles -o name)
#   _keyctl_values columns           comma-separated column names of the command being completed
#   _keyctl_values sort FIELD...     a field name, optionally after `-`
(( $+functions[_keyctl_values] )) ||
_keyctl_values() {
    local kind=$1 i c
    local -a values config
    shift
    case $kind in
        (profiles)
            # The config the command line names, if any: `--config PATH` or `--config=PATH`
            # among the words of the command being completed.
            for (( i = 1; i < CURRENT; i++ )); do
                c=
                case ${words[i]} in
                    (--config) c=${words[i+1]} ;;
                    (--config=*) c=${words[i]#--config=} ;;
                esac
                [[ -n $c ]] && config=(--config ${~c})
            done
            values=(${(f)"$(keyctl $config profiles -o name 2>/dev/null)"})
            _sequence compadd - $values
            ;;
        (columns)
            # `profiles` and `audit` have columns of their own; every other command's are the
            # key pair fields.
            case ${words[(r)(profiles|audit)]} in
                (profiles) values=(@PROFILES_COLUMNS@) ;;
                (audit) values=(@AUDIT_COLUMNS@) ;;
                (*) values=(@FIELDS@) ;;
            esac
            _sequence compadd - $values
            ;;
        (sort)
            compadd - "$@" ${@/#/-}
            ;;
    esac
}
