"""Summarize a py-spy raw profile (`py-spy record --format raw --threads`): the share of the
main thread's samples by library (leaf frame) and the top functions by own time. Without
`--threads` only the samples whose stack reaches the main module count.

    python -m bench.pyspy_summary profile.raw [--top 15]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter

GROUPS = (
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("aiosqlite / sqlite3", ("aiosqlite/", "sqlite3/")),
    ("asyncpg", ("asyncpg/",)),
    ("botbuilder / msrest", ("botbuilder/", "botframework/", "msrest/", "msal/")),
    (
        "asyncio / uvloop / aiohttp",
        ("asyncio/", "aiohttp/", "uvloop/", "selectors.py", "yarl/", "multidict/"),
    ),
    ("our code", ("bot/", "storage/", "cards/")),
    ("json", ("json/",)),
    ("pydantic / sqlmodel", ("pydantic", "sqlmodel/")),
)
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]*)(?::\d+)?\)$")


def group_of(path: str) -> str:
    for name, needles in GROUPS:
        if name == "our code":
            if path.startswith(needles):
                return name
        elif any(n in path for n in needles):
            return name
    return "other"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    groups: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    with open(args.raw, encoding="utf-8") as raw:
        lines = raw.readlines()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        if frames[0].startswith("thread ("):
            # Recorded with --threads: the main thread's samples, whole or cut short (py-spy
            # often loses a coroutine's callers under uvloop).
            if not frames[0].endswith("MainThread") or len(frames) < 2:
                continue
        elif not frames[0].startswith("_run_module_as_main"):
            continue  # the main thread only: the event loop, where a turn's CPU is spent
        leaf = frames[-1]
        match = FRAME.match(leaf)
        path = match.group("file") if match else leaf
        total += n
        groups[group_of(path)] += n
        own[leaf.replace("/work/main/.venv/lib/python3.11/site-packages/", "")] += n
    out = sys.stdout
    out.write(f"main-thread samples: {total}\n\nby library (own time of the leaf frame):\n")
    for name, n in groups.most_common():
        out.write(f"  {100 * n / total:5.1f} %  {name}\n")
    out.write(f"\ntop {args.top} functions by own time:\n")
    for leaf, n in own.most_common(args.top):
        out.write(f"  {100 * n / total:5.1f} %  {leaf}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
