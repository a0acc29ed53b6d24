"""Batch benchmarks: many prompts from one process, against the local router in a process of its own.

    python benchmarks/batch.py            # about 2 minutes
    python benchmarks/batch.py --quick    # small numbers: checks the harness, its verdicts mean nothing

Three measurements, each against the router configured for it (benchmarks/serve.py):

1. Throughput. The router answers every request after 100 ms. `batch -j 16` over 500 prompts, against a
   shell loop of `ask` over the first 20 of them (`while read -r q; do inworld-router ask "$q"; done`),
   compared per item. Target: the batch at least 20x faster per item.
2. A rate-limited router: at most 20 requests in any second (a sliding window), 429 with `retry-after: 1`
   above it, answers at once. `batch --rate 20` over 500 prompts: the rate the router accepted (from its
   first accepted request to its last) and the share of requests it refused. Targets: at least 90% of the
   limit, at most 2% refused. Then the same batch without --rate: every item must still end ok, each
   prompt accepted exactly once (no duplicates, no losses).
3. Memory. Peak RSS of a 10,000-item batch against a 100-item one (router answering at once). Target:
   within 1.5x.

Every command runs in a throwaway HOME logged in to the router, with history on, as a user's would. The
table goes to stdout and to benchmarks/results/batch.md; progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as harness  # noqa: E402  (the main harness: its environment, login and table helpers)


@dataclass
class Measured:
    seconds: float
    rss_mib: float
    stdout: bytes


@contextmanager
def router(*options: str) -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, str(HERE / "serve.py"), *options],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    try:
        yield url
    finally:
        server.stdin.close()
        server.wait(timeout=10)


def stats(url: str, reset: bool = False) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(f"{url}/bench/{'reset' if reset else 'stats'}", timeout=10) as response:  # noqa: S310
        return json.load(response)  # type: ignore[no-any-return]


def run(argv: list[str], env: dict[str, str]) -> Measured:
    """One command: wall time, peak RSS (wait4), stdout; a failure ends the benchmark."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(
                f"{' '.join(argv[:3])}… exit {code}: {err.read()[-400:].decode(errors='replace')}"
            )
        return Measured(seconds, usage.ru_maxrss / 1024, out.read())


@contextmanager
def home(url: str) -> Iterator[tuple[dict[str, str], Path]]:
    with tempfile.TemporaryDirectory(prefix="inworld-batch-bench-") as tmp:
        env = harness.isolated_env(Path(tmp), url)
        login = subprocess.run(
            [harness.cli(), "auth", "login", "--with-key"], input=harness.KEY.encode(), env=env, check=False
        )
        if login.returncode != 0:
            raise SystemExit("auth login failed")
        yield env, Path(tmp)


def prompts(path: Path, count: int) -> Path:
    path.write_text("".join(f"question {n}\n" for n in range(1, count + 1)))
    return path


def batch(env: dict[str, str], work: Path, count: int, *options: str) -> tuple[Measured, list[dict]]:  # type: ignore[type-arg]
    source, out = prompts(work / f"in-{count}.txt", count), work / f"out-{count}.jsonl"
    out.unlink(missing_ok=True)
    measured = run([harness.cli(), "batch", str(source), "--lines", "-o", str(out), *options], env)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    ok = sorted(int(line["id"]) for line in lines if line["status"] == "ok")
    if ok != list(range(1, count + 1)) or len(lines) != count:
        raise SystemExit(f"batch of {count} ({' '.join(options)}): {len(ok)} ok lines of {len(lines)}")
    return measured, lines


# -- the three measurements ----------------------------------------------------------------------------


