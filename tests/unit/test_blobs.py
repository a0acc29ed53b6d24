"""Attachments and repeated long text in history: stored once by their hash, put back exactly, and released
when the last record using them goes."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

from inworld_cli.core.record import Record, new_record_id, utc_timestamp
from inworld_cli.store.blobs import LONG_TEXT, MARKER, externalize, restore
from inworld_cli.store.history import HistoryStore

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40
LONG = "a long pasted log line\n" * (LONG_TEXT // 20)


def pdf_block() -> dict[str, Any]:
    source = {"type": "base64", "media_type": "application/pdf", "data": base64.b64encode(PDF).decode()}
    return {"type": "document", "source": source, "title": "r.pdf"}


def request(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"model": "auto", "max_tokens": 64, "messages": list(messages), "stream": True}


TEXT_DOC = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "notes"}}
CONVERSATION = request(
    {"role": "user", "content": [pdf_block(), TEXT_DOC, {"type": "text", "text": "Summarise."}]},
    {"role": "assistant", "content": [{"type": "text", "text": LONG}]},
    {"role": "user", "content": LONG},  # an earlier long prompt, re-sent
    {"role": "assistant", "content": [{"type": "text", "text": "short"}]},
    {"role": "user", "content": [pdf_block(), {"type": "text", "text": LONG}]},  # this turn's own text stays
)


def test_attachments_and_resent_long_text_become_references_and_come_back_exactly() -> None:
    stored, blobs = externalize(CONVERSATION)
    assert set(blobs.values()) == {PDF, b"notes", LONG.encode()}  # the PDF twice, LONG twice: once each
    messages = stored["messages"]
    assert messages[0]["content"][0]["source"]["data"] == {MARKER: next(iter(blobs)), "encoding": "base64"}
    assert messages[1]["content"][0]["text"][MARKER]
    assert messages[2]["content"][MARKER]
    assert messages[4]["content"][1]["text"] == LONG  # the new turn's words stay searchable
    assert len(json.dumps(stored)) < len(json.dumps(LONG)) + 2000  # one copy of the text: the last turn's
    assert restore(stored, blobs) == CONVERSATION
    assert (
        CONVERSATION["messages"][0]["content"][0]["source"]["data"]
        != messages[0]["content"][0]["source"]["data"]
    )


def make(request_body: dict[str, Any], response_text: Any = "ok") -> Record:
    return Record(
        id=new_record_id(),
        created_at=utc_timestamp(),
        profile="default",
        base_url_host="127.0.0.1",
        request=request_body,
        response={"content": [{"type": "text", "text": response_text}]},
        error=None,
        timings={},
        exit_status=0,
    )


def test_records_share_a_blob_and_it_goes_with_the_last_of_them(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.sqlite3")
    first, second = make(CONVERSATION), make(CONVERSATION)
    store.add(first)
    store.add(second)
    assert [r.request for r in store.recent(5)] == [CONVERSATION, CONVERSATION]
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT count(*), sum(size) FROM blobs").fetchone() == (
            3,
            len(PDF) + 5 + len(LONG),
        )
        conn.execute("DELETE FROM records WHERE id = ?", (first.id,))
        assert conn.execute("SELECT count(*) FROM blobs").fetchone() == (3,)
        conn.execute("DELETE FROM records WHERE id = ?", (second.id,))
        assert conn.execute("SELECT count(*) FROM blobs").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM record_blobs").fetchone() == (0,)


def test_a_record_gets_back_only_the_blobs_it_is_linked_to(tmp_path: Path) -> None:
    """A router that answers with a marker-shaped value cannot make a later turn re-send another record's
    file: the marker stays as it came."""
    store = HistoryStore(tmp_path / "history.sqlite3")
    own = make(CONVERSATION)
    store.add(own)
    digest = next(iter(externalize(CONVERSATION)[1]))
    forged = {MARKER: digest, "encoding": "base64"}
    later = make(
        request(
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "text", "text": forged}]},
            {"role": "user", "content": [TEXT_DOC]},
        )
    )
    store.add(later)
    loaded = store.recent(1)[0]
    assert loaded.request["messages"][1]["content"][0]["text"] == forged
    assert loaded.request["messages"][2]["content"][0] == TEXT_DOC
