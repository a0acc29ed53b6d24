"""Reading what `ask -a` names: files, stdin or URLs, each checked before anything is sent (core/attachments
says what the bytes are)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from inworld_cli.core.attachments import (
    REQUEST_LIMIT,
    STDIN,
    Attachment,
    attachment_of,
    human_size,
    is_url,
    refused,
    url_attachment,
)
from inworld_cli.errors import UsageError
from inworld_cli.output.console import Streams

_TOO_BIG_HINT = "the router takes at most 32 MB per request; attach a smaller file"


def check_attach_specs(specs: Sequence[str], no_stdin: bool) -> None:
    """What can be refused before anything is read: stdin named twice or turned off, an empty name."""
    if list(specs).count(STDIN) > 1:
        raise UsageError("-a - can be given once: stdin holds one attachment", hint="attach files by name")
    if no_stdin and STDIN in specs:
        raise UsageError("-a - reads stdin, which --no-stdin turns off", hint="attach a file by name")
    if any(not spec.strip() for spec in specs):
        raise UsageError("-a needs a file name, a URL or -", hint="e.g. -a report.pdf")


def read_attachments(specs: Sequence[str], streams: Streams) -> list[Attachment]:
    return [_read(spec, streams) for spec in specs]


def _read(spec: str, streams: Streams) -> Attachment:
    if is_url(spec):
        return url_attachment(spec)
    if spec == STDIN:
        if streams.stdin_is_terminal:
            streams.err("Reading the attachment from the terminal; end it with Ctrl-D.")
        data = streams.stdin.read(REQUEST_LIMIT + 1)
        if len(data) > REQUEST_LIMIT:
            raise refused(spec, f"it is more than {human_size(REQUEST_LIMIT)}", _TOO_BIG_HINT)
        return attachment_of(spec, data)
    try:
        with open(spec, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > REQUEST_LIMIT:  # refused unread: a 5 GB file is not loaded to be refused
                raise refused(spec, f"it is {human_size(size)}", _TOO_BIG_HINT)
            data = file.read(REQUEST_LIMIT + 1)  # a pipe (`-a <(cmd)`) has no size to check first
    except FileNotFoundError:
        raise refused(spec, "no such file", "check the path") from None
    except IsADirectoryError:
        raise refused(spec, "it is a directory", "attach the files in it one by one") from None
    except OSError as exc:
        raise refused(spec, exc.strerror or str(exc), f"check that you can read {spec}") from None
    if len(data) > REQUEST_LIMIT:
        raise refused(spec, f"it is more than {human_size(REQUEST_LIMIT)}", _TOO_BIG_HINT)
    return attachment_of(spec, data)
