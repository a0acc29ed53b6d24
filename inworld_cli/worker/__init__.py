"""The warm worker: a process that keeps the SDK loaded and runs exchanges for short-lived `ask` processes,
so that only the first one in a while pays for the SDK's import.

`client` (imported by every process that sends; nothing heavy) finds a live worker, sends an exchange
through it and starts one; `server` is the worker itself, running the same exchange engine as an `ask`
without a worker (`router/exchange.py`); `protocol` is what crosses the socket; `sockets` where the socket
lives and who may use it.
"""
