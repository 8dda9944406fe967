# Added by `keyctl completions fish`: the values clap_complete cannot list, printed one per line
# for `complete -a`:
#   __keyctl_values profiles          the config's profile names (keyctl profiles -o name)
#   __keyctl_values columns NAME...   comma-separated column names
#   __keyctl_values sort FIELD...     a field name, optionally after `-`
function __keyctl_values
    set -l kind $argv[1]
    set -e argv[1]
    set -l token (commandline -ct)
    set -l prefix ''
    switch $kind
        case profiles columns
            set prefix (string match -r -- '^.*,' $token)
        case sort
            set prefix (string match -r -- '^-' $token)
    end
    if test $kind = profiles
        # The config the command line names, if any: `--config PATH` or `--config=PATH`.
        set -l cmd (commandline -opc)
        set -l config
        for i in (seq 2 (count $cmd))
            switch $cmd[$i]
                case --config
                    if test $i -lt (count $cmd)
                        set config --config (string replace -r -- '^~/' "$HOME/" $cmd[(math $i + 1)])
                    end
                case '--config=*'
                    set config --config (string replace -r -- '^~/' "$HOME/" (string replace -- --config= '' $cmd[$i]))
            end
        end
        set argv ($cmd[1] $config profiles -o name 2>/dev/null)
    end
    for value in $argv
        printf '%s%s\n' "$prefix" $value
    end
end
