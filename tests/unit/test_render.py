"""Rendering: the terminal drawing (snapshot at a fixed width, no colour), its plain twin, the summary line
and the history list; untrusted text never reaches the terminal raw."""

from __future__ import annotations

import io
from typing import Any, Literal

import pytest
from rich.console import Console

from inworld_cli.core.pricing import find_price
from inworld_cli.core.record import Record
from inworld_cli.output.listing import history_row
from inworld_cli.output.timeline import print_timeline, summary_line, timeline_text
from tests.router_server import FAILOVER_METADATA, message

META: dict[str, Any] = {
    "attempts": [
        {"model": "openai/gpt-5", "success": False, "time_to_first_token_ms": 1600, "error": "ttft timeout"},
        {"model": "google-ai-studio/gemini-2.5-flash", "success": False, "status": 429},
        {"model": "anthropic/claude-opus-4-6", "success": True, "time_to_first_token_ms": 840},
    ],
    "generation_id": "gen-failover-42",
    "reasoning": "gpt-5 too slow; gemini rate limited; fell back to claude",
}


pytestmark = pytest.mark.usefixtures("utc")  # times and days are local: pinned to UTC


OPUS = {
    "model": "claude-opus-4-6",
    "provider": "anthropic",
    "pricing": {"prompt": 0.000015, "completion": 0.000075},
}
PRICE = find_price([OPUS], "anthropic/claude-opus-4-6")
assert PRICE is not None
PRICED_AT = "2026-11-25T08:00:00.000Z"


def failover_record(**changes: Any) -> Record:
    from inworld_cli.core.pricing import cost_of

    response = message("Gradient descent.\nStep by step.", metadata=META)
    record = Record(
        id="019a9c2b5f20c0ffee42",
        created_at="2026-11-25T09:42:14.123Z",
        profile="default",
        base_url_host="api.inworld.ai",
        request={"model": "auto", "messages": [{"role": "user", "content": "Explain\n  gradient descent"}]},
        response=response,
        error=None,
        timings={"ttft_ms": 2650.5, "total_ms": 3210.0},
        exit_status=0,
        cost=cost_of(response["usage"], PRICE, PRICED_AT),
    )
    for key, value in changes.items():
        setattr(record, key, value)
    return record


def draw(record: Record, *, content: bool = True, color_system: Literal["standard"] | None = None) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=100,
        force_terminal=True,
        color_system=color_system,
        markup=False,
        highlight=False,
    )
    print_timeline(record, console, plain=False, content=content)
    return buffer.getvalue()


DRAWING = [
    "╭─ routing gen-failover-42 ────────────────────────────────────────────────────────────────────────╮",
    "│ id               019a9c2b5f20c0ffee42                                                            │",
    "│ time             2026-11-25 09:42:14                                                             │",
    "│ profile          default                                                                         │",
    "│ router           api.inworld.ai                                                                  │",
    "│ requested model  auto                                                                            │",
    "│ served model     anthropic/claude-opus-4-6                                                       │",
    "│ generation id    gen-failover-42                                                                 │",
    "│ message id       msg-test-1                                                                      │",
    "│ stop reason      end_turn                                                                        │",
    "│ usage            12→7 tokens (in→out)                                                            │",
    "│ cost             $0.00071  (in $0.00018 + out $0.00053)                                          │",
    "│ price            anthropic/claude-opus-4-6 at $15.00 in, $75.00 out per million tokens, as of    │",
    "│                  2026-11-25 08:00                                                                │",
    "│ client ttft      2.65 s                                                                          │",
    "│ client total     3.21 s                                                                          │",
    "│ outcome          ok                                                                              │",
    "│                                                                                                  │",
    "│ attempts         3 attempts (2 failed over)                                                      │",
    "│ chain            openai/gpt-5 ✗ → google-ai-studio/gemini-2.5-flash ✗ →                          │",
    "│                  anthropic/claude-opus-4-6 ✓                                                     │",
    "│  #  model                              outcome       ttft                                        │",
    "│  1  openai/gpt-5                       ✗ failed    1.60 s  ████████████                          │",
    '│     error="ttft timeout"                                                                         │',
    "│  2  google-ai-studio/gemini-2.5-flash  ✗ failed         -                                        │",
    "│     status=429                                                                                   │",
    "│  3  anthropic/claude-opus-4-6          ✓ ok        840 ms  ██████                                │",
    "│                                                                                                  │",
    "│ reasoning        gpt-5 too slow; gemini rate limited; fell back to claude                        │",
    "╰──────────────────────────────────────────────────────────────────────────────────────────────────╯",
    "answer ─────────────────────────────────────────────────────────────────────────────────────────────",
    "Gradient descent.",
    "Step by step.",
]

