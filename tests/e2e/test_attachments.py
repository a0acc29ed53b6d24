"""`ask -a`: each kind of attachment reaches the router as the right block with its bytes intact, every
refusal sends nothing, and history keeps what was sent, once (in process, against the local router)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from inworld_cli.core import attachments
from tests.conftest import Home
from tests.router_server import RouterServer

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(255, -1, -1))
GIF = b"GIF89a" + b"\x01\x00\x01\x00\x80\x00\x00" + bytes(40)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Pages >> endobj\n2 0 obj << /Type /Page >> endobj\n%%EOF\n"
TEXT = "héllo ✓\nsecond line\n"


def write(directory: Path, name: str, data: bytes) -> str:
    path = directory / name
    path.write_bytes(data)
    return str(path)


def blocks(router: RouterServer, index: int = -1) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = router.messages_requests[index].json["messages"][-1]["content"]
    return content


def base64_block(kind: str, media_type: str, data: bytes, **extra: str) -> dict[str, Any]:
    source = {"type": "base64", "media_type": media_type, "data": base64.b64encode(data).decode()}
    return {"type": kind, "source": source, **extra}


def test_each_kind_arrives_as_its_block_with_its_bytes(
    routed_home: Home, router: RouterServer, tmp_path: Path
) -> None:
    files = [
        write(tmp_path, "a.png", PNG),
        write(tmp_path, "b.jpeg", JPEG),
        write(tmp_path, "c.gif", GIF),
        write(tmp_path, "d.webp", WEBP),
        write(tmp_path, "e.pdf", PDF),
        write(tmp_path, "notes.md", TEXT.encode()),
        write(tmp_path, "picture.txt", PNG),  # a PNG whatever its name says
    ]
    urls = ["https://example.com/cat.JPG?size=2", "http://example.com/paper.pdf"]
    args = [arg for spec in [*files, *urls] for arg in ("-a", spec)]
    result = routed_home.run("ask", *args, "What are these?")
    assert (result.returncode, result.stdout, result.stderr) == (0, "Hello!\n", "")
    assert blocks(router) == [
        base64_block("image", "image/png", PNG),
        base64_block("image", "image/jpeg", JPEG),
        base64_block("image", "image/gif", GIF),
        base64_block("image", "image/webp", WEBP),
        base64_block("document", "application/pdf", PDF, title="e.pdf"),
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": TEXT},
            "title": "notes.md",
        },
        base64_block("image", "image/png", PNG),
        {"type": "image", "source": {"type": "url", "url": urls[0]}},
        {"type": "document", "source": {"type": "url", "url": urls[1]}},
        {"type": "text", "text": "What are these?"},
    ]
    shown = json.loads(routed_home.run("history", "--json", "-n", "1").stdout)[0]
    assert shown["request"]["messages"][-1]["content"] == blocks(router)  # history prints what was sent
    # Listed by name where the request has one, else by type or URL, the same in history and conversations.
    labels = (
        "[image/png] [image/jpeg] [image/gif] [image/webp] [e.pdf] [notes.md] [image/png] "
        f"[{urls[0]}] [{urls[1]}] What are these?"
    )
    listed = routed_home.run("history").stdout.rstrip("\n").split("\t")[-1]
    title = routed_home.run("conversations").stdout.splitlines()[0].split("\t")[-1]
    for shortened in (listed, title):  # both cut to their column's length
        assert shortened.endswith("…"), shortened
        assert labels.startswith(shortened.removesuffix("…")), shortened


def test_stdin_as_the_attachment_and_attachments_alone(routed_home: Home, router: RouterServer) -> None:
    assert routed_home.run("ask", "-a", "-", "Describe it.", input=PNG).returncode == 0
    assert blocks(router) == [
        base64_block("image", "image/png", PNG),
        {"type": "text", "text": "Describe it."},
    ]
    assert routed_home.run("ask", "-a", "-", input=TEXT).returncode == 0  # no words: the file is the prompt
    text_source = {"type": "text", "media_type": "text/plain", "data": TEXT}
    assert blocks(router) == [{"type": "document", "source": text_source, "title": "stdin"}]


def test_dry_run_shows_attachments_by_type_size_and_hash(routed_home: Home, tmp_path: Path) -> None:
    picture = write(tmp_path, "big.png", PNG + bytes(2_100_000))
    result = routed_home.run("ask", "--dry-run", "-a", picture, "hi")
    assert result.returncode == 0
    body = json.loads(result.stdout.partition("\n\n")[2])
    import hashlib

    digest = hashlib.sha256(Path(picture).read_bytes()).hexdigest()
    assert body["messages"][0]["content"][0]["source"]["data"] == f"<image/png, 2.1 MB, sha256 {digest}>"
    assert len(result.stdout) < 2000


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("missing.png", None, "error: cannot attach {path}: no such file"),
        ("folder", "dir", "error: cannot attach {path}: it is a directory"),
        ("empty.txt", b"", "error: cannot attach {path}: it is empty"),
        (
            "fake.png",
            b"\x00\x01 not an image",
            "error: cannot attach {path}: its name says PNG, but its content is",
        ),
        (
            "blob.bin",
            b"\xff\xfe\x00\x00binary",
            "error: cannot attach {path}: its content is none of PNG, JPEG",
        ),
        ("huge.png", "sparse", "error: cannot attach {path}: it is 33.0 MB"),
        (
            "https://example.com/page",
            None,
            "error: cannot attach {path}: a URL is sent as is, and its extension",
        ),
    ],
)
def test_a_refused_attachment_sends_nothing(
    routed_home: Home, router: RouterServer, tmp_path: Path, name: str, data: Any, error: str
) -> None:
    path = name if name.startswith("https:") else str(tmp_path / name)
    if data == "dir":
        os.mkdir(path)
    elif data == "sparse":
        with open(path, "wb") as file:
            file.truncate(33_000_000)
    elif data is not None:
        Path(path).write_bytes(data)
    result = routed_home.run("ask", "-a", path, "hi")
    assert (result.returncode, result.stdout) == (2, "")
    first, hint = result.stderr.splitlines()
    assert first.startswith(error.format(path=path)), first
    assert hint.startswith("hint: ")
    assert router.messages_requests == []
    assert routed_home.run("history", "--json").stdout == "[]\n"


def test_a_request_over_the_routers_limit_sends_nothing(
    routed_home: Home, router: RouterServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole body counts, base64 included (the limit made small: the same check, without 32 MB)."""
    monkeypatch.setattr(attachments, "REQUEST_LIMIT", 50_000)
    picture = write(tmp_path, "photo.png", PNG + bytes(40_000))
    result = routed_home.run("ask", "-a", picture, "hi")
    assert (result.returncode, result.stdout, router.messages_requests) == (2, "", [])
    assert result.stderr == (
        f"error: the request would be 54.9 KB, over the router's 50.0 KB limit: {picture} (41.0 KB)\n"
        "hint: attach fewer or smaller files (base64 makes each a third bigger)\n"
    )


