"""Time the CLI's start-up: `python benchmarks/bench_cli.py` prints the median wall time of `lead-model --help` and `lead-model schema`.

Each command runs as a fresh subprocess (``--runs`` times, default 5), so the figure is what a
user waits for: interpreter start, imports and the command. The bar for ``--help`` is 0.5 s,
which holds only while the commands import pandas, scipy and DuckDB where they use them.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HELP_BAR_SECONDS = 0.5
COMMANDS = (("--help",), ("schema",))


def cli() -> list[str]:
    """The installed `lead-model` beside this interpreter, else `python -m lead_model.cli`."""
    script = Path(sys.executable).with_name("lead-model")
    if script.exists():
        return [str(script)]
    found = shutil.which("lead-model")
    return [found] if found else [sys.executable, "-m", "lead_model.cli"]


def median_seconds(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    base = cli()
    for command in COMMANDS:
        seconds = median_seconds(base + list(command), runs)
        bar = f"  (bar {HELP_BAR_SECONDS} s: {'ok' if seconds <= HELP_BAR_SECONDS else 'TOO SLOW'})" if command == ("--help",) else ""
        print(f"lead-model {' '.join(command):8} median {seconds:.3f} s over {runs} runs{bar}")


if __name__ == "__main__":
    main()
