"""Presenters for a history record: the routing timeline (rich drawing and its plain-text twin) and the
one-line summary `ask` prints. No IO beyond the console handed in; rich is imported only to draw.

Every string that came from the network (models, reasoning, error messages, extra values, the answer) is
passed through `sanitize` here, whatever the destination: a report read on a terminal must not be able to
move the cursor or retitle the window. `--json` is the way to get the bytes as received.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from inworld_cli.core.trace import Attempt, RoutingTrace, as_millis, trace_of_response
from inworld_cli.output.console import sanitize

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from inworld_cli.core.record import Record

NO_METADATA = "no routing metadata in this response"
MISSING = "-"
MARKS = {True: "✓", False: "✗", None: "?"}
_STYLES = {True: "green", False: "red", None: "yellow"}
BAR_WIDTH = 12
_IN_OUT = ("input_tokens", "output_tokens")
_BARE = re.compile(r"[\w./:@+\-]+")


# -- small formatters ---------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """Untrusted text on one line: sanitised, line breaks shown as \\n so each fact stays one line."""
    return sanitize(text.replace("\r\n", "\n").replace("\n", "\\n"))


def format_value(value: object) -> str:
    """A value for `key=value`: bare when it is a plain word, JSON otherwise (quoted, escaped, one line)."""
    if isinstance(value, str) and _BARE.fullmatch(value):
        return sanitize(value)
    return _one_line(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


def format_ms_plain(value: float | None) -> str:
    if value is None:
        return MISSING
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def format_duration(value: float | None) -> str:
    """840 ms, 1.53 s, 12.4 s: for people."""
    if value is None:
        return MISSING
    if abs(value) < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.2f} s" if abs(value) < 10_000 else f"{value / 1000:.1f} s"


def local_time(created_at: str) -> str:
    """The record's UTC time in the local zone, to the second; the raw text when it does not parse."""
    try:
        return datetime.fromisoformat(created_at).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError, OSError):
        return _one_line(created_at) or MISSING


def _nonempty_string(value: object) -> str | None:
    """A record's field, which may hold anything (records are JSON from disk or the router), as one line."""
    return _one_line(value) if isinstance(value, str) and value else None


# -- the facts, shared by both drawings ---------------------------------------------------------------


@dataclass
class Fact:
    key: str  # the plain-text key, stable for grep
    plain: str  # its plain-text value
    pretty: str | None = None  # a friendlier value for the terminal drawing (default: plain)
    alarm: bool = False  # drawn in red on a terminal
    label: str | None = None  # the terminal's label (default: the key with spaces)


def _usage(response: dict[str, Any]) -> dict[str, Any]:
    usage = response.get("usage")
    return usage if isinstance(usage, dict) else {}


def tokens_text(response: dict[str, Any] | None) -> str | None:
    """12→7: input and output tokens, when the response reported them."""
    usage = _usage(response or {})
    tokens_in, tokens_out = usage.get("input_tokens"), usage.get("output_tokens")
    if tokens_in is None and tokens_out is None:
        return None
    return f"{format_value(tokens_in) if tokens_in is not None else '?'}→" + (
        format_value(tokens_out) if tokens_out is not None else "?"
    )


def error_text(error: dict[str, Any] | None) -> str | None:
    if not error:
        return None
    parts = [
        f"{_one_line(str(key))}={format_value(value)}" for key, value in error.items() if value is not None
    ]
    return " ".join(parts) or None


def outcome_text(record: Record) -> str:
    """ok / interrupted / exit 5 overloaded_error, with `partial` when only part of the answer arrived."""
    if record.exit_status == 0 and not record.error:
        words = ["ok"]
    elif record.exit_status == 130:
        words = ["interrupted"]
    else:
        words = [f"exit {record.exit_status}"]
        error = record.error or {}
        kind = error.get("type") or error.get("status")
        if kind is not None:
            words.append(format_value(kind))
    if record.partial:
        words.append("partial")
    return " ".join(words)


