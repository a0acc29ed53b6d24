"""What an attachment is (from its bytes first), the block it becomes, and how a request full of them is
shown and sized."""

from __future__ import annotations

import base64
import hashlib

import pytest

from inworld_cli.core.attachments import (
    Attachment,
    attachment_of,
    check_request_size,
    human_size,
    summarised,
    url_attachment,
)
from inworld_cli.errors import UsageError


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("x.txt", b"\x89PNG\r\n\x1a\n....", "image/png"),  # the content decides, not the name
        ("x", b"\xff\xd8\xff\xdb....", "image/jpeg"),
        ("x.png", b"GIF87a....", "image/gif"),
        ("x", b"RIFF\x00\x00\x00\x00WEBPVP8L", "image/webp"),
        ("x", b"\xef\xbb\xbfjunk before the header\n%PDF-1.4\n", "application/pdf"),
        ("x.png", "plain text, héllo".encode(), "text/plain"),
    ],
)
def test_the_type_comes_from_the_content(name: str, data: bytes, media_type: str) -> None:
    assert attachment_of(name, data).media_type == media_type


def test_a_text_file_is_a_titled_document_without_its_bom() -> None:
    block = attachment_of("docs/notes.md", b"\xef\xbb\xbfhello\n").block()
    assert block == {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "hello\n"},
        "title": "notes.md",
    }


@pytest.mark.parametrize("name", ["/dev/fd/63", "/proc/self/fd/11", "/proc/4242/fd/3"])
def test_a_process_substitution_has_no_name_to_title_it_with(name: str) -> None:
    """`-a <(git diff)`: the path the shell gives ends in a descriptor's number, which is no title."""
    assert "title" not in attachment_of(name, b"diff --git a/x b/x\n").block()
    assert attachment_of(name, b"%PDF-1.7\n").block().keys() == {"type", "source"}


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        (
            "utf16.txt",
            "hi".encode("utf-16"),
            "its content is none of PNG, JPEG, GIF, WebP, PDF or UTF-8 text",
        ),
        ("latin1.txt", "café".encode("latin-1"), "its content is none of"),
        ("fake.PDF", b"\x00\x01\x02", "its name says PDF, but its content is none of"),
        ("empty", b"", "it is empty"),
    ],
)
def test_what_is_none_of_the_kinds_is_refused_naming_the_file(name: str, data: bytes, why: str) -> None:
    with pytest.raises(UsageError) as refused:
        attachment_of(name, data)
    assert refused.value.message.startswith(f"cannot attach {name}: {why}")


def test_a_url_is_an_image_or_a_pdf_by_its_extension() -> None:
    assert url_attachment("https://x.org/a/b.WebP?v=2#top").block() == {
        "type": "image",
        "source": {"type": "url", "url": "https://x.org/a/b.WebP?v=2#top"},
    }
    assert url_attachment("http://x.org/paper.pdf").block()["type"] == "document"
    for url in ("https://x.org/page", "https://x.org/a.png/", "https:///a.png"):
        with pytest.raises(UsageError):
            url_attachment(url)


def test_dry_run_shows_base64_by_type_size_and_hash_and_keeps_the_rest() -> None:
    image = Attachment("a.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(1500))
    text = attachment_of("b.txt", b"words")
    body = {"model": "m", "messages": [{"role": "user", "content": [image.block(), text.block()]}]}
    shown = summarised(body)["messages"][0]["content"]
    digest = hashlib.sha256(image.data).hexdigest()
    assert shown[0]["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": f"<image/png, 1.5 KB, sha256 {digest}>",
    }
    assert shown[1] == text.block()
    assert body["messages"][0]["content"][0]["source"]["data"] == base64.b64encode(image.data).decode()


def test_sizes_read_as_people_say_them() -> None:
    assert [human_size(n) for n in (0, 999, 1000, 2_100_000, 32_000_000)] == [
        "0 bytes",
        "999 bytes",
        "1.0 KB",
        "2.1 MB",
        "32.0 MB",
    ]


def test_a_request_over_the_limit_names_its_biggest_files_and_the_conversation() -> None:
    files = [Attachment(f"f{n}.png", "image/png", bytes(n * 1_000_000)) for n in (1, 9, 5, 8)]
    check_request_size(32_000_000, files, continued=True)
    with pytest.raises(UsageError) as over:
        check_request_size(32_000_001, files, continued=True)
    assert over.value.message == (
        "the request would be 32.0 MB, over the router's 32.0 MB limit: f9.png (9.0 MB), f8.png (8.0 MB), "
        "f5.png (5.0 MB) and the conversation's earlier turns"
    )
