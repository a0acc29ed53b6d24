# inworld-router completion for fish: generated from the app by scripts/gen_completions.py, do not edit.
# Install: see the Completions section of the README.

complete --command inworld-router --no-files --arguments "(env _INWORLD_ROUTER_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=get-args _TYPER_COMPLETE_ARGS=(commandline -cp) inworld-router)" --condition "env _INWORLD_ROUTER_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=is-args _TYPER_COMPLETE_ARGS=(commandline -cp) inworld-router"