def _facts(record: Record, trace: RoutingTrace) -> list[Fact]:
    response = record.response or {}
    facts: list[Fact] = []
    if record.id:
        facts.append(Fact("id", _one_line(record.id)))
    if record.created_at:
        facts.append(Fact("time", _one_line(record.created_at), local_time(record.created_at)))
    for key, value in (("profile", record.profile), ("router", record.base_url_host)):
        if value:
            facts.append(Fact(key, _one_line(value)))
    facts.append(Fact("requested_model", _nonempty_string(record.requested_model) or MISSING))
    facts.append(Fact("served_model", _nonempty_string(record.served_model) or MISSING))
    facts.append(Fact("generation_id", _one_line(trace.generation_id) if trace.generation_id else MISSING))
    message_id = _nonempty_string(response.get("id"))
    if message_id:
        facts.append(Fact("message_id", message_id))
    stop = response.get("stop_reason")
    facts.append(Fact("stop_reason", format_value(stop) if stop is not None else MISSING))
    usage = _usage(response)
    pairs = [f"{_one_line(str(k))}={format_value(v)}" for k, v in usage.items()]
    others = [f"{_one_line(str(k))}={format_value(v)}" for k, v in usage.items() if k not in _IN_OUT]
    tokens = tokens_text(response)
    pretty = " ".join([f"{tokens} tokens (in→out)", *others]) if tokens else None
    facts.append(Fact("usage", " ".join(pairs) or MISSING, pretty))
    if record.id:  # a history record: its price as of the request (a bare response has none)
        facts += _cost_facts(record)
    ttft, total = as_millis(record.timings.get("ttft_ms")), as_millis(record.timings.get("total_ms"))
    facts.append(Fact("client_ttft_ms", format_ms_plain(ttft), format_duration(ttft), label="client ttft"))
    facts.append(
        Fact("client_total_ms", format_ms_plain(total), format_duration(total), label="client total")
    )
    if record.id or record.error or record.exit_status:
        facts.append(Fact("outcome", outcome_text(record), alarm=outcome_text(record) != "ok"))
    error = error_text(record.error)
    if error:
        facts.append(Fact("error", error, alarm=True))
    return facts


_PRICE_KEYS = ("model", "usd_per_input_token", "usd_per_output_token", "priced_at")


def _cost_facts(record: Record) -> list[Fact]:
    """cost: what the request cost (`unpriced`, or `-` without tokens); price: the catalogue entry and
    the prices it was charged at, as of when the catalogue was fetched."""
    from inworld_cli.core.catalogue import decimal_of
    from inworld_cli.core.pricing import recorded_usd
    from inworld_cli.output.catalogue import per_million
    from inworld_cli.output.cost import cost_cell, exact, usd

    cost = record.cost or {}
    amount = recorded_usd(cost)
    if amount is None:
        return [Fact("cost", cost_cell(None, record.usage))]

    def plain(value: object) -> str:
        number = decimal_of(value) if isinstance(value, int | float) else None
        return exact(number) if number is not None else format_value(value)

    def dollars(key: str) -> str:
        number = decimal_of(cost.get(key))
        return usd(number) if number is not None else "?"

    def pairs(keys: list[str]) -> str:
        return " ".join(f"{_one_line(str(key))}={plain(cost[key])}" for key in keys)

    facts = [
        Fact(
            "cost",
            pairs([key for key in cost if key not in _PRICE_KEYS]),
            f"{usd(amount)}  (in {dollars('input_usd')} + out {dollars('output_usd')})",
        )
    ]
    priced = [key for key in _PRICE_KEYS if key in cost]
    if priced:
        pretty = _one_line(str(cost.get("model", "?")))
        pretty += f" at ${per_million(cost.get('usd_per_input_token'))} in, "
        pretty += f"${per_million(cost.get('usd_per_output_token'))} out per million tokens"
        if isinstance(cost.get("priced_at"), str):
            pretty += f", as of {local_time(cost['priced_at'])[:16]}"
        facts.append(Fact("price", pairs(priced), pretty))
    return facts


def _attempt_details(attempt: Attempt) -> str:
    return " ".join(f"{_one_line(str(key))}={format_value(value)}" for key, value in attempt.extra.items())


