"""The worker's socket: where it lives, who may use it, and reaching it whatever the length of its path.

It lives in a private directory of the user's (0700): the runtime directory when there is one
(`$XDG_RUNTIME_DIR`, cleared at logout), else the state directory. The socket file is 0600, and both ends
check that the process at the other end belongs to the same user (the kernel's peer credentials), so a
key sent through it reaches no one else.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

APP_DIR = "inworld-router"
SOCKET_NAME = "worker.sock"
LOCK_NAME = "worker.lock"
# sun_path holds 108 bytes on Linux and 104 on macOS, its NUL included: longer paths go through a
# directory descriptor (/proc/self/fd/N/worker.sock).
_MAX_ADDRESS = 100


@dataclass(frozen=True)
class Place:
    """The directory of the worker's socket and lock file."""

    directory: Path

    @property
    def socket(self) -> Path:
        return self.directory / SOCKET_NAME

    @property
    def lock(self) -> Path:
        return self.directory / LOCK_NAME


def place_for(env: Mapping[str, str], state_dir: Path) -> Place:
    """The runtime directory when the environment names one that is ours, else the state directory."""
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime):
        try:
            info = os.stat(runtime)
        except OSError:
            info = None
        if info is not None and stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            return Place(Path(runtime) / APP_DIR)
    return Place(state_dir)


def supported() -> bool:
    """Unix sockets and the peer's credentials: without both there is no worker, and `ask` sends itself."""
    return hasattr(socket, "AF_UNIX") and (
        hasattr(socket, "SO_PEERCRED") or hasattr(socket, "LOCAL_PEERCRED")
    )


def is_private(directory: Path) -> bool:
    """A real directory (not a link), owned by this user, that no one else may enter."""
    try:
        info = os.lstat(directory)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077 == 0
    )


def _peer_credentials(sock: socket.socket) -> tuple[int, int] | None:
    """Linux's SO_PEERCRED: the pid and user id of the process at the other end (None: not on Linux)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    size = struct.calcsize("3i")
    pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, size))
    return int(pid), int(uid)


def peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end, as the kernel vouches for it (None: unknown)."""
    try:
        credentials = _peer_credentials(sock)
        if credentials is not None:
            return credentials[1]
        if hasattr(socket, "LOCAL_PEERCRED"):  # macOS, BSD: struct xucred {version, uid, ...}
            data = sock.getsockopt(0, socket.LOCAL_PEERCRED, 76)
            return int(struct.unpack_from("=Ii", data)[1])
    except OSError:
        return None
    return None


def peer_cpu_ticks(sock: socket.socket) -> int | None:
    """The CPU time the process at the other end has used so far, in clock ticks (None: unknown, as off
    Linux): a process that answers late while its count grows is busy, one whose count stands still is hung."""
    try:
        credentials = _peer_credentials(sock)
        if credentials is None:
            return None
        with open(f"/proc/{credentials[0]}/stat", "rb") as stat_file:
            fields = stat_file.read().rpartition(b")")[2].split()  # after the name, which may hold anything
    except OSError:
        return None
    try:
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (IndexError, ValueError):
        return None


@contextlib.contextmanager
def address(path: Path) -> Iterator[str]:
    """The address to bind or connect `path` by: the path itself, or, when it is too long for a socket
    address, the same file through a descriptor of its directory. OSError when it cannot be reached."""
    text = os.fsencode(path)
    if len(text) < _MAX_ADDRESS:
        yield str(path)
        return
    if not os.path.isdir("/proc/self/fd"):
        raise OSError(f"the socket path is too long: {path}")
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def connect(path: Path, timeout: float) -> socket.socket:
    """A connection to the socket at `path`, with `timeout` for each operation until changed; only to a
    process of this user. OSError when there is none (no file, a stale file, another user's)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        with address(path) as where:
            sock.connect(where)
        if peer_uid(sock) != os.getuid():
            raise PermissionError(f"{path} belongs to another user")
    except BaseException:
        sock.close()
        raise
    return sock