PLAIN = [
    "id: 019a9c2b5f20c0ffee42",
    "time: 2026-11-25T09:42:14.123Z",
    "profile: default",
    "router: api.inworld.ai",
    "requested_model: auto",
    "served_model: anthropic/claude-opus-4-6",
    "generation_id: gen-failover-42",
    "message_id: msg-test-1",
    "stop_reason: end_turn",
    "usage: input_tokens=12 output_tokens=7",
    "cost: usd=0.000705 input_usd=0.00018 output_usd=0.000525",
    "price: model=anthropic/claude-opus-4-6 usd_per_input_token=0.000015 usd_per_output_token=0.000075 "
    "priced_at=2026-11-25T08:00:00.000Z",
    "client_ttft_ms: 2650.5",
    "client_total_ms: 3210",
    "outcome: ok",
    "attempts: 3",
    "failovers: 2",
    "chain: openai/gpt-5 ✗ → google-ai-studio/gemini-2.5-flash ✗ → anthropic/claude-opus-4-6 ✓",
    'attempt 1: model=openai/gpt-5 outcome=failed ttft_ms=1600 error="ttft timeout"',
    "attempt 2: model=google-ai-studio/gemini-2.5-flash outcome=failed ttft_ms=- status=429",
    "attempt 3: model=anthropic/claude-opus-4-6 outcome=ok ttft_ms=840",
    "reasoning: gpt-5 too slow; gemini rate limited; fell back to claude",
    "answer:",
    "Gradient descent.",
    "Step by step.",
]


def test_terminal_drawing_snapshot() -> None:
    assert draw(failover_record()).splitlines() == DRAWING


def test_plain_text_snapshot() -> None:
    assert timeline_text(failover_record()).splitlines() == PLAIN


def test_plain_text_is_the_same_facts_as_the_drawing() -> None:
    drawing, plain = draw(failover_record()), timeline_text(failover_record())
    for fact in (
        "gen-failover-42",
        "anthropic/claude-opus-4-6",
        "end_turn",
        'error="ttft timeout"',
        "status=429",
    ):
        assert fact in drawing
        assert fact in plain
    assert "\x1b" not in plain


def test_outcomes_read_right_without_colour() -> None:
    drawing = draw(failover_record())
    assert "✗ failed" in drawing
    assert "✓ ok" in drawing
    unknown = failover_record(response=message(metadata={"attempts": [{"model": "m"}]}))
    assert "? unknown" in draw(unknown)
    assert "attempt 1: model=m outcome=unknown ttft_ms=-" in timeline_text(unknown)


def test_bars_are_proportional_to_time() -> None:
    lines = draw(failover_record()).splitlines()
    rows = {line.split()[2]: line for line in lines if line.startswith(("│  1 ", "│  3 "))}
    assert rows["openai/gpt-5"].count("█") == 12  # the longest time fills the bar
    assert rows["anthropic/claude-opus-4-6"].count("█") == 6  # 840 of 1600 ms: about half


def test_no_content_leaves_the_answer_out() -> None:
    assert "Gradient descent" not in draw(failover_record(), content=False)
    assert "answer" not in draw(failover_record(), content=False)
    plain = timeline_text(failover_record(), content=False)
    assert "Gradient descent" not in plain
    assert "answer:" not in plain


def test_a_response_without_metadata_says_so_plainly() -> None:
    record = failover_record(response=message("hi", metadata=None))
    assert "no routing metadata in this response" in draw(record)
    plain = timeline_text(record)
    assert "routing: no routing metadata in this response" in plain
    assert "attempt 1" not in plain
    assert summary_line(record) == (
        "anthropic/claude-opus-4-6 · no routing metadata · ttft 2.65 s · 12→7 tokens · $0.00071"
    )


def test_odd_metadata_shows_everything() -> None:
    odd = {
        "attempts": [
            {
                "model": "openai/gpt-5",
                "success": None,
                "time_to_first_token_ms": "300",
                "region": "us-east",
                "note": None,
            },
            "weird",
        ],
        "generation_id": None,
        "total_duration_ms": 4100,
        "flags": {"a": [1, 2]},
    }
    record = failover_record(response=message("x", model="openai/gpt-5", metadata=odd))
    plain = timeline_text(record).splitlines()
    assert "attempt 1: model=openai/gpt-5 outcome=unknown ttft_ms=300 region=us-east note=null" in plain
    assert "attempt 2: model=- outcome=unknown ttft_ms=- value=weird" in plain
    assert "metadata.total_duration_ms: 4100" in plain
    assert 'metadata.flags: {"a":[1,2]}' in plain
    assert "generation_id: -" in plain
    drawing = draw(record)
    for shown in ("region=us-east", "note=null", "value=weird", "metadata.total_duration_ms", '{"a":[1,2]}'):
        assert shown in drawing


