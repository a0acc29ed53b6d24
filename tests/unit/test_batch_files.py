"""`batch` without the network: its three input forms, checking, request bodies with the flags as defaults,
output lines, the summary's numbers, and the -o file it resumes (torn lines, error lines, foreign files)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from inworld_cli.core.batch import Item, Tally, item_body, parse_line, result_line
from inworld_cli.core.record import Record
from inworld_cli.core.request import Parameters
from inworld_cli.core.routing_options import RoutingOptions
from inworld_cli.errors import ExitStatus, LocalError, UsageError
from inworld_cli.output.batch import summary_text
from inworld_cli.store.batch_files import BatchInput, ResultsFile
from tests.router_server import FAILOVER_METADATA, message
from tests.unit.test_render import failover_record

# -- the three forms -------------------------------------------------------------------------------------


def parse(line: str, number: int = 3, *, plain: bool = False) -> Item | None:
    return parse_line(line.encode(), number, "in.jsonl", plain=plain)


def test_our_form_with_every_key() -> None:
    item = parse(
        '{"id": "q1", "prompt": "Why?", "system": "Be brief", "model": "openai/gpt-5", '
        '"max_tokens": 50, "temperature": 0.2}\n'
    )
    assert item == Item(
        id="q1",
        line=3,
        prompt="Why?",
        settings={"system": "Be brief", "model": "openai/gpt-5", "max_tokens": 50, "temperature": 0.2},
    )


def test_our_form_defaults_the_id_to_the_line_number_and_takes_numbers_and_nulls() -> None:
    assert parse('{"prompt": "hi"}', 7) == Item(id="7", line=7, prompt="hi")
    assert parse('{"id": 42, "prompt": "hi", "system": null}') == Item(id="42", line=3, prompt="hi")


def test_the_anthropic_batch_form_keeps_its_params() -> None:
    params = {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}], "top_k": 3}
    item = parse(json.dumps({"custom_id": "c-1", "params": params}))
    assert item == Item(id="c-1", line=3, params=params)


def test_lines_are_prompts_with_the_line_number_as_id() -> None:
    assert parse('  {"not": "json"} \r\n', 5, plain=True) == Item(id="5", line=5, prompt='  {"not": "json"} ')


@pytest.mark.parametrize("line", ["", "\n", "   \t\r\n"])
def test_blank_lines_are_no_items(line: str) -> None:
    assert parse(line) is None
    assert parse(line, plain=True) is None


def test_a_byte_order_mark_on_the_first_line_is_ignored() -> None:
    assert parse_line(b'\xef\xbb\xbf{"prompt": "hi"}\n', 1, "in") == Item(id="1", line=1, prompt="hi")


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("not json", "in.jsonl:3: not valid JSON: Expecting value (column 1)"),
        ('{"prompt": "hi"', "in.jsonl:3: not valid JSON: Expecting ',' delimiter (column 16)"),
        ("[1, 2]", "in.jsonl:3: a JSON array, not an object"),
        ('"hi"', "in.jsonl:3: a JSON string, not an object"),
        ('{"promt": "hi", "id": 1}', 'in.jsonl:3: no "prompt" (its keys: "promt", "id")'),
        ("{}", 'in.jsonl:3: no "prompt" (an empty object)'),
        ('{"prompt": "hi", "sytem": "x"}', 'in.jsonl:3: unknown key "sytem"'),
        ('{"prompt": "  "}', 'in.jsonl:3: "prompt" must be a non-empty string'),
        ('{"prompt": 5}', 'in.jsonl:3: "prompt" must be a non-empty string'),
        ('{"prompt": "hi", "id": ""}', 'in.jsonl:3: "id" must be a non-empty string or a whole number'),
        ('{"prompt": "hi", "id": true}', 'in.jsonl:3: "id" must be a non-empty string or a whole number'),
        ('{"prompt": "hi", "model": ""}', 'in.jsonl:3: "model" must be a non-empty string'),
        ('{"prompt": "hi", "system": 1}', 'in.jsonl:3: "system" must be a string'),
        ('{"prompt": "hi", "max_tokens": 0}', 'in.jsonl:3: "max_tokens" must be a whole number, at least 1'),
        (
            '{"prompt": "hi", "max_tokens": 2.5}',
            'in.jsonl:3: "max_tokens" must be a whole number, at least 1',
        ),
        ('{"prompt": "hi", "temperature": 2}', 'in.jsonl:3: "temperature" must be a number from 0 to 1'),
        ('{"prompt": "\\ud83d"}', "in.jsonl:3: a \\u escape that is half a character (a lone surrogate)"),
        ('{"custom_id": "c"}', 'in.jsonl:3: "params" must be an object: the Messages request'),
        ('{"custom_id": "", "params": {}}', 'in.jsonl:3: "custom_id" must be a non-empty string'),
        ('{"custom_id": "c", "params": {}, "x": 1}', 'in.jsonl:3: unknown key "x"'),
        (
            '{"custom_id": "c", "params": {"messages": []}}',
            'in.jsonl:3: "params.messages" must be a non-empty array',
        ),
        (
            '{"custom_id": "c", "params": {"messages": [{"role": "bot", "content": "x"}]}}',
            'in.jsonl:3: message 1 of "params.messages" needs a "role" (user or assistant) and "content"',
        ),
        (
            '{"custom_id": "c", "params": {"messages": [{"role": "user", "content": "x"}], "max_tokens": -1}}',
            'in.jsonl:3: "params.max_tokens" must be a whole number, at least 1',
        ),
    ],
)
def test_a_bad_line_is_a_usage_error_naming_the_line(line: str, error: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse(line)
    assert raised.value.message == error
    assert raised.value.status == ExitStatus.USAGE
    assert raised.value.hint


def test_a_line_that_is_not_utf8_names_the_byte() -> None:
    with pytest.raises(
        UsageError, match=r"^in:2: not UTF-8 text \(invalid byte 0xe9 at byte 16 of the line\)$"
    ):
        parse_line(b'{"prompt": "caf\xe9"}', 2, "in")


# -- reading the whole input -------------------------------------------------------------------------------


def test_the_whole_input_is_checked_and_a_repeated_id_names_both_lines() -> None:
    data = b'{"id": "a", "prompt": "1"}\n\n{"prompt": "2"}\n{"id": "a", "prompt": "3"}\n'
    source = BatchInput.open("-", io.BytesIO(data), plain=False)
    with pytest.raises(UsageError, match=r'^stdin:4: the id "a" was already used on line 1$'):
        source.check()


def test_ids_given_and_ids_from_line_numbers_share_one_space() -> None:
    source = BatchInput.open("-", io.BytesIO(b'{"prompt": "1"}\n{"id": "1", "prompt": "2"}\n'), plain=False)
    with pytest.raises(UsageError, match=r'^stdin:2: the id "1" was already used on line 1$'):
        source.check()


def test_an_input_of_blank_lines_has_no_items() -> None:
    with pytest.raises(UsageError, match=r"^no items in stdin: every line is blank$"):
        BatchInput.open(None, io.BytesIO(b"\n  \n"), plain=False).check()


def test_items_are_read_again_lazily_skipping_those_done(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"one\n\ntwo\r\nthree")
    source = BatchInput.open(str(path), io.BytesIO(), plain=True)
    assert source.check() == {"1": 1, "3": 3, "4": 4}
    assert [(i.id, i.prompt) for i in source.items(skip={"3"})] == [("1", "one"), ("4", "three")]
    source.close()


def test_a_pipe_as_input_is_read_twice_through_a_copy(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"a\nb\n")
    os.close(write_end)
    source = BatchInput.open(f"/dev/fd/{read_end}", io.BytesIO(), plain=True)
    assert source.check() == {"1": 1, "2": 2}
    assert [i.prompt for i in source.items()] == ["a", "b"]
    source.close()
    os.close(read_end)


def test_a_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^no such file: "):
        BatchInput.open(str(tmp_path / "nope.jsonl"), io.BytesIO(), plain=False)


# -- request bodies ----------------------------------------------------------------------------------------

DEFAULTS = Parameters(
    model="auto",
    max_tokens=100,
    system="flag system",
    temperature=0.5,
    stop=("END",),
    routing=RoutingOptions(fallback=("openai/gpt-5",), user="u1"),
)


def test_our_form_overrides_the_flags_it_sets() -> None:
    item = Item(id="a", line=1, prompt="hi", settings={"model": "m", "temperature": 0.1})
    assert item_body(item, DEFAULTS) == {
        "model": "m",
        "max_tokens": 100,
        "system": "flag system",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.1,
        "stop_sequences": ["END"],
        "stream": True,
        "extra_body": {"models": ["openai/gpt-5"]},
        "user": "u1",
    }


def test_the_anthropic_form_keeps_what_it_sets_and_takes_the_flags_for_the_rest() -> None:
    params: dict[str, Any] = {
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 7,
        "stream": False,
        "extra_body": {"sort": ["price"], "models": ["mine"]},
        "tools": [{"name": "t"}],
    }
    body = item_body(Item(id="c", line=1, params=params), DEFAULTS)
    assert body == {
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 7,
        "extra_body": {"models": ["mine"], "sort": ["price"]},
        "tools": [{"name": "t"}],
        "model": "auto",
        "system": "flag system",
        "temperature": 0.5,
        "stop_sequences": ["END"],
        "user": "u1",
        "stream": True,
    }


# -- output lines and the summary --------------------------------------------------------------------------


def record(**changes: Any) -> Record:
    """A three-attempt failover that answered "Paris." (the record the renderer's tests use)."""
    return failover_record(
        **{
            "response": message(
                "Paris.", metadata=FAILOVER_METADATA, usage={"input_tokens": 5, "output_tokens": 2}
            ),
            "timings": {"ttft_ms": 840.04, "total_ms": 1000.26},
            "cost": None,  # unpriced unless a test prices it
            **changes,
        }
    )


def test_an_ok_line_has_every_field() -> None:
    line = result_line("q1", record(cost={"usd": 0.0012}))
    assert line == {
        "id": "q1",
        "status": "ok",
        "text": "Paris.",
        "model": "anthropic/claude-opus-4-6",
        "attempts": 3,
        "generation_id": "gen-failover-42",
        "usage": {"input_tokens": 5, "output_tokens": 2},
        "cost_usd": 0.0012,
        "ttft_ms": 840.0,
        "total_ms": 1000.3,
        "error": None,
    }


def test_an_error_line_keeps_no_partial_text_and_says_what_failed() -> None:
    failed = record(
        response=None,
        error={"status": 529, "type": "overloaded_error", "message": "busy", "request_id": "r-1"},
        exit_status=5,
        timings={"ttft_ms": None, "total_ms": 12},
    )
    line = result_line("q2", failed, "the router answered 529 overloaded_error: busy (after 3 tries)")
    assert {k: line[k] for k in ("status", "text", "model", "attempts", "usage", "cost_usd", "ttft_ms")} == {
        "status": "error",
        "text": None,
        "model": None,
        "attempts": None,
        "usage": None,
        "cost_usd": None,
        "ttft_ms": None,
    }
    assert line["error"] == {
        "status": 529,
        "type": "overloaded_error",
        "message": "the router answered 529 overloaded_error: busy (after 3 tries)",
    }


def test_the_summary_counts_tokens_requests_and_cost_never_pricing_the_unpriced_at_zero() -> None:
    tally = Tally(total=3)
    tally.add(record(cost={"usd": 0.25}), tries=1)
    tally.add(record(), tries=3)
    tally.add(record(exit_status=5, error={"type": "api_error"}, response=None), tries=3)
    assert summary_text(tally, 2.0, skipped=2) == (
        "5 items: 2 ok, 1 failed, 2 already ok · 2.00 s · 3.5 requests/s · 10→4 tokens · $0.25 + 1 unpriced"
    )
    assert summary_text(Tally(total=1, ok=1, requests=1, unpriced=1), 0.5).endswith("· unpriced")


def test_failures_that_used_no_tokens_cost_nothing_rather_than_an_unknown_price() -> None:
    tally = Tally(total=2)
    for _ in range(2):
        tally.add(record(exit_status=4, error={"type": "invalid_request_error"}, response=None), tries=1)
    assert summary_text(tally, 1.0) == "2 items: 0 ok, 2 failed · 1.00 s · 2.0 requests/s · 0→0 tokens · -"
    tally.add(record(), tries=1)
    assert summary_text(tally, 1.0).endswith("· 5→2 tokens · unpriced")


# -- the -o file -------------------------------------------------------------------------------------------


def ok(item_id: str) -> str:
    return json.dumps({"id": item_id, "status": "ok", "text": "x"}) + "\n"


def error(item_id: str) -> str:
    return json.dumps({"id": item_id, "status": "error", "error": {"message": "boom"}}) + "\n"


def test_a_new_file_has_nothing_done(tmp_path: Path) -> None:
    assert ResultsFile(tmp_path / "out.jsonl").resume({"a"}) == set()
    assert not (tmp_path / "out.jsonl").exists()


def test_resuming_keeps_ok_lines_drops_the_error_lines_of_items_sent_again_and_cuts_a_torn_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(ok("a") + error("b") + error("gone") + ok("c") + '{"id": "d", "status": "o')
    path.chmod(0o640)
    done = ResultsFile(path).resume({"a", "b", "c", "d"})
    assert done == {"a", "c"}
    assert path.read_text() == ok("a") + error("gone") + ok("c")
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary file left


def test_a_whole_last_line_without_its_newline_is_kept_and_ended(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(ok("a") + ok("b").rstrip("\n"))
    assert ResultsFile(path).resume({"a", "b"}) == {"a", "b"}
    assert path.read_text() == ok("a") + ok("b")


def test_a_file_that_needs_nothing_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(ok("a"))
    before = path.stat().st_ino
    assert ResultsFile(path).resume({"a"}) == {"a"}
    assert path.stat().st_ino == before


def test_a_file_that_is_not_batch_output_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(ok("a") + "my notes\n" + "more\n")
    with pytest.raises(UsageError, match=r"notes\.txt:2: not a line that batch writes"):
        ResultsFile(path).resume({"a"})
    assert path.read_text() == ok("a") + "my notes\n" + "more\n"


def test_lines_are_appended_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(ok("a"))
    results = ResultsFile(path)
    results.open()
    results.append(ok("b"))
    results.append(ok("ü" * 100_000))
    results.close()
    assert path.read_text().splitlines() == [ok("a").strip(), ok("b").strip(), ok("ü" * 100_000).strip()]


def test_a_line_cut_short_by_a_failed_write_is_taken_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.jsonl"
    results = ResultsFile(path)
    results.open()
    results.append(ok("a"))
    real_write = os.write

    def half_then_full(fd: int, data: Any) -> int:
        if len(data) > 10:
            return real_write(fd, bytes(data[:10]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(LocalError, match="No space left on device"):
        results.append(ok("b"))
    monkeypatch.undo()
    results.append(ok("c"))
    results.close()
    assert path.read_text() == ok("a") + ok("c")
