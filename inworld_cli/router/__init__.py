"""Talking to the router: the transport (the only code that speaks HTTP or imports the SDK), the exchange
engine, server-sent events, failures, and the catalogue and saved-router endpoints."""
