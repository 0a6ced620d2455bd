"""Instructions a turn of one in-process case, counted by valgrind's callgrind: a figure that
the machine's load does not move, for comparing two commits (turns/s and CPU time moved by a
third between runs here; this, by about 1 % between two runs of the same commit, and 0.3 % in
the two pairs measured since `bench.inprocess` draws its ids from a seeded generator).

    python -m bench.instructions "new ticket" [--bot-root DIR] [--turns 50,250] [--in-flight 1]

It runs `python -m bench.inprocess CASE` under callgrind twice, with the two turn counts and
the same hash seed, from the bot's checkout (its own bench.inprocess and .venv, as `python -m
bench --bot-root` does), and divides the difference of the two totals by the difference of the
turns: start-up, migrations and warm-up cancel out. Each run takes one to two minutes. With
`DATABASE_URL` naming a PostgreSQL database, it counts the bot's side only: the server is a
process of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench.inprocess import CASES

ROOT = Path(__file__).resolve().parent.parent
_COLLECTED = re.compile(r"Collected : (\d+)")


def collected(root: Path, case: str, turns: int, in_flight: int = 1) -> int:
    """callgrind's total instructions of one `bench.inprocess` run."""
    python = root / ".venv" / "bin" / "python"
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        str(python if python.exists() else sys.executable),
        "-m",
        "bench.inprocess",
        case,
        "--turns",
        str(turns),
        *(["--in-flight", str(in_flight)] if in_flight != 1 else []),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions")
    parser.add_argument("case", choices=CASES)
    parser.add_argument("--bot-root", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--turns", default="50,250", help="the two turn counts, a,b (a < b)")
    parser.add_argument(
        "--in-flight",
        type=int,
        default=1,
        help="turns at a time (what the collector's passes cost shows only with many in flight)",
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")
    try:
        few, many = (int(n) for n in args.turns.split(","))
    except ValueError:
        raise SystemExit("--turns takes two counts, a,b") from None
    if not 0 < few < many:
        raise SystemExit("--turns takes two counts, the first smaller")
    root = args.bot_root.resolve()
    low = collected(root, args.case, few, args.in_flight)
    high = collected(root, args.case, many, args.in_flight)
    per_turn = (high - low) / (many - few)
    print(
        f"{args.case}: {per_turn:,.0f} instructions a turn at {root}, {args.in_flight} in flight "
        f"(callgrind, {few} and {many} turns: {low:,} and {high:,} in all)"
    )


if __name__ == "__main__":
    main()
