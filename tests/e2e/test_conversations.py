"""Conversations: `ask -c` and `ask --conversation ID` against the local router, in process. What each turn
sends (the exact `messages`), which conversation is picked, and what `conversations` and `history
--conversation` show."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Home
from tests.e2e.test_model_completion import complete
from tests.fixtures_catalog import MODELS_PATH
from tests.router_server import RouterServer, error_reply, json_reply, message, sse_events, sse_reply


def sent(router: RouterServer, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = router.messages_requests[index].json
    return body


def records(home: Home, *args: str) -> list[dict[str, Any]]:
    result = home.run("history", "--json", "-n", "50", *args)
    assert result.returncode == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


THINKING = {"type": "thinking", "thinking": "Let me see.", "signature": "sig-1"}


def test_continue_resends_answered_turns_exactly_and_leaves_out_failed_ones(
    routed_home: Home, router: RouterServer
) -> None:
    # 1: answered, with a thinking block: the answer goes back exactly as it came.
    router.enqueue(json_reply(message(content=[THINKING, text("Paris.")])))
    first = routed_home.run(
        "ask", "--no-stream", "-m", "openai/gpt-5", "-s", "Be terse.", "Capital of France?"
    )
    assert (first.returncode, first.stdout) == (0, "Paris.\n"), first.stderr
    # 2: cut mid-stream (partial, exit 5) and 3: rejected (exit 4): both recorded, both left out later.
    router.enqueue(sse_reply(sse_events("Lyon is", chunks=["Lyon", " is"]), cut_after=5))
    assert routed_home.run("ask", "-c", "And its second city?").returncode == 5
    router.enqueue(error_reply(400, "bad request", "invalid_request_error"))
    assert routed_home.run("ask", "-c", "Third?").returncode == 4
    # 4: --no-log: sent with the context, recorded nowhere.
    router.enqueue(sse_reply(sse_events("Marseille.")))
    unlogged = routed_home.run("ask", "-c", "--no-log", "Second city, really?")
    assert (unlogged.returncode, unlogged.stdout) == (0, "Marseille.\n")
    context = [user("Capital of France?"), assistant(THINKING, text("Paris."))]
    assert sent(router)["messages"] == [*context, user("Second city, really?")]
    # 5: answered; 6: what it sends is the whole answered conversation, nothing else.
    router.enqueue(sse_reply(sse_events("Euro.")))
    assert routed_home.run("ask", "-c", "Currency?").returncode == 0
    assert routed_home.run("ask", "-c", "Population?").returncode == 0
    assert sent(router) == {
        "model": "openai/gpt-5",  # kept from the conversation, over the profile's default
        "max_tokens": 4096,
        "system": "Be terse.",
        "messages": [*context, user("Currency?"), assistant(text("Euro.")), user("Population?")],
        "stream": True,
    }
    assert [body["messages"][-1] for body in map(json.loads, (r.body for r in router.messages_requests))] == [
        user("Capital of France?"),
        user("And its second city?"),
        user("Third?"),
        user("Second city, really?"),
        user("Currency?"),
        user("Population?"),
    ]
    # Every recorded turn is in the first turn's conversation; the unlogged one is nowhere.
    kept = records(routed_home)
    assert len(kept) == 5
    assert {r["conversation_id"] for r in kept} == {kept[-1]["id"]}
    assert "Second city, really?" not in json.dumps(kept[0]["request"]["messages"])


def test_model_and_system_are_kept_unless_given_again(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(sse_reply(sse_events("half an emoji \ud83d")))  # a broken escape pair from the stream
    assert routed_home.run("ask", "-m", "openai/gpt-5", "-s", "Be terse.", "one").returncode == 0
    assert routed_home.run("ask", "-c", "-m", "groq/llama", "two").returncode == 0
    assert (sent(router)["model"], sent(router)["system"]) == ("groq/llama", "Be terse.")
    assert sent(router)["messages"][1] == assistant(text("half an emoji \ufffd"))  # as it was shown
    assert (
        routed_home.run("ask", "-c", "-s", "Be kind.", "three", env={"INWORLD_MODEL": "x/y"}).returncode == 0
    )
    assert (sent(router)["model"], sent(router)["system"]) == ("groq/llama", "Be kind.")
    assert len(sent(router)["messages"]) == 5


def test_the_conversation_used_last_beats_the_one_created_last(
    routed_home: Home, router: RouterServer
) -> None:
    router.responder = lambda received: sse_reply(
        sse_events("re: " + received.json["messages"][-1]["content"])
    )
    assert routed_home.run("ask", "a1").returncode == 0
    first = records(routed_home)[0]["conversation_id"]
    assert routed_home.run("ask", "b1").returncode == 0  # created last
    assert routed_home.run("ask", "--conversation", first[:14], "a2").returncode == 0  # used last
    result = routed_home.run("ask", "-c", "a3")
    assert (result.returncode, result.stdout) == (0, "re: a3\n")
    assert sent(router)["messages"] == [
        user("a1"),
        assistant(text("re: a1")),
        user("a2"),
        assistant(text("re: a2")),
        user("a3"),
    ]
    listed = routed_home.run("conversations").stdout.splitlines()
    assert [line.split("\t")[0] for line in listed] == [first, records(routed_home)[2]["id"]]


def test_a_turn_id_names_its_conversation_and_bad_ids_send_nothing(
    routed_home: Home, router: RouterServer
) -> None:
    assert routed_home.run("ask", "x1").returncode == 0
    assert routed_home.run("ask", "-c", "x2").returncode == 0
    assert routed_home.run("ask", "y1").returncode == 0
    x2 = records(routed_home)[1]
    result = routed_home.run("ask", "--conversation", x2["id"], "x3")  # a later turn's id
    assert result.returncode == 0
    assert [m["content"] for m in sent(router)["messages"][::2]] == ["x1", "x2", "x3"]
    before = len(router.messages_requests)
    ambiguous = routed_home.run("ask", "--conversation", x2["id"][:4], "z")
    assert (ambiguous.returncode, ambiguous.stdout) == (2, "")
    first_line, hint = ambiguous.stderr.splitlines()
    assert first_line.startswith(f"error: '{x2['id'][:4]}' matches 2 conversations: ")
    assert "(x1)" in first_line
    assert "(y1)" in first_line
    assert hint.startswith("hint: give more characters of the id")
    unknown = routed_home.run("ask", "--conversation", "ffff", "z")
    assert (unknown.returncode, unknown.stderr) == (
        2,
        "error: no conversation or history record matches 'ffff'\nhint: list them: inworld-router conversations\n",
    )
    both = routed_home.run("ask", "-c", "--conversation", x2["id"], "z")
    assert both.returncode == 2
    assert both.stderr.startswith("error: -c and --conversation cannot be used together\n")
    assert len(router.messages_requests) == before


def test_continue_with_no_history_is_a_usage_error(routed_home: Home, router: RouterServer) -> None:
    result = routed_home.run("ask", "-c", "hi")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        'error: no conversation to continue: history holds none\nhint: start one: inworld-router ask "…"\n'
    )
    assert router.messages_requests == []


def test_conversations_list_show_and_history_filter(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(sse_reply(sse_events("Rayleigh.")))
    assert routed_home.run("ask", "-m", "openai/gpt-5", "Why\tis the sky\nblue?").returncode == 0
    router.enqueue(error_reply(529, "overloaded", "overloaded_error"))
    assert routed_home.run("ask", "-c", "--retries", "0", "More?").returncode == 5
    assert routed_home.run("ask", "other").returncode == 0
    turns = records(routed_home)
    conversation = turns[-1]["id"]
    fields = routed_home.run("conversations").stdout.splitlines()[1].split("\t")
    assert fields == [
        conversation,
        turns[1]["created_at"],
        "1",  # answered turns
        "1",  # failed ones
        "12",
        "3",
        "anthropic/claude-opus-4-6",  # the failed turn's requested model answered nothing
        "Why is the sky blue?",
    ]
    listed = json.loads(routed_home.run("conversations", "--json").stdout)
    assert listed[1] == {
        "id": conversation,
        "title": "Why is the sky blue?",
        "turns": 1,
        "failed": 1,
        "models": ["anthropic/claude-opus-4-6"],
        "input_tokens": 12,
        "output_tokens": 3,
        "created_at": turns[2]["created_at"],
        "last_used_at": turns[1]["created_at"],
    }
    shown = routed_home.run("conversations", "show", conversation[:12]).stdout.splitlines()
    assert shown[0].startswith(f"conversation {conversation} · 1 turn (+1 failed, left out) · ")
    assert shown[2].endswith("· openai/gpt-5 → anthropic/claude-opus-4-6 · ok")
    assert shown[3:8] == ["> Why\tis the sky", "> blue?", "", "Rayleigh.", ""]
    assert shown[8].endswith("· openai/gpt-5 · exit 5 overloaded_error (left out of the context)")
    assert shown[9:] == ["> More?"]
    whole = json.loads(routed_home.run("conversations", "show", conversation, "--json").stdout)
    assert [r["id"] for r in whole["records"]] == [turns[2]["id"], turns[1]["id"]]
    assert whole["title"] == "Why is the sky blue?"
    assert [r["id"] for r in records(routed_home, "--conversation", conversation)] == [
        turns[1]["id"],
        turns[2]["id"],
    ]


def test_a_warning_before_sending_when_the_context_nears_the_models_length(
    routed_home: Home, router: RouterServer
) -> None:
    catalogue = [{"model": "small-1", "provider": "tiny", "spec": {"contextLength": 5000}}]
    router.routes[MODELS_PATH] = json_reply({"models": catalogue})
    assert routed_home.run("models").returncode == 0
    long_prompt = "word " * 3400  # about 4,250 tokens: over 80% of 5,000
    result = routed_home.run("ask", "-m", "tiny/small-1", long_prompt)
    assert (result.returncode, result.stdout) == (0, "Hello!\n")
    assert result.stderr == (
        "warning: this request is about 4,250 tokens, 85% of the 5,000-token context of tiny/small-1 (from the "
        "cached catalogue); earlier turns are never left out to make it fit: start a new conversation, or "
        "continue with a model with a longer context (-m)\n"
    )
    # Then the router's own count of the conversation (12 in, 2 out) plus the new turn: no warning...
    assert routed_home.run("ask", "-c", "short").stderr == ""
    # ... unless the answer asked for cannot fit, however short the prompt.
    assert routed_home.run("ask", "-c", "--max-tokens", "7100", "short").stderr.startswith(
        "warning: this request is about 15 tokens of the 5,000-token context of tiny/small-1 (from the "
        "cached catalogue), which leaves less than --max-tokens (7,100) for the answer; "
    )
    # ... until what is left of the context cannot hold --max-tokens of answer.
    longer = "word " * 2500
    assert routed_home.run("ask", "-c", longer).stderr.startswith(
        "warning: this request is about 3,139 tokens of the 5,000-token context of tiny/small-1 (from the "
        "cached catalogue), which leaves less than --max-tokens (4,096) for the answer; "
    )
    assert routed_home.run("ask", "-q", "-c", longer).stderr == ""
    assert [r.path for r in router.requests if r.path.startswith(MODELS_PATH)] == [MODELS_PATH]
    assert [len(r.json["messages"]) for r in router.messages_requests] == [1, 3, 5, 7, 9]


def test_completion_offers_recent_conversations(routed_home: Home, router: RouterServer) -> None:
    assert routed_home.run("ask", "first").returncode == 0
    assert routed_home.run("ask", "-c", "again").returncode == 0
    assert routed_home.run("ask", "second").returncode == 0
    turns = records(routed_home)
    recent = [turns[0]["conversation_id"], turns[2]["conversation_id"]]
    assert complete(routed_home, "inworld-router ask --conversation ") == recent
    assert complete(routed_home, "inworld-router conversations show 0") == recent
    assert complete(routed_home, f"inworld-router history --conversation {recent[1][:14]}") == recent[1:]
