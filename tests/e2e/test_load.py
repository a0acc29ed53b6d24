"""A script-style burst: many `ask` at once against the local router, as a shell loop with `&` would start
them. Every answer reaches its own stdout, every request its own history record, and `--no-log` ones none.

They all go through one warm worker (55 SDK imports would take a minute of this machine's two cores): the
worker runs the 55 exchanges at once, and every one of them must have been served by it.
"""

from __future__ import annotations

import json
import subprocess

from tests.conftest import Home, cli_path
from tests.router_server import Received, Reply, RouterServer, json_reply, message, sse_events, sse_reply
from tests.workers import ProcessWorker

LOGGED = 50
UNLOGGED = 5


def answer_to(prompt: str) -> str:
    return f"Answer to «{prompt}»: {prompt[::-1]}\n"


def answering(request: Received) -> Reply:
    """The answer derived from the prompt, streamed in small pieces with pauses so that the answers overlap."""
    prompt = request.json["messages"][0]["content"]
    text = answer_to(prompt)
    if not request.json["stream"]:
        return json_reply(message(text))
    return sse_reply(sse_events(chunks=[text[i : i + 7] for i in range(0, len(text), 7)]), event_delay=0.01)


def test_a_burst_of_parallel_asks_loses_nothing(
    routed_home: Home, router: RouterServer, shared_worker: ProcessWorker
) -> None:
    router.responder = answering
    served = shared_worker.served
    prompts = [f"question {n:02d} ✓" for n in range(LOGGED + UNLOGGED)]

    def options(n: int) -> list[str]:
        return [*(["--no-stream"] if n % 3 == 2 else []), *(["--no-log"] if n >= LOGGED else [])]

    procs = [
        subprocess.Popen(
            [cli_path(), "ask", *options(n), prompt],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**routed_home.env, **shared_worker.env},
        )
        for n, prompt in enumerate(prompts)
    ]
    for prompt, proc in zip(prompts, procs, strict=True):
        stdout, stderr = proc.communicate(timeout=180)
        assert (proc.returncode, stdout.decode(), stderr) == (0, answer_to(prompt), b""), prompt
    assert len(router.messages_requests) == len(prompts)
    assert shared_worker.served == served + len(prompts)

    result = routed_home.run("history", "--json", "-n", "100")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    recorded = {record["request"]["messages"][0]["content"]: record for record in records}
    assert sorted(recorded) == prompts[:LOGGED]  # each once, and no --no-log one
    for prompt, record in recorded.items():
        assert record["exit_status"] == 0
        assert record["response"]["content"] == [{"type": "text", "text": answer_to(prompt)}]
    assert len({record["id"] for record in records}) == LOGGED
