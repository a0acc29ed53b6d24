from inworld_cli.cli import main

main()