def _attempt_line(attempt: Attempt) -> str:
    fields = [
        f"model={format_value(attempt.model) if attempt.model is not None else MISSING}",
        f"outcome={attempt.outcome}",
        f"ttft_ms={format_ms_plain(attempt.ttft_ms)}",
    ]
    details = _attempt_details(attempt)
    return f"attempt {attempt.position}: " + " ".join(fields) + (f" {details}" if details else "")


def chain_text(trace: RoutingTrace) -> str:
    """openai/gpt-5 ✗ → google-ai-studio/gemini-2.5-flash ✗ → anthropic/claude-opus-4-6 ✓"""
    return " → ".join(
        f"{_one_line(a.model) if a.model is not None else '?'} {MARKS[a.success]}" for a in trace.attempts
    )


def attempts_text(trace: RoutingTrace) -> str:
    """3 attempts (2 failed over)."""
    count = len(trace.attempts)
    text = f"{count} attempt{'s' if count != 1 else ''}"
    if count > 1 and all(a.success is False for a in trace.attempts):
        return text + " (all failed)"
    return text + (f" ({trace.failovers} failed over)" if trace.failovers else "")


def _metadata_extra(trace: RoutingTrace) -> list[tuple[str, str]]:
    return [(f"metadata.{_one_line(str(key))}", format_value(value)) for key, value in trace.extra.items()]


def answer_text(response: dict[str, Any] | None) -> str:
    """The answer's text blocks joined; other blocks (thinking, tool use) named in brackets. Sanitised."""
    content = (response or {}).get("content")
    if isinstance(content, str):
        return sanitize(content)
    parts: list[str] = []
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif isinstance(block, dict):
            name = f": {block['name']}" if isinstance(block.get("name"), str) else ""
            parts.append(f"\n[{block.get('type', 'unknown')} block{name}]\n")
    return sanitize("".join(parts).strip("\n"))


# -- the plain twin -----------------------------------------------------------------------------------


def timeline_text(record: Record, *, content: bool = True) -> str:
    """Stable `key: value` lines, one attempt per line, no ANSI: for pipes, grep and `ask -r` to a file."""
    trace = trace_of_response(record.response)
    lines = [f"{fact.key}: {fact.plain}" for fact in _facts(record, trace)]
    if not trace.present:
        lines.append(f"routing: {NO_METADATA}")
    else:
        lines.append(f"attempts: {len(trace.attempts)}")
        lines.append(f"failovers: {trace.failovers}")
        if trace.attempts:
            lines.append(f"chain: {chain_text(trace)}")
        lines.extend(_attempt_line(attempt) for attempt in trace.attempts)
        lines.append(f"reasoning: {_one_line(trace.reasoning) if trace.reasoning is not None else MISSING}")
        lines.extend(f"{key}: {value}" for key, value in _metadata_extra(trace))
    if content:
        answer = answer_text(record.response)
        lines.append("answer:" if answer else f"answer: {MISSING}")
        if answer:
            lines.append(answer)
    return "\n".join(lines) + "\n"


# -- the terminal drawing -----------------------------------------------------------------------------

LABEL_WIDTH = 15
GAP = 2
# Narrower than this, the drawing leaves values no room: the plain text, which the terminal wraps without
# losing anything, is shown instead.
NARROW_WIDTH = 40


def _longest_word(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for word in text.split()), default=0)


def _bar(value: float | None, longest: float) -> str:
    if value is None or longest <= 0 or value < 0:
        return ""
    cells = round(value / longest * BAR_WIDTH)
    return "█" * cells if cells else "▏"


