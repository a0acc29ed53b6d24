"""Attachments of a user turn: what a file (or URL) is, the content block that carries it, and how a request
full of them is shown without its base64. Pure: the bytes are read elsewhere.

The type comes from the content first (magic bytes; then "is it UTF-8 text"), never from the name alone, so a
PNG named `.txt` goes as a PNG and a file named `.png` that is not one is refused rather than mislabelled. A
URL has no content here: its extension decides between image and PDF, and anything else is refused.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from inworld_cli.errors import UsageError

# hashlib and urllib.parse are imported where used: reading history loads this module, and `inspect` and
# completion must stay fast.

STDIN = "-"

# The router refuses requests over 32 MB (Anthropic's limit, which it keeps); decimal megabytes, the
# stricter reading.
REQUEST_LIMIT = 32_000_000

IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
PDF = "application/pdf"
TEXT = "text/plain"

_EXTENSIONS = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": PDF,
}
_KINDS = "PNG, JPEG, GIF, WebP, PDF or UTF-8 text"
_NAMES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP", PDF: "PDF"}
_URL_KINDS = ".png, .jpg, .jpeg, .gif, .webp (an image) or .pdf"


def is_url(spec: str) -> bool:
    return spec[:8].lower().startswith(("http://", "https://"))


def human_size(size: int) -> str:
    """512 bytes, 734.0 KB, 2.1 MB: decimal units, as the request limit is stated."""
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1_000_000:.1f} MB"


def _sniff(data: bytes) -> str | None:
    """The media type the bytes announce, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if b"%PDF-" in data[:1024]:  # the PDF spec lets a header follow up to 1 KB of anything
        return PDF
    return None


def _text_of(data: bytes) -> str | None:
    """The text, when the bytes are UTF-8 without NULs (UTF-16 text is valid UTF-8 full of NULs)."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _title(name: str) -> str:
    return "stdin" if name == STDIN else name.replace("\\", "/").rsplit("/", 1)[-1]


# `-a <(command)`: the shell passes a descriptor's path, whose last part (`63`) is no name.
_DESCRIPTOR = re.compile(r"/(dev|proc/(self|\d+))/fd/\d+")


def _titled(block: dict[str, Any], name: str) -> dict[str, Any]:
    """A document block with the file's name as its title, when it has one."""
    return block if _DESCRIPTOR.fullmatch(name) else {**block, "title": _title(name)}


def _extension(path: str) -> str:
    """`.png` for `a/b.PNG`; empty when the last part of the path has no dot."""
    last = _title(path)
    return "." + last.rsplit(".", 1)[-1].lower() if "." in last else ""


@dataclass(frozen=True)
class Attachment:
    """One file, stdin or URL of `-a`, checked and ready to send."""

    name: str  # as given on the command line (a path, a URL, or "-")
    media_type: str
    data: bytes = b""  # the bytes read (empty for a URL)
    text: str | None = None  # the decoded text of a text file
    url: str | None = None

    @property
    def shown_name(self) -> str:
        return "stdin" if self.name == STDIN else self.name

    def block(self) -> dict[str, Any]:
        """The content block: an image, or a document (PDF or text, titled with the file's name)."""
        if self.url is not None:
            kind = "image" if self.media_type in IMAGE_TYPES else "document"
            return {"type": kind, "source": {"type": "url", "url": self.url}}
        if self.text is not None:
            source = {"type": "text", "media_type": TEXT, "data": self.text}
            return _titled({"type": "document", "source": source}, self.name)
        encoded = base64.b64encode(self.data).decode("ascii")
        source = {"type": "base64", "media_type": self.media_type, "data": encoded}
        if self.media_type in IMAGE_TYPES:
            return {"type": "image", "source": source}
        return _titled({"type": "document", "source": source}, self.name)


def refused(name: str, why: str, hint: str | None = None) -> UsageError:
    shown = "stdin" if name == STDIN else name
    return UsageError(
        f"cannot attach {shown}: {why}",
        hint=hint or "attach images (PNG, JPEG, GIF, WebP), PDFs or UTF-8 text",
    )