def test_failed_and_partial_records_show_the_error() -> None:
    record = failover_record(
        error={
            "status": 529,
            "type": "overloaded_error",
            "message": "Overloaded, try later",
            "request_id": "req_9",
        },
        exit_status=5,
        partial=True,
    )
    plain = timeline_text(record).splitlines()
    assert "outcome: exit 5 overloaded_error partial" in plain
    assert 'error: status=529 type=overloaded_error message="Overloaded, try later" request_id=req_9' in plain
    assert "exit 5 overloaded_error partial" in draw(record)
    interrupted = failover_record(exit_status=130, partial=True)
    assert "outcome: interrupted partial" in timeline_text(interrupted)


HOSTILE = "evil\x1b]0;pwned\x07/model\x1b[2J"


def test_untrusted_text_is_neutralised_in_both_drawings() -> None:
    meta = {
        "attempts": [{"model": HOSTILE, "success": True, "note\x1b[31m": "x\x9by"}],
        "generation_id": "gen\x1b[H",
        "reasoning": "because\x1b[2J",
    }
    record = failover_record(response=message("answer\x1b]0;title\x07 text", model=HOSTILE, metadata=meta))
    for output in (draw(record, color_system="standard"), timeline_text(record), summary_line(record)):
        for raw in ("\x1b]0;", "\x1b[2J", "\x1b[H", "\x07", "\x9b", "\x1b[31m"):
            assert raw not in output
        assert "evil^[]0;pwned^G/model^[[2J" in output
    coloured = draw(record, color_system="standard")
    assert "\x1b[" in coloured  # colour is on: only rich's own sequences remain
    assert "^[[2J" in timeline_text(record)  # reasoning, sanitised
    assert "answer^[]0;title^G text" in timeline_text(record)


def test_multi_line_values_stay_on_one_plain_line() -> None:
    record = failover_record(
        response=message(
            metadata={"attempts": [{"model": "m", "error": "line one\nline two"}], "reasoning": "a\nb"}
        )
    )
    plain = timeline_text(record, content=False).splitlines()
    assert 'attempt 1: model=m outcome=unknown ttft_ms=- error="line one\\nline two"' in plain
    assert "reasoning: a\\nb" in plain


def test_summary_line() -> None:
    record = failover_record(response=message(metadata=FAILOVER_METADATA), timings={"ttft_ms": 840.0})
    assert summary_line(record) == (
        "anthropic/claude-opus-4-6 · 3 attempts (2 failed over) · ttft 840 ms · 12→7 tokens · $0.00071 · "
        "gen-failover-42"
    )
    record.cost = None
    assert "· 12→7 tokens · unpriced · gen-failover-42" in summary_line(record)
    all_failed = {"attempts": [{"model": "a", "success": False}, {"model": "b", "success": False}]}
    failed = failover_record(response=None, error={"status": 503}, exit_status=5, timings={}, cost=None)
    assert summary_line(failed) == "auto · no routing metadata"  # no tokens: nothing to price
    failed.response = {"metadata": all_failed}
    assert summary_line(failed) == "auto · 2 attempts (all failed)"


def test_the_summary_line_fits_the_terminal_by_leaving_parts_out() -> None:
    record = failover_record(response=message(metadata=FAILOVER_METADATA), timings={"ttft_ms": 840.0})
    full = summary_line(record)
    assert summary_line(record, len(full)) == full
    expected = {
        len(full) - 1: "anthropic/claude-opus-4-6 · 3 attempts (2 failed over) · ttft 840 ms · 12→7 tokens · "
        "$0.00071 · gen-fail…",  # the generation id shortened first: inspect takes its first 8 characters
        len(full)
        - 7: "anthropic/claude-opus-4-6 · 3 attempts (2 failed over) · ttft 840 ms · 12→7 tokens · $0.00071",
        80: "anthropic/claude-opus-4-6 · 3 attempts (2 failed over) · ttft 840 ms · $0.00071",
        70: "anthropic/claude-opus-4-6 · 3 attempts (2 failed over) · $0.00071",
        60: "anthropic/claude-opus-4-6 · 3 attempts (2 failed over)",
        30: "anthropic/claude-opus-4-6",
        10: "anthropic/claude-opus-4-6",  # the model always stays (the terminal wraps it)
    }
    for width, line in expected.items():
        assert summary_line(record, width) == line, width
        assert len(line) <= width or width < 25


def test_plain_print_timeline_writes_the_twin() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=40, force_terminal=False, markup=False, highlight=False)
    print_timeline(failover_record(), console, plain=True, content=False)
    assert buffer.getvalue() == timeline_text(failover_record(), content=False)  # never wrapped at 40