@dataclass(frozen=True)
class _Room:
    """The width a drawing has, and how a label and its value share it: side by side when every word of
    the value fits in the value column; otherwise the label on a line of its own and the value below it.
    No word is ever broken: a fact is shown whole or not drawn at all."""

    inner: int  # columns inside the panel

    def rows(self, rows: list[tuple[str, RenderableType]]) -> list[RenderableType]:
        from rich.cells import cell_len
        from rich.padding import Padding
        from rich.table import Table
        from rich.text import Text

        out: list[RenderableType] = []
        value_width = self.inner - LABEL_WIDTH - GAP
        for label, value in rows:
            words = _longest_word(value.plain) if isinstance(value, Text) else 0
            if cell_len(label) <= LABEL_WIDTH and words <= value_width:
                grid = Table.grid(padding=(0, GAP))
                grid.add_column(style="dim", width=LABEL_WIDTH, no_wrap=True)
                grid.add_column(overflow="fold")
                grid.add_row(label, value)
                out.append(grid)
            else:
                out.append(Text(label, style="dim", overflow="fold"))
                out.append(Padding(value, (0, 0, 0, 2 if words <= self.inner - 2 else 0)))
        return out

    def attempts(self, trace: RoutingTrace) -> list[RenderableType]:
        """One line per attempt in aligned columns (number, model, outcome, ttft, a bar when there is
        room), or two lines each when that does not fit; the attempt's other fields on a line below."""
        from rich.cells import cell_len
        from rich.padding import Padding
        from rich.text import Text

        models = [_one_line(a.model) if a.model is not None else "?" for a in trace.attempts]
        width = max(cell_len("model"), *(cell_len(model) for model in models))
        longest = max((a.ttft_ms for a in trace.attempts if a.ttft_ms is not None), default=0.0)
        one_line = 4 + width + 2 + 9 + 2 + 7 <= self.inner
        bars = one_line and 4 + width + 2 + 9 + 2 + 7 + 2 + BAR_WIDTH <= self.inner
        if one_line:
            lines: list[RenderableType] = [
                Text(f"{'#':>2}  {'model'.ljust(width)}  {'outcome':<9}  {'ttft':>7}", style="dim")
            ]
        else:
            lines = [
                Text(f"{'#':>2}  model", style="dim"),
                Text(f"    {'outcome':<9}  {'ttft':>7}", style="dim"),
            ]
        for attempt, model in zip(trace.attempts, models, strict=True):
            style = _STYLES[attempt.success]
            line = Text(f"{attempt.position:>2}  ")
            line.append(model, style="bold")
            line.append(" " * (width - cell_len(model) + 2) if one_line else "\n    ")
            line.append(f"{MARKS[attempt.success]} {attempt.outcome}".ljust(9), style=style)
            line.append(f"  {format_duration(attempt.ttft_ms):>7}")
            if bars:
                line.append("  ")
                line.append(_bar(attempt.ttft_ms, longest), style=style)
            lines.append(line)
            details = _attempt_details(attempt)
            if details:
                lines.append(Padding(Text(details, style="dim", overflow="fold"), (0, 0, 0, 4)))
        return lines


def _chain(trace: RoutingTrace) -> Text:
    from rich.text import Text

    chain = Text()
    for index, attempt in enumerate(trace.attempts):
        if index:
            chain.append(" → ", style="dim")
        chain.append(_one_line(attempt.model) if attempt.model is not None else "?", style="bold")
        chain.append(f" {MARKS[attempt.success]}", style=_STYLES[attempt.success])
    return chain


