"""Kill-at-random on the lead store: `python benchmarks/bench_kills.py [--kills 200] [--seed 12]` prints the kills per kind and phase, the checks passed and the seconds.

The harness is tests/kill_harness.py (tests/test_kill_store.py runs it with 200 kills): a worker
forked from this process loads, replaces, saves versions and imports a shipping config on one store
until it is SIGKILLed; after every kill the store is opened as a fresh process would and compared
with the worker's journal (no corrupt store, no lost dataset or version, no orphan table).
Exit status 1 when any check found a problem.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from kill_harness import run_kills  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200, help="how many SIGKILLs (default 200)")
    parser.add_argument("--seed", type=int, default=12, help="seeds the operations and the delays (default 12, as the test)")
    parser.add_argument("--keep", type=Path, default=None, help="run in this folder and keep the store and journal (default: a temporary folder)")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        run = run_kills(args.keep, args.kills, seed=args.seed)
    else:
        with tempfile.TemporaryDirectory(prefix="bench_kills_") as folder:
            run = run_kills(Path(folder), args.kills, seed=args.seed)
    print("\n".join(run.lines()))
    print(f"checks passed: {run.checks - len({p.split(':')[0] for p in run.problems})} of {run.checks}")
    for problem in run.problems[:50]:
        print("PROBLEM", problem)
    return 1 if run.problems else 0


if __name__ == "__main__":
    sys.exit(main())
