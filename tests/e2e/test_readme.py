"""The README's examples stay true: every ```console block of README.md is run as a user would run it, and
what it prints is compared with what the README shows, so a stale example fails CI.

How a block is read and run:
- Lines starting with `$ ` are commands; the lines after each, up to the next `$ `, are what the user sees
  (stdout and stderr together, as on their terminal). A block is a session: its commands run in order, in
  one home, against one stand-in router (`tests/router_server.py`).
- Each command runs through `bash -c` (pipes, `jq`, `cut`, `2>file`, `echo $?` work as written; `$?` is
  the previous command's status), with the installed `inworld-router` first on PATH, TZ=UTC, in a fresh home
  laid out like the README's: HOME=<tmp>/home/me with the XDG dirs under it, the working directory a clone
  (`~/inworld-router`, holding the repository's `examples/` and `completions/`).
- A command ending in `<TAB>` is typed into an interactive bash that loaded the shipped completion script,
  followed by TAB TAB, on a terminal: what bash lists is compared.
- In what is compared, the <tmp> prefix is removed (paths read /home/me/...), the stand-in's URL reads
  https://api.inworld.ai, and lines are right-stripped. A block whose commands need a tool that is not
  installed (jq, say) is skipped, naming it.

Adding a scenario (every block needs one: a block without one fails, naming the key to add). SCENARIOS is
keyed by the block's first command, exactly as written after `$ ` (add a `# comment` to tell apart two
blocks that start alike). A Scenario says:
- setup: a function of the Session that prepares what the example needs: the router's replies
  (`session.router.enqueue(answer(...))`, `serve_catalog(session.router)`), history
  (`session.remember(past_request(...))`), cached catalogue or routers (`session.cache(...)`);
- terminal=True: the block's commands run on a 100-column pseudo-terminal and what the terminal shows is
  compared (drawings, tables, `ask`'s spinner and summary line); else they run with pipes;
- base_url: "stand-in" (the default), "refused" (a port nothing listens on) or "default" (nothing set, as
  for `auth status` showing the default; only commands that send nothing may run there, so that nothing
  can reach the real router);
- logged_in=False for a home without a key; env: variables the commands use (`$KEY`);
- measured: the words followed by a duration the client measures itself, compared as a pattern;
- requests: how many requests the stand-in must have received (0 where the README says nothing is sent);
- shown_url: how the stand-in's URL reads in the README, if not https://api.inworld.ai.
For example:

    "inworld-router stats": Scenario(setup=lambda s: s.remember(past_request(ID, "auto")), terminal=True),
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from inworld_cli.core.record import Record, utc_timestamp
from inworld_cli.store.cache import Cache
from inworld_cli.store.history import HistoryStore
from tests.conftest import TEST_KEY, InstantClock, cli_path, closed_port, isolated_env, run_in_process
from tests.fixtures_catalog import MODELS, MODELS_PATH, ROUTERS, serve_catalog
from tests.router_server import (
    FAILOVER_METADATA,
    Received,
    Reply,
    RouterServer,
    error_reply,
    json_reply,
    message,
    sse_events,
    sse_reply,
)
from tests.terminal import run_program_on_terminal
from tests.workers import ProcessWorker

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
README_URL = "https://api.inworld.ai"
COLUMNS, ROWS = 100, 50  # the README's width
TAB = "<TAB>"
DURATION = r"\d+(?:\.\d+)? (?:ms|s|min|h|days)\b"  # as the client writes times and ages
# Not tools to look for on PATH: the shell's own words.
SHELL_WORDS = {
    "echo",
    "printf",
    "cd",
    "export",
    "test",
    "[",
    "true",
    "false",
    "exit",
    "read",
    "set",
    "(",
    "while",
    "do",
    "done",
    "for",
    "in",
    "if",
    "then",
    "else",
    "fi",
}
# What may run with the default base URL (the real router's): commands that never send a request.
OFFLINE_COMMANDS = {"auth", "inspect", "history", "conversations", "stats"}


# -- the README's examples ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    command: str  # "" for lines before the block's first command (a mistake the test reports)
    shown: tuple[str, ...]


@dataclass(frozen=True)
class Example:
    line: int  # of the opening fence in README.md
    steps: tuple[Step, ...]

    @property
    def key(self) -> str:
        return self.steps[0].command if self.steps else ""


def console_examples(markdown: str) -> list[Example]:
    examples: list[Example] = []
    start: int | None = None
    steps: list[Step] = []
    for number, line in enumerate(markdown.splitlines(), 1):
        if start is None:
            if line.strip() == "```console":
                start, steps = number, []
        elif line.strip() == "```":
            examples.append(Example(start, tuple(steps)))
            start = None
        elif line.startswith("$ "):
            steps.append(Step(line[2:], ()))
        elif steps:
            steps[-1] = Step(steps[-1].command, (*steps[-1].shown, line))
        else:
            steps.append(Step("", (line,)))
    return examples


EXAMPLES = console_examples(README.read_text(encoding="utf-8"))


# -- a session: one block's home, router and commands ---------------------------------------------------------


@dataclass
class Session:
    root: Path  # the <tmp> prefix, left out of what is compared
    env: dict[str, str]
    router: RouterServer
    base_url: str  # the base URL the commands use

    @property
    def home(self) -> Path:
        return Path(self.env["HOME"])

    @property
    def workdir(self) -> Path:
        return self.home / "inworld-router"

    def remember(self, *records: Record) -> None:
        """History records, as earlier requests left them."""
        store = HistoryStore(Path(self.env["XDG_STATE_HOME"]) / "inworld-router" / "history.sqlite3")
        for record in records:
            store.add(record)

    def cache(self, kind: str, data: Any, *, age_s: float = 0.0) -> None:
        """A cached answer of the catalogue or routers endpoints ("models", "routers"), `age_s` old."""
        cache_dir = Path(self.env["XDG_CACHE_HOME"]) / "inworld-router"
        Cache(cache_dir, self.base_url, TEST_KEY).save(kind, data, time.time() - age_s)


@dataclass(frozen=True)
class Scenario:
    setup: Callable[[Session], None] = lambda session: None
    terminal: bool = False
    base_url: Literal["stand-in", "refused", "default"] = "stand-in"
    logged_in: bool = True
    env: Mapping[str, str] = field(default_factory=dict)
    measured: tuple[str, ...] = ()
    requests: int | None = None  # how many requests the stand-in received by the end (None: not checked)
    shown_url: str = README_URL  # how the base URL reads in the README
    # A fresh catalogue in the cache, as after any `models` (prices for the costs `ask` records, and no
    # fetch of it alongside the requests, whose arrival would race with the answer).
    catalogue_cached: bool = True


def session_env(root: Path) -> dict[str, str]:
    home = root / "home" / "me"
    env = isolated_env(root)
    for name in ("BASH_ENV", "ENV", "CDPATH", "INPUTRC"):  # nothing of the machine's shell set-up
        env.pop(name, None)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        TZ="UTC",
        PATH=f"{Path(cli_path()).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    workdir = home / "inworld-router"
    workdir.mkdir(parents=True)
    for shipped in ("examples", "completions"):
        (workdir / shipped).symlink_to(REPO / shipped)
    return env


def start_session(
    root: Path, scenario: Scenario, router: RouterServer, worker: Mapping[str, str] | None = None
) -> Session:
    """`worker`: the variables that point at a warm worker (the examples' output is the same with one;
    each `ask` then does not pay the SDK's import)."""
    env = {**session_env(root), **(worker or {}), **scenario.env}
    base_url = {
        "stand-in": router.url,
        "refused": f"http://127.0.0.1:{closed_port()}",
        "default": README_URL,
    }[scenario.base_url]
    if scenario.base_url != "default":
        env["INWORLD_BASE_URL"] = base_url
    if scenario.logged_in:
        login = run_in_process(
            ["auth", "login", "--with-key", "--no-verify"], env, TEST_KEY.encode(), InstantClock()
        )
        assert login.returncode == 0, login.stderr
    session = Session(root, env, router, base_url)
    if scenario.logged_in and scenario.catalogue_cached:
        session.cache("models", README_MODELS)
    scenario.setup(session)
    return session


# -- running a command as a user would ----------------------------------------------------------------------


def run_piped(session: Session, script: str) -> tuple[int, list[str]]:
    result = subprocess.run(
        ["bash", "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one pipe for both, as one terminal shows both, in the order written
        env=session.env,
        cwd=session.workdir,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stdout.decode("utf-8", "replace").splitlines()


def run_on_pty(session: Session, script: str) -> tuple[int, list[str]]:
    run = run_program_on_terminal(
        ["bash", "-c", script], session.env, cwd=str(session.workdir), columns=COLUMNS, rows=ROWS
    )
    return run.status, run.out.lines


def run_tab(session: Session, command: str) -> list[str]:
    """Type `command` (without its <TAB>) into an interactive bash with the shipped completion script, press
    TAB twice, and return what bash listed (the lines between the typed line and the next prompt)."""
    typed = command.removesuffix(TAB)
    typed_line = f"$ {typed}".rstrip()  # as the terminal shows it
    rcfile = session.root / "bashrc"
    rcfile.write_text(f"PS1='$ '\nsource {shlex.quote(str(REPO / 'completions' / 'inworld-router.bash'))}\n")
    inputrc = session.root / "inputrc"
    inputrc.write_text("set enable-bracketed-paste off\nset bell-style none\n")
    run = run_program_on_terminal(
        ["bash", "--noprofile", "--rcfile", str(rcfile), "-i"],
        {**session.env, "INPUTRC": str(inputrc), "HISTFILE": os.devnull},
        cwd=str(session.workdir),
        # At the prompt: the line and TAB TAB; at the next prompt (after the listing): clear it, exit.
        typing=[(b"$ ", typed.encode() + b"\t\t"), (b"$ ", b"\x15exit\n")],
        columns=COLUMNS,
        rows=ROWS,
    )
    lines = run.out.lines
    assert typed_line in lines, f"bash never showed the typed line: {lines}"
    listed = lines[lines.index(typed_line) + 1 :]
    prompts = [index for index, line in enumerate(listed) if line.startswith("$ ")]
    return listed[: prompts[0]] if prompts else listed


def words_of(command: str) -> list[list[str]]:
    """The simple commands of a shell line, each as its words (`a | b; c` gives three)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    simple: list[list[str]] = [[]]
    for token in lexer:
        if token in ("|", "||", "&&", ";", "&"):
            simple.append([])
        else:
            simple[-1].append(token)
    # `NAME=value cmd`: the command is the first word that is not an assignment.
    assignment = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
    commands = [list(itertools.dropwhile(assignment.match, words)) for words in simple]
    return [words for words in commands if words]


def missing_tools(command: str) -> list[str]:
    if command.endswith(TAB):
        return []
    return [
        words[0]
        for words in words_of(command)
        if words[0] not in SHELL_WORDS and words[0] != "inworld-router" and shutil.which(words[0]) is None
    ]


def sends_nothing(command: str) -> bool:
    if command.endswith(TAB):
        return True  # completion reads caches and history only
    for words in words_of(command):
        if words[0] == "inworld-router":
            subcommand = next((word for word in words[1:] if not word.startswith("-")), None)
            if subcommand not in OFFLINE_COMMANDS:
                return False
    return True


# -- comparing --------------------------------------------------------------------------------------------


def normalised(lines: list[str] | tuple[str, ...], session: Session, scenario: Scenario) -> list[str]:
    result = []
    host = session.base_url.split("://", 1)[-1]
    for line in lines:
        line = line.replace(str(session.root), "").replace(session.base_url, scenario.shown_url)
        line = line.replace(host, scenario.shown_url.split("://", 1)[-1]).rstrip()
        for words in scenario.measured:
            line = re.sub(f"({words}){DURATION}", r"\1<measured>", line)
        result.append(line)
    while result and not result[-1]:
        result.pop()
    return result


def mismatch(example: Example, step: Step, shown: list[str], printed: list[str]) -> str:
    diff = "\n".join(
        difflib.unified_diff(shown, printed, "README.md shows", "the command prints", lineterm="")
    )
    return f"README.md:{example.line}: `$ {step.command}`\n{diff}"


# -- scenarios --------------------------------------------------------------------------------------------


def answer(text: str, *, metadata: dict[str, Any] = FAILOVER_METADATA, output_tokens: int = 7) -> Reply:
    """A streamed answer with the router's metadata and the given usage (12 tokens in)."""
    events = sse_events(text, metadata=metadata)
    for name, data in events:
        if name == "message_delta":
            data["usage"] = {"output_tokens": output_tokens}
    return sse_reply(events)


def past_request(
    record_id: str,
    requested: str,
    *,
    response: dict[str, Any] | None = None,
    ttft_ms: float | None = None,
    exit_status: int = 0,
    error: dict[str, Any] | None = None,
    partial: bool = False,
) -> Record:
    """A history record as an earlier `ask` left it, made at the time its id says."""
    made_at = int(record_id[:12], 16) / 1000
    return Record(
        id=record_id,
        created_at=utc_timestamp(made_at),
        profile="default",
        base_url_host="api.inworld.ai",
        request={"model": requested, "max_tokens": 4096, "messages": [{"role": "user", "content": "hi"}]},
        response=response,
        error=error,
        timings={"ttft_ms": ttft_ms, "total_ms": None if ttft_ms is None else ttft_ms + 600},
        exit_status=exit_status,
        partial=partial,
    )


def served(
    model: str, *attempts: tuple[str, bool, int | None], usage: tuple[int, int] | None
) -> dict[str, Any]:
    """A response served by `model` after `attempts` (model, success, the router's ttft in ms)."""
    metadata = {
        "attempts": [{"model": m, "success": ok, "time_to_first_token_ms": ttft} for m, ok, ttft in attempts],
        "generation_id": f"gen-{model.rpartition('/')[2]}",
    }
    response = message("…", model=model, metadata=metadata)
    if usage is None:
        del response["usage"]
    else:
        response["usage"] = {"input_tokens": usage[0], "output_tokens": usage[1]}
    return response


def mixture_of_experts(session: Session) -> None:
    # retry-after-ms makes the wait exact: a real process's own backoff has jitter.
    overloaded = error_reply(529, "Overloaded", "overloaded_error", headers={"retry-after-ms": "400"})
    text = "A mixture of experts routes each token to a few specialised sub-networks.\n\n"
    session.router.enqueue(
        overloaded, answer(text + "- cheaper per token\n- more capacity overall", output_tokens=25)
    )


def cut_report(session: Session) -> None:
    events = sse_events(chunks=["The report ", "says"])
    started = [name for name, _ in events].index("content_block_delta")
    session.router.enqueue(sse_reply(events, cut_after=started + 2, headers={"request-id": "req-123"}))


def an_earlier_failover(session: Session) -> None:
    session.remember(
        past_request("01a2121cdc6ba7e0b3c4", "auto", response=message("Paris.", metadata=FAILOVER_METADATA))
    )


def a_conversation(session: Session) -> None:
    """Two answered turns of one conversation, as `ask` and `ask -c` leave them."""
    first = past_request("01a2121cdc6ba7e0b3c4", "auto", response=message("2."))
    first.request["messages"] = [{"role": "user", "content": "Name a prime number."}]
    second = past_request("01a2122085eb87091425", "auto", response=message("3."))
    second.request["messages"] = [
        *first.request["messages"],
        {"role": "assistant", "content": [{"type": "text", "text": "2."}]},
        {"role": "user", "content": "And another?"},
    ]
    first.conversation_id = second.conversation_id = first.id
    session.remember(first, second)


# The twelve requests of the cost, history and stats examples: (id, requested, attempts as (model, ok, the
# router's ttft ms), the client's ttft and total ms, exit status, prompt). Each answer used 12 tokens in
# and 21 out, and is priced at the catalogue's price of its served model (gpt-5 has none: unpriced).
OPUS, HAIKU = "anthropic/claude-opus-4-6", "anthropic/claude-haiku-4-5"
GEMINI, GPT = "google-ai-studio/gemini-2.5-flash", "openai/gpt-5"
TWELVE = [
    ("01a233dcf8a1c0de0001", "auto", [(GEMINI, True, 510)], 565, 1053, 0, "Summarise this paragraph"),
    ("01a233dd02b0c1d2e011", OPUS, [(OPUS, True, 1150)], 1205, 1690, 0, "Review this function"),
    ("01a233dd0c2f77a1b002", HAIKU, [(HAIKU, True, 330)], 369, 855, 0, "Translate to French: good morning"),
    ("01a233dd16e4a9c3d003", "auto", [(GPT, False, None), (GEMINI, True, 700)], 766, 1253, 0, "Name three rivers"),
    ("01a233dd2b4278627fe8", "auto", [(GPT, False, None), (GEMINI, False, None), (OPUS, True, 930)], 966, 1453,
     0, "Write a commit message for this diff"),
    ("01a233dd38f8028014e1", GPT, [], None, 4012, 5, "Explain mixture of experts"),
    ("01a233dd4f1bb2c0e006", GPT, [(GPT, True, 1120)], 1166, 1653, 0, "What is a monad?"),
    ("01a233dd5a0cd3e1f007", HAIKU, [(HAIKU, True, 290)], 316, 803, 0, "Yes or no: is 91 prime?"),
    ("01a233dd680d9821910e", OPUS, [(OPUS, True, 1010)], 1065, 1551, 0, "Outline a talk on caching"),
    ("01a233dd7413f5a6b009", "auto", [(GEMINI, True, 520)], 565, 1052, 0, "Define idempotent"),
    ("01a233dd7eb506b0f834", "auto", [(GEMINI, False, None), (OPUS, True, 1600)], 1665.1, 2153, 0,
     "Draft a reply to this email"),
    ("01a233dd8ed9c7ba187a", HAIKU, [(HAIKU, True, 380)], 416.4, 911, 0, "One word for happy"),
]  # fmt: skip


def twelve_requests(session: Session) -> None:
    from inworld_cli.core.pricing import cost_of, find_price

    records = []
    for record_id, requested, attempts, ttft, total, status, prompt in TWELVE:
        made_at = utc_timestamp(int(record_id[:12], 16) / 1000)
        served_by = attempts[-1][0] if attempts and attempts[-1][1] else None
        response = None
        if served_by is not None:
            metadata = {
                "attempts": [
                    {"model": m, "success": ok, "time_to_first_token_ms": t} for m, ok, t in attempts
                ],
                "generation_id": f"gen-{record_id[-6:]}",
            }
            response = message(
                "…", model=served_by, metadata=metadata, usage={"input_tokens": 12, "output_tokens": 21}
            )
        error = None
        if status:
            error = {
                "status": 529,
                "type": "overloaded_error",
                "message": "Overloaded",
                "request_id": "req-7",
            }
        record = Record(
            id=record_id,
            created_at=made_at,
            profile="default",
            base_url_host="api.inworld.ai",
            request={
                "model": requested,
                "max_tokens": 4096,
                "messages": [{"role": "user", "content": prompt}],
                "stream": True,
            },
            response=response,
            error=error,
            timings={"ttft_ms": ttft, "total_ms": total},
            exit_status=status,
            conversation_id=record_id,
        )
        price = find_price(README_MODELS, served_by) if served_by else None
        if price is not None and response is not None:
            record.cost = cost_of(response["usage"], price, made_at)
        records.append(record)
    session.remember(*records)


def a_staging_profile(session: Session) -> None:
    config = Path(session.env["XDG_CONFIG_HOME"]) / "inworld-router" / "config.toml"
    config.write_text('[profiles.staging]\nbase_url = "https://staging.example.com"\n')


def checks_the_key(session: Session) -> None:
    """The catalogue answers the key the home logged in with, and refuses any other."""

    def models(received: Received) -> Reply:
        if received.headers.get("authorization") == f"Basic {TEST_KEY}":
            return json_reply({"models": README_MODELS})
        return error_reply(401, "invalid API key", "authentication_error")

    session.router.gatekeepers[MODELS_PATH] = models


README_MODELS = [model for model in MODELS if model["model"] != "mystery-model"]


def catalogue(session: Session) -> None:
    serve_catalog(session.router)
    session.router.routes[MODELS_PATH] = json_reply({"models": README_MODELS})


SCENARIOS: dict[str, Scenario] = {
    'inworld-router ask -t 2 "hi"': Scenario(requests=0),
    'inworld-router ask "What is a mixture of experts?"': Scenario(
        setup=mixture_of_experts,
        terminal=True,
        # The summary's ttft is the client's own, from sending to the first token: it cannot be fixed.
        measured=("ttft ",),
        requests=2,
    ),
    'inworld-router ask -r "Capital of France?" 2>routing.txt': Scenario(
        setup=lambda session: session.router.enqueue(answer("Paris.")), requests=1
    ),
    'inworld-router ask "Summarise the report"': Scenario(setup=cut_report, requests=1),
    # The key is checked against the catalogue before it is saved.
    'printf %s "$KEY" | inworld-router auth login --with-key': Scenario(
        setup=checks_the_key, logged_in=False, env={"KEY": TEST_KEY}, requests=1
    ),
    "inworld-router auth status": Scenario(setup=a_staging_profile, base_url="default"),
    "inworld-router auth status --check | tail -1": Scenario(setup=checks_the_key, requests=3),
    "inworld-router inspect examples/failover-response.json": Scenario(
        terminal=True, base_url="default", logged_in=False
    ),
    "inworld-router inspect examples/failover-response.json --no-content | cat": Scenario(
        setup=an_earlier_failover, base_url="default", logged_in=False
    ),
    'inworld-router ask --sort cheapest "hi"': Scenario(requests=0),
    "inworld-router ask --fallback openai/gpt-5 --fallback anthropic/claude-haiku-4-5 --sort price "
    '--ttft-timeout 1s --dry-run "hi"': Scenario(requests=0),
    # The later commands are answered from the cache the first one filled, and a terminal is told its age:
    # the time between two commands, which depends on the machine.
    "inworld-router models": Scenario(
        setup=catalogue, terminal=True, measured=("cached ",), requests=1, catalogue_cached=False
    ),
    # The list in its two pages, then the one router.
    "inworld-router routers": Scenario(setup=catalogue, terminal=True, requests=3),
    "inworld-router models   # offline": Scenario(
        catalogue_cached=False,
        setup=lambda session: session.cache("models", README_MODELS, age_s=3 * 24 * 3600),
        terminal=True,
        base_url="refused",
    ),
    f"inworld-router ask -m inworld/{TAB}": Scenario(
        setup=lambda session: session.cache("routers", ROUTERS), base_url="default"
    ),
    f"inworld-router a{TAB}": Scenario(base_url="default"),
    "inworld-router auth token": Scenario(logged_in=False, requests=0),
    # Conversations and attachments: the stand-in's default answer is "Hello!".
    'inworld-router ask "Name a prime number."': Scenario(requests=2),
    "inworld-router conversations -n 1 | awk -F'\\t' '{print $3, $7, $8}'": Scenario(
        setup=a_conversation, base_url="default"
    ),
    'inworld-router ask -a missing.pdf "Summarise"': Scenario(requests=0),
    r"printf '\x89PNG\r\n\x1a\n' > tiny.png": Scenario(requests=0),
    # The first loop's ask reads the rest of the list as its prompt: one request, then two with --no-stdin.
    r"""printf 'one\ntwo\n' | while read -r q; do inworld-router ask "$q"; done""": Scenario(requests=3),
    # Other tools: the key is masked on a terminal; exec replaces itself with the command.
    "inworld-router env": Scenario(terminal=True, requests=0),
    "inworld-router env --shell fish --model openai/gpt-5 | grep -v AUTH_TOKEN": Scenario(requests=0),
    "inworld-router exec -m inworld/support-router -- sh -c 'echo \"$ANTHROPIC_BASE_URL $ANTHROPIC_MODEL\"; exit 3'": (
        Scenario(requests=0)
    ),
    'inworld-router --profile wrok ask "hi"': Scenario(setup=a_staging_profile, requests=0),
    # Cost, history and stats, on the twelve requests above (the history table: a 100-column terminal).
    "inworld-router history -n 6": Scenario(setup=twelve_requests, terminal=True, base_url="default"),
    "inworld-router history -n 2 | cat": Scenario(setup=twelve_requests, base_url="default"),
    "inworld-router inspect 01a233dd2b --no-content | grep -E '^(cost|price):'": Scenario(
        setup=twelve_requests, base_url="default"
    ),
    "inworld-router history --failed": Scenario(setup=twelve_requests, base_url="default"),
    "inworld-router history rm 01a233dd38": Scenario(setup=twelve_requests, base_url="default"),
    "inworld-router stats": Scenario(setup=twelve_requests, terminal=True, base_url="default"),
    "inworld-router stats | cut -f1-8": Scenario(setup=twelve_requests, base_url="default"),
    # Commands of many requests, answered "Hello!" by the stand-in: a repeated id sends nothing.
    """printf '%s\\n' '{"id": "a", "prompt": "one"}' '{"id": "a", "prompt": "two"}' | inworld-router batch""": (
        Scenario(requests=0)
    ),
    """printf '%s\\n' '{"id": "sky", "prompt": "Why is the sky blue?"}' '{"id": "sea", "prompt": "Why is the sea """
    """salty?", "model": "openai/gpt-5"}' | inworld-router batch --ordered | jq -c '{id, status, text}'""": (
        Scenario(requests=4)
    ),
    'inworld-router compare -m openai/gpt-5 -m anthropic/claude-opus-4-6 "Say hi" | jq -r '
    """'"\\(.id): \\(.status) \\(.text)"'""": Scenario(requests=2),
}


# -- the tests ----------------------------------------------------------------------------------------------


def test_the_readme_has_examples_with_distinct_first_commands() -> None:
    keys = [example.key for example in EXAMPLES]
    assert len(keys) > 10
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    assert not repeated, f"console blocks start with the same command (add a `# comment` to one): {repeated}"


def test_every_scenario_has_its_example() -> None:
    stale = sorted(set(SCENARIOS) - {example.key for example in EXAMPLES})
    assert not stale, f"scenarios for console blocks that are no longer in README.md: {stale}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.key for example in EXAMPLES])
def test_readme_example(example: Example, tmp_path: Path, shared_worker: ProcessWorker) -> None:
    assert example.key, f"README.md:{example.line}: a console block must start with a `$ ` command line"
    scenario = SCENARIOS.get(example.key)
    if scenario is None:
        pytest.fail(
            f"README.md:{example.line}: no scenario for this console block; add one to SCENARIOS in "
            f"{Path(__file__).relative_to(REPO)} keyed {example.key!r} (see the module's docstring)"
        )
    for step in example.steps:
        if missing := missing_tools(step.command):
            pytest.skip(f"README.md:{example.line}: needs {', '.join(missing)}, which is not installed")
        if scenario.base_url == "default":
            assert sends_nothing(step.command), (
                f"README.md:{example.line}: `{step.command}` may send a request: give its scenario a stand-in "
                "router (base_url='stand-in' or 'refused'), never the real one"
            )
    router = RouterServer()
    try:
        session = start_session(tmp_path, scenario, router, shared_worker.env)
        failures = []
        status = 0
        for step in example.steps:
            if step.command.endswith(TAB):
                printed = run_tab(session, step.command)
            else:
                run = run_on_pty if scenario.terminal else run_piped
                status, printed = run(session, f"(exit {status}); {step.command}")
            shown = normalised(step.shown, session, scenario)
            printed = normalised(printed, session, scenario)
            if printed != shown:
                failures.append(mismatch(example, step, shown, printed))
        assert not failures, "\n\n".join(failures)
        assert not router.replies, (
            f"the scenario enqueued replies no command asked for: {list(router.replies)}"
        )
        if scenario.requests is not None:
            assert len(router.requests) == scenario.requests, [(r.method, r.path) for r in router.requests]
    finally:
        router.stop()
