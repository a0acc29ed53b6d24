# inworld-router completion for bash: generated from the app by scripts/gen_completions.py, do not edit.
# Install: see the Completions section of the README.

_inworld_router_completion() {
    local IFS=$'
'
    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \
                   COMP_CWORD=$COMP_CWORD \
                   _INWORLD_ROUTER_COMPLETE=complete_bash $1 ) )
    return 0
}

complete -o default -F _inworld_router_completion inworld-router