def _drawing(record: Record, content: bool, width: int) -> list[RenderableType] | None:
    """The drawing for a terminal `width` columns wide; None when some word of it (an id, a model name)
    would not fit even on a line of its own."""
    from rich.cells import cell_len
    from rich.console import Group
    from rich.panel import Panel
    from rich.rule import Rule
    from rich.text import Text

    trace = trace_of_response(record.response)
    facts = _facts(record, trace)
    values = [fact.pretty if fact.pretty is not None else fact.plain for fact in facts]
    words = [
        *values,
        chain_text(trace),
        trace.reasoning or "",
        *(value for _, value in _metadata_extra(trace)),
    ]
    longest = max(_longest_word(text) for text in words)
    if longest > width:
        return None
    panel = longest <= width - 4
    room = _Room(width - 4 if panel else width)
    rows: list[tuple[str, RenderableType]] = [
        (fact.label or fact.key.replace("_", " "), Text(value, style="red" if fact.alarm else ""))
        for fact, value in zip(facts, values, strict=True)
    ]
    parts: list[RenderableType] = [*room.rows(rows), Text()]
    if not trace.present:
        parts.append(Text(NO_METADATA, style="yellow"))
    else:
        routing: list[tuple[str, RenderableType]] = [("attempts", Text(attempts_text(trace), style="bold"))]
        if trace.attempts:
            routing.append(("chain", _chain(trace)))
        parts += room.rows(routing)
        if trace.attempts:
            parts += room.attempts(trace)
        notes: list[tuple[str, RenderableType]] = []
        if trace.reasoning is not None:
            notes.append(("reasoning", Text(sanitize(trace.reasoning), style="italic")))
        notes += [(key, Text(value)) for key, value in _metadata_extra(trace)]
        if notes:
            parts += [Text(), *room.rows(notes)]
    title = Text("routing")
    if trace.generation_id and cell_len(f"routing {_one_line(trace.generation_id)}") <= width - 6:
        title.append(" " + _one_line(trace.generation_id), style="bold")
    body = Group(*parts)
    drawing: list[RenderableType] = (
        [Panel(body, title=title, title_align="left", expand=False)]
        if panel
        else [Rule(title, align="left"), body]
    )
    if content:
        answer = answer_text(record.response)
        drawing += [Rule("answer", align="left", style="dim"), Text(answer if answer else MISSING)]
    return drawing


def print_timeline(record: Record, console: Console, *, plain: bool, content: bool = True) -> None:
    """The full `inspect` view on `console`; plain=True (or a terminal too narrow to show every fact
    whole) prints the stable greppable text instead."""
    drawing = None if plain or console.width < NARROW_WIDTH else _drawing(record, content, console.width)
    if drawing is None:
        console.out(timeline_text(record, content=content), end="", highlight=False)
        return
    for renderable in drawing:
        console.print(renderable, markup=False, highlight=False, emoji=False)


# -- the summary line ---------------------------------------------------------------------------------

# What the summary line gives up, first to last, when the terminal is too narrow for all of it.
_SUMMARY_DROP_ORDER = ("generation id", "tokens", "ttft", "cost", "attempts")


def summary_line(record: Record, width: int | None = None) -> str:
    """anthropic/claude-opus-4-6 · 3 attempts (2 failed over) · ttft 840 ms · 12→7 tokens · $0.0013 ·
    gen-failover-42; within `width` cells by leaving parts out (the served model always stays). A long
    generation id is first shortened to its first 8 characters (`inspect` finds a record by them)."""
    from inworld_cli.output.cost import NO_TOKENS, cost_cell

    trace = trace_of_response(record.response)
    parts: dict[str, str] = {
        "model": _nonempty_string(record.served_model) or _nonempty_string(record.requested_model) or "?"
    }
    if not trace.present:
        parts["attempts"] = "no routing metadata"
    elif trace.attempts:
        parts["attempts"] = attempts_text(trace)
    ttft = as_millis(record.timings.get("ttft_ms"))
    if ttft is not None:
        parts["ttft"] = f"ttft {format_duration(ttft)}"
    tokens = tokens_text(record.response)
    if tokens:
        parts["tokens"] = f"{tokens} tokens"
    cost = cost_cell(record.cost, record.usage)
    if cost != NO_TOKENS:
        parts["cost"] = cost
    if trace.generation_id:
        parts["generation id"] = _one_line(trace.generation_id)
    line = " · ".join(parts.values())
    for name in _SUMMARY_DROP_ORDER:
        if width is None or _cells(line) <= width:
            break
        generation_id = parts.get(name, "")
        if name == "generation id" and len(generation_id) > 9 and not generation_id.endswith("…"):
            parts[name] = generation_id[:8] + "…"  # first shortened: `inspect` finds a record by 8 characters
            line = " · ".join(parts.values())
            if _cells(line) <= width:
                break
        parts.pop(name, None)
        line = " · ".join(parts.values())
    return line


def _cells(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)
