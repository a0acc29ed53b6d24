"""`python -m inworld_cli.worker DIRECTORY IDLE BUILD`: the warm worker process, as `ask` starts it
(detached, in a session of its own, with a scrubbed environment; see `client.start_worker`)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

from inworld_cli.environment import SystemClock
from inworld_cli.router.transport import Transport
from inworld_cli.worker import protocol
from inworld_cli.worker.server import WorkerServer
from inworld_cli.worker.sockets import Place


def main(argv: list[str]) -> int:
    with contextlib.suppress(OSError):
        os.setsid()  # a session of its own: no controlling terminal, so Ctrl-C and a closed terminal spare it
    directory, idle, build = argv
    if build != protocol.build_id():
        return 0  # installed code changed between the client's start and ours: no one would use us
    transport = Transport(remember_keys=False)
    server = WorkerServer(Place(Path(directory)), idle=float(idle), transport=transport, clock=SystemClock())
    if not server.open():
        return 0  # another worker holds the lock: it serves
    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        signal.signal(getattr(signal, name), lambda *_: server.retire())
    transport.preload()  # the SDK, while the socket already answers (requests wait for it)
    server.serve()
    server.wait()  # the requests in flight are someone's answers
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)  # tearing down the SDK's ~3,000 modules runs nothing we need