def test_stdin_cannot_be_both_prompt_and_attachment(routed_home: Home, router: RouterServer) -> None:
    twice = routed_home.run("ask", "-a", "-", "-a", "-", "hi", input=PNG)
    assert twice.stderr.startswith("error: -a - can be given once")
    both = routed_home.run("ask", "-a", "-", "-", input=PNG)
    assert both.stderr.startswith("error: the prompt - reads stdin, which -a - takes as the attachment")
    assert (twice.returncode, both.returncode, router.messages_requests) == (2, 2, [])


def test_continue_resends_an_attachment_whose_file_is_gone(
    routed_home: Home, router: RouterServer, tmp_path: Path
) -> None:
    report = write(tmp_path, "report.pdf", PDF + os.urandom(5000))
    sent_first = None
    assert routed_home.run("ask", "-a", report, "Summarise.").returncode == 0
    sent_first = blocks(router)[0]
    os.remove(report)
    result = routed_home.run("ask", "-c", "Shorter?")
    assert result.returncode == 0, result.stderr
    messages = router.messages_requests[-1].json["messages"]
    assert messages[0]["content"][0] == sent_first
    assert base64.b64decode(sent_first["source"]["data"]).startswith(PDF)


def test_ten_turns_with_one_attachment_store_it_about_once(
    routed_home: Home, router: RouterServer, tmp_path: Path
) -> None:
    size = 400_000
    picture = write(tmp_path, "photo.png", PNG + os.urandom(size))  # random: no page of it repeats
    database = routed_home.state_dir / "history.sqlite3"
    assert routed_home.run("ask", "warm up").returncode == 0
    before = database.stat().st_size
    assert routed_home.run("ask", "-a", picture, "Turn 1").returncode == 0
    for turn in range(2, 11):  # each turn attaches it again, and re-sends every earlier turn's copy
        assert routed_home.run("ask", "-c", "-a", picture, f"Turn {turn}").returncode == 0
    assert len(blocks(router)) == 2
    assert sum(len(m["content"]) for m in router.messages_requests[-1].json["messages"][::2]) == 20
    growth = database.stat().st_size - before
    assert size < growth < 1.25 * size, growth  # ten turns, 55 copies sent: one stored
    last = json.loads(routed_home.run("history", "--json", "-n", "1").stdout)[0]
    assert last["request"] == router.messages_requests[-1].json  # put back together exactly
