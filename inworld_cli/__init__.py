"""inworld-router: a command-line client for the Inworld Router."""

__version__ = "0.1.0"