def throughput(items: int, loop_items: int) -> list[list[str]]:
    with router("--delay", "0.1") as url, home(url) as (env, work):
        harness.progress(f"throughput: batch -j 16 of {items} items")
        measured, _ = batch(env, work, items, "-j", "16")
        per_batch = measured.seconds / items
        harness.progress(f"throughput: a shell loop of ask over {loop_items} items")
        subset = prompts(work / "subset.txt", loop_items)
        loop = 'while IFS= read -r q; do inworld-router ask "$q" </dev/null >/dev/null || exit 1; done < "$1"'
        looped = run(["bash", "-c", loop, "loop", str(subset)], env)
        per_loop = looped.seconds / loop_items
        ratio = per_loop / per_batch
        return [
            [
                f"`batch -j 16`, {items} items, router answering after 100 ms",
                f"{measured.seconds:.2f} s ({per_batch * 1000:.1f} ms/item)",
                f"shell loop of `ask`, {loop_items} items: {looped.seconds:.2f} s ({per_loop * 1000:.0f} ms/item)",
                f"{ratio:.0f}x faster per item",
                "≥ 20x",
                verdict(ratio >= 20),
                f"{measured.rss_mib:.1f} MiB",
            ]
        ]


def rate_limited(items: int) -> list[list[str]]:
    rows = []
    with router("--limit", "20", "--delay", "0") as url, home(url) as (env, work):
        for label, options in (("`batch --rate 20`", ["--rate", "20"]), ("`batch` (no --rate, -j 8)", [])):
            stats(url, reset=True)
            harness.progress(f"rate limit: {label} of {items} items")
            measured, _ = batch(env, work, items, *options)
            seen = stats(url)
            accepted = seen["accepted"]
            duplicates = sum(count - 1 for count in accepted.values())
            missing = items - len(accepted)
            span = seen["last"] - seen["first"]
            rate = (sum(accepted.values()) - 1) / span if span > 0 else float("inf")
            refused = seen["refused"] / (sum(accepted.values()) + seen["refused"])
            sent = f"{seen['refused']} refused of {sum(accepted.values()) + seen['refused']} requests ({refused:.1%})"
            row = [
                f"{label}, {items} items, router limited to 20 requests/s",
                f"{measured.seconds:.2f} s; {rate:.1f} requests/s accepted ({rate / 20:.0%} of the limit)",
                sent,
                f"{duplicates} duplicates, {missing} lost",
            ]
            if options:
                row += [
                    "≥ 90% of the limit, ≤ 2% refused",
                    verdict(rate >= 18 and refused <= 0.02 and not duplicates),
                ]
            else:
                row += ["every item ok, none twice", verdict(not duplicates and not missing)]
            rows.append([*row, f"{measured.rss_mib:.1f} MiB"])
    return rows


def memory(small: int, large: int) -> list[list[str]]:
    with router("--delay", "0") as url, home(url) as (env, work):
        harness.progress(f"memory: batch of {small} items")
        few, _ = batch(env, work, small, "-j", "16")
        harness.progress(f"memory: batch of {large} items")
        many, _ = batch(env, work, large, "-j", "16")
        ratio = many.rss_mib / few.rss_mib
        return [
            [
                f"peak RSS, `batch -j 16` of {large:,} items",
                f"{many.rss_mib:.1f} MiB ({many.seconds:.1f} s, {large / many.seconds:.0f} items/s)",
                f"{small} items: {few.rss_mib:.1f} MiB",
                f"{ratio:.2f}x",
                "≤ 1.5x",
                verdict(ratio <= 1.5),
                f"{many.rss_mib:.1f} MiB",
            ]
        ]


def verdict(passed: bool) -> str:
    return "pass" if passed else "**FAIL**"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small numbers, to check the harness")
    parser.add_argument("--only", choices=("throughput", "rate", "memory"), help="one measurement alone")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "batch.md")
    args = parser.parse_args(argv)
    sizes = (40, 3, 40, 20, 200) if args.quick else (500, 20, 500, 100, 10_000)
    load_before = os.getloadavg()[0]
    rows = []
    if args.only in (None, "throughput"):
        rows += throughput(sizes[0], sizes[1])
    if args.only in (None, "rate"):
        rows += rate_limited(sizes[2])
    if args.only in (None, "memory"):
        rows += memory(sizes[3], sizes[4])
    header = ["measurement", "result", "against", "ratio / check", "target", "verdict", "peak RSS"]
    text = harness.markdown(header, rows)
    text += (
        f"\n\n- load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end; "
        f"{os.cpu_count()} cores; Python {sys.version.split()[0]}"
        + (
            "\n- --quick: small numbers, to check the harness; its verdicts mean nothing"
            if args.quick
            else ""
        )
        + "\n"
    )
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    return 1 if "**FAIL**" in text and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
