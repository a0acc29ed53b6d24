"""The dependency rule the package layout stands for, checked on every module's imports (top level and
inside functions alike):

- `cli.py` and `commands/` are the only users of Typer;
- `router/transport.py` is the only user of the SDK and its HTTP library;
- `core/` is pure: it imports only itself and `errors`;
- `output/` and `store/` know nothing of the router, the commands or each other's internals
  (`store` may use `core`, `output` may use `core`);
- `router/` imports no output, store (but its cache), command or environment;
- `worker/` imports no output or command; only its process entry (`__main__`) the environment, and the
  client side (what every `ask` imports) nothing of the worker's own side;
- rich is drawn only in `output/`.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "inworld_cli"


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


@functools.cache
def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def name(path: Path) -> str:
    return ".".join(("inworld_cli", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
        ".__init__"
    )


def uses(path: Path, prefix: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for module in imports_of(path))


def test_every_module_is_under_the_rule() -> None:
    assert len(modules()) > 30  # the walk found the package


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_dependency_rule(path: Path) -> None:
    module = name(path)
    in_ = module.startswith
    if uses(path, "typer"):
        assert module == "inworld_cli.cli" or in_("inworld_cli.commands"), module
    for heavy in ("anthropic", "httpx2", "httpx"):
        if uses(path, heavy):
            assert module == "inworld_cli.router.transport", (module, heavy)
    if uses(path, "rich"):
        assert in_("inworld_cli.output"), module
    if in_("inworld_cli.core"):
        assert all(
            m.startswith(("inworld_cli.core", "inworld_cli.errors")) or not m.startswith("inworld_cli")
            for m in imports_of(path)
        ), module
    forbidden = {
        "inworld_cli.output": ("inworld_cli.router", "inworld_cli.store", "inworld_cli.commands"),
        "inworld_cli.store": ("inworld_cli.router", "inworld_cli.output", "inworld_cli.commands"),
        "inworld_cli.router": ("inworld_cli.output", "inworld_cli.commands"),
    }
    for layer, banned in forbidden.items():
        if in_(layer):
            for other in banned:
                assert not uses(path, other), (module, other)
            assert not uses(path, "inworld_cli.environment"), module
            assert not uses(path, "inworld_cli.cli"), module
    if in_("inworld_cli.worker"):
        for other in ("inworld_cli.output", "inworld_cli.commands", "inworld_cli.cli"):
            assert not uses(path, other), (module, other)
        if module != "inworld_cli.worker.__main__":
            assert not uses(path, "inworld_cli.environment"), module
        if module in (
            "inworld_cli.worker.client",
            "inworld_cli.worker.protocol",
            "inworld_cli.worker.sockets",
        ):
            assert not uses(path, "inworld_cli.worker.server"), module
    if in_("inworld_cli.router"):
        store_used = {m for m in imports_of(path) if m.startswith("inworld_cli.store")}
        assert store_used <= {"inworld_cli.store.cache"}, module


def test_every_package_is_shipped() -> None:
    """A non-editable install gets only the packages pyproject.toml lists: a new one must be listed."""
    import tomllib

    listed = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = {name(path) for path in PACKAGE.rglob("__init__.py")}  # "inworld_cli.worker", …
    assert sorted(listed) == sorted(found)
