"""Generate the shell completion scripts in completions/ from the app itself.

    python scripts/gen_completions.py           # rewrite completions/ from the installed app
    python scripts/gen_completions.py --check   # exit 1, naming each stale or missing file

Each script is what the app prints for Typer's completion protocol (`_INWORLD_ROUTER_COMPLETE=source_<shell>`),
so it always matches the app's own name and protocol. The scripts only call the program back at TAB time;
the candidates themselves always come from the app, so the files change only when the protocol does.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROG = "inworld-router"
COMPLETE_VAR = "_INWORLD_ROUTER_COMPLETE"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO / "completions"


@dataclass(frozen=True)
class Shell:
    name: str
    filename: str


SHELLS = (
    Shell("bash", f"{PROG}.bash"),
    Shell("zsh", f"_{PROG}"),
    Shell("fish", f"{PROG}.fish"),
)

HEADER = (
    f"# {PROG} completion for {{shell}}: generated from the app by scripts/gen_completions.py, do not edit.\n"
    "# Install: see the Completions section of the README.\n"
)

# Typer's zsh script registers itself with `compdef`, which only works when sourced from .zshrc. Installed in
# $fpath (the usual place for a `_name` file), compinit makes the whole file the body of the function `_name`
# and calls it on every TAB: then it must complete at once instead of registering.
ZSH_DISPATCH = """\
if [[ ${{funcstack[1]-}} == _{prog} ]]; then
  # called by compinit as the function autoloaded from $fpath: complete now
  {function} "$@"
else
  # sourced, e.g. from .zshrc after compinit
  compdef {function} {prog}
fi"""


def typer_script(shell: str) -> str:
    """The script the app prints for its completion protocol, without surrounding blank lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INWORLD_", "ANTHROPIC_", "_TYPER_"))}
    env[COMPLETE_VAR] = f"source_{shell}"
    result = subprocess.run(
        [sys.executable, "-m", "inworld_cli"], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit(f"the app printed no {shell} completion script:\n{result.stderr}")
    return result.stdout.strip()


def _zsh_for_fpath_and_source(script: str) -> str:
    lines = script.splitlines()
    last = lines[-1].split()
    if not lines[0].startswith("#compdef ") or last[:1] != ["compdef"] or len(last) != 3:
        raise SystemExit(f"unexpected zsh script from Typer (update {Path(__file__).name}):\n{script}")
    dispatch = ZSH_DISPATCH.format(function=last[1], prog=last[2])
    return "\n".join([lines[0], *lines[1:-1], dispatch])


def render(shell: Shell) -> str:
    script = typer_script(shell.name)
    header = HEADER.format(shell=shell.name)
    if shell.name == "zsh":
        script = _zsh_for_fpath_and_source(script)
        first, _, rest = script.partition("\n")  # `#compdef` must stay the first line for compinit
        return f"{first}\n{header}{rest}\n"
    return f"{header}\n{script}\n"


def render_all() -> dict[str, str]:
    """Every completion file's expected content, by file name."""
    return {shell.filename: render(shell) for shell in SHELLS}


def stale_files(directory: Path, expected: dict[str, str]) -> list[str]:
    stale = []
    for filename, content in expected.items():
        path = directory / filename
        if not path.is_file():
            stale.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != content:
            stale.append(f"{path}: stale")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is stale")
    parser.add_argument(
        "--dir", type=Path, default=DEFAULT_DIR, help="where the scripts live (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    expected = render_all()
    if args.check:
        stale = stale_files(args.dir, expected)
        for line in stale:
            print(f"{line} (regenerate: python scripts/gen_completions.py)", file=sys.stderr)
        return 1 if stale else 0
    args.dir.mkdir(parents=True, exist_ok=True)
    for filename, content in expected.items():
        (args.dir / filename).write_text(content, encoding="utf-8")
        print(f"wrote {args.dir / filename}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
