"""The floor for a tool built on the anthropic SDK: the request `ask` sends, made the plainest way.

    INWORLD_BASE_URL=... INWORLD_API_KEY=... python benchmarks/sdk_floor.py [--stream] PROMPT

Non-streamed: `messages.create`; streamed: the SDK's `messages.stream()` helper with its `text_stream`,
printed and flushed as it arrives, as the SDK's own README does.
"""

from __future__ import annotations

import os
import sys

import anthropic

MODEL = "auto"  # the CLI's defaults: the same request
MAX_TOKENS = 4096


def main(argv: list[str]) -> None:
    stream = "--stream" in argv
    prompt = " ".join(arg for arg in argv if arg != "--stream")
    client = anthropic.Anthropic(
        auth_token=os.environ["INWORLD_API_KEY"], base_url=os.environ["INWORLD_BASE_URL"]
    )
    if stream:
        with client.messages.stream(
            model=MODEL, max_tokens=MAX_TOKENS, messages=[{"role": "user", "content": prompt}]
        ) as answer:
            for text in answer.text_stream:
                print(text, end="", flush=True)
        print()
    else:
        message = client.messages.create(
            model=MODEL, max_tokens=MAX_TOKENS, messages=[{"role": "user", "content": prompt}]
        )
        print("".join(block.text for block in message.content if block.type == "text"))


if __name__ == "__main__":
    main(sys.argv[1:])
