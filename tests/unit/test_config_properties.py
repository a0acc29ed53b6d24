"""Config parsing takes hand-edited files: whatever is in them, the result is settings or a UsageError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from inworld_cli.errors import UsageError
from inworld_cli.store.settings import PROFILE_KEYS, Overrides, Paths, resolve

scalars = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
)
profiles = st.dictionaries(
    st.sampled_from([*PROFILE_KEYS, "unknown"]),
    st.one_of(scalars, st.dictionaries(st.text(max_size=5), scalars, max_size=2)),
    max_size=6,
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "default_profile": st.one_of(st.just("default"), scalars),
        "history": scalars,
        "profiles": st.dictionaries(st.sampled_from(["default", "work"]), profiles, max_size=2),
    },
)


def resolve_text(text: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths(Path(tmp) / "c", Path(tmp) / "s", Path(tmp) / "k")
        paths.config_dir.mkdir()
        paths.config_file.write_bytes(text)
        message = None
        try:
            resolve(Overrides(), {}, paths)
        except UsageError as exc:
            message = exc.message
        if message is not None:
            assert str(paths.config_file) in message
            assert "\n" not in message


@settings(max_examples=200, deadline=None)
@given(documents)
def test_any_document_resolves_or_is_a_usage_error(document: dict[str, object]) -> None:
    resolve_text(tomli_w.dumps(document).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_resolve_or_are_a_usage_error(data: bytes) -> None:
    resolve_text(data)