def attachment_of(name: str, data: bytes) -> Attachment:
    """What the bytes read from `name` are; refused (exit 2, naming it) when they are none of the kinds."""
    if not data:
        raise refused(name, "it is empty")
    media_type = _sniff(data)
    if media_type is not None:
        return Attachment(name, media_type, data)
    text = _text_of(data)
    if text is not None:
        return Attachment(name, TEXT, data, text=text)
    claimed = _EXTENSIONS.get(_extension(name))
    named = f"its name says {_NAMES[claimed]}, but " if claimed is not None else ""
    why = f"{named}its content is none of {_KINDS}"
    raise refused(name, why)


def url_attachment(url: str) -> Attachment:
    """A URL goes to the router as is; its extension says whether it is an image or a PDF."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.hostname:
        raise refused(url, "it is not a URL with a host")
    extension = _extension(parts.path)
    media_type = _EXTENSIONS.get(extension)
    if media_type is None:
        raise refused(
            url,
            f"a URL is sent as is, and its extension ({extension or 'none'}) is not {_URL_KINDS}",
            hint=f"download it and attach the file: curl -o FILE '{url}'; inworld-router ask -a FILE",
        )
    return Attachment(url, media_type, url=url)


def user_content(attachments: list[Attachment], text: str) -> str | list[dict[str, Any]]:
    """The user turn's content: the text alone as a string (the plain form), or the attachments first and
    then the text (as Anthropic advises: material before the question)."""
    if not attachments:
        return text
    blocks = [attachment.block() for attachment in attachments]
    if text:
        blocks.append({"type": "text", "text": text})
    return blocks


# -- the sources inside a request ---------------------------------------------------------------------


def _blocks(messages: object) -> Iterator[dict[str, Any]]:
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict):
                yield block


def has_sources(messages: object) -> bool:
    """Whether any turn carries an attachment (a block with a `source`)."""
    return any(isinstance(block.get("source"), dict) for block in _blocks(messages))


def map_sources(messages: list[Any], change: Callable[[dict[str, Any]], dict[str, Any]]) -> list[Any]:
    """A copy of `messages` in which each block's `source` is `change(source)`; the rest is shared."""

    def block(value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("source"), dict):
            return {**value, "source": change(value["source"])}
        return value

    def message(value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("content"), list):
            return {**value, "content": [block(b) for b in value["content"]]}
        return value

    return [message(m) for m in messages]


def decoded(source: dict[str, Any]) -> bytes | None:
    """The bytes of a base64 source, when its data is canonical base64 (re-encoding gives it back)."""
    data = source.get("data")
    if source.get("type") != "base64" or not isinstance(data, str):
        return None
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        return None
    return raw if base64.b64encode(raw).decode("ascii") == data else None


def summarised(body: dict[str, Any]) -> dict[str, Any]:
    """The body for people (`--dry-run`): base64 data as `<image/png, 2.1 MB, sha256 …>`."""

    import hashlib

    def placeholder(source: dict[str, Any]) -> dict[str, Any]:
        raw = decoded(source)
        if raw is None:
            return source
        digest = hashlib.sha256(raw).hexdigest()
        shown = f"<{source.get('media_type')}, {human_size(len(raw))}, sha256 {digest}>"
        return {**source, "data": shown}

    messages = body.get("messages")
    if not isinstance(messages, list) or not has_sources(messages):
        return body
    return {**body, "messages": map_sources(messages, placeholder)}


def check_request_size(size: int, attachments: list[Attachment], continued: bool) -> None:
    """Refuse (exit 2) a request the router would refuse for its size, naming the biggest files."""
    if size <= REQUEST_LIMIT:
        return
    biggest = sorted(attachments, key=lambda a: len(a.data), reverse=True)[:3]
    named = ", ".join(f"{a.shown_name} ({human_size(len(a.data))})" for a in biggest)
    parts = [named] if named else []
    if continued:
        parts.append("the conversation's earlier turns")
    hints = ["attach fewer or smaller files (base64 makes each a third bigger)"] if attachments else []
    if continued:
        hints.append("start a new conversation (ask without -c)")
    raise UsageError(
        f"the request would be {human_size(size)}, over the router's {human_size(REQUEST_LIMIT)} limit"
        + (f": {' and '.join(parts)}" if parts else ""),
        hint=", or ".join(hints) or None,
    )
