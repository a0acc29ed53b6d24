from inworld_cli.cli import entry

entry()
