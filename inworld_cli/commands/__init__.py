"""One module per command group; each parses flags and calls a plain run_* function."""
