"""Pure data and rules: records, the routing trace, requests and prompts. No IO, no Typer, no SDK."""