def test_history_rows_for_a_terminal_and_for_a_pipe() -> None:
    ok = failover_record()
    failed = failover_record(
        id="019a9c2b5f21aaaaaaaa",
        created_at="2026-11-25T09:43:00.000Z",
        response=None,
        error={"status": 529, "type": "overloaded_error"},
        timings={"ttft_ms": None},
        exit_status=5,
        cost=None,
    )
    assert history_row(ok, "019a9c2b5f20") == [
        "019a9c2b5f20",
        "2026-11-25 09:42",
        "auto",
        "anthropic/claude-opus-4-6",
        "3 ✗✗✓",
        "2.65 s",
        "12→7",
        "$0.00071",
        "ok",
        "Explain gradient descent",
    ]
    assert history_row(ok, "019a9c2b5f20", plain=True) == [
        "019a9c2b5f20c0ffee42",
        "2026-11-25T09:42:14.123Z",
        "auto",
        "anthropic/claude-opus-4-6",
        "3 ✗✗✓",
        "2650.5",
        "12→7",
        "0.000705",
        "ok",
        "Explain gradient descent",
    ]
    assert history_row(failed, "019a9c2b5f21") == [
        "019a9c2b5f21",
        "2026-11-25 09:43",
        "auto",
        "-",
        "-",
        "-",
        "-",
        "-",  # no tokens: nothing to price
        "exit 5 overloaded_error",
        "Explain gradient descent",
    ]
    ok.cost = None  # tokens without a price (or a record from before prices)
    assert history_row(ok, "x")[7] == "unpriced"


def test_a_narrow_terminal_wraps_but_loses_nothing() -> None:
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=44, force_terminal=True, color_system=None, markup=False, highlight=False
    )
    print_timeline(failover_record(), console, plain=False)
    squeezed = "".join(line.strip("│╭╮╰╯─ ") for line in buffer.getvalue().splitlines()).replace(" ", "")
    for fact in (
        "google-ai-studio/gemini-2.5-flash",
        'error="ttfttimeout"',
        "status=429",
        "gpt-5tooslow;geminiratelimited;fellbacktoclaude",
        "1.60s",
        "840ms",
        "Stepbystep.",
    ):
        assert fact in squeezed


UUID = "019b2c7e-5a1f-7c3d-9e42-6f1a8b0d2c55"


def uuid_record() -> Record:
    metadata = {**META, "generation_id": UUID}
    response = message("Gradient descent.", metadata=metadata)
    response["id"] = f"msg-{UUID}"
    return failover_record(response=response)


@pytest.mark.parametrize("width", range(40, 121))
def test_at_any_width_from_40_every_fact_appears_whole_on_one_line(width: int) -> None:
    """No value is split across lines (rich folds a long word mid-way when its column is too narrow: a
    generation id cut in two cannot be found, copied or searched), and no line is wider than the
    terminal."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=True, color_system=None, markup=False)
    print_timeline(uuid_record(), console, plain=False)
    lines = buffer.getvalue().splitlines()
    assert max(len(line) for line in lines) <= width
    for whole in (
        UUID,
        f"msg-{UUID}",
        "openai/gpt-5",
        "google-ai-studio/gemini-2.5-flash",
        "anthropic/claude-opus-4-6",
        "1.60 s",
        "840 ms",
        "2.65 s",
        "3.21 s",
        "✗ failed",
        "✓ ok",
        'error="ttft timeout"',
        "status=429",
        "12→7",
    ):
        assert any(whole in line for line in lines), (width, whole)
    if width >= 70:  # wide enough to frame it: the title keeps the generation id
        assert lines[0].startswith(f"╭─ routing {UUID} ")


@pytest.mark.parametrize(
    ("width", "line"),
    [
        (60, "anthropic/claude-opus-4-6 · 3 attempts (2 failed over)"),
        (78, "anthropic/claude-opus-4-6 · 3 attempts (2 failed over) · $0.00071"),
        (80, "anthropic/claude-opus-4-6 · 3 attempts (2 failed over) · ttft 2.65 s · $0.00071"),
        (100, "anthropic/claude-opus-4-6 · 3 attempts (2 failed over) · ttft 2.65 s · 12→7 tokens · $0.00071"),
        (130, "anthropic/claude-opus-4-6 · 3 attempts (2 failed over) · ttft 2.65 s · 12→7 tokens · $0.00071 · "
              "019b2c7e…"),
        (140, "anthropic/claude-opus-4-6 · 3 attempts (2 failed over) · ttft 2.65 s · 12→7 tokens · $0.00071 · "
              f"{UUID}"),
    ],
)  # fmt: skip
def test_the_summary_line_fits_the_terminal(width: int, line: str) -> None:
    """A UUID generation id made the line wrap at 100 columns. What gives way, in order: the generation
    id is shortened to its first 8 characters (`inspect` finds a record by them), then it goes, then the
    tokens, the time to first token, the cost and the attempts; the model always stays."""
    assert summary_line(uuid_record(), width=width) == line
