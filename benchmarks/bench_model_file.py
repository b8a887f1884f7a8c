"""Time model files: `python benchmarks/bench_model_file.py` prints how long validating a large model takes.

Issue 12's bar: a model with 40,000 attributes validates in under a second (it took 97 s when the
uniqueness check counted every name in the list of names). Figures, each in the same run:

- validate: ``ScoringModel.from_dict`` of a generated model with 4,000 and 40,000 categorical attributes
  (two levels each), median of ``--repeat`` runs; the ratio shows it grows linearly (10x attributes, ~10x time);
- file: ``ScoringModel.from_file`` of the 40,000-attribute model as JSON (parse, size check, validate);
- refused: how long the one-sentence refusals take (a file past the size cap, a YAML alias bomb).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lead_model import LeadModelError, ScoringModel  # noqa: E402
from lead_model.model.schema import MAX_MODEL_BYTES  # noqa: E402


def wide_model(n: int) -> dict:
    """A valid model dict with ``n`` categorical attributes of two levels each."""
    return {
        "schema_version": 2,
        "attributes": [{"name": f"attribute_{i}", "kind": "categorical", "group": "fit" if i % 2 else "engagement",
                        "levels": [{"value": "yes", "points": 5}, {"value": "no", "points": -2}]} for i in range(n)],
        "mql_threshold": 10,
    }


def median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def refused_seconds(fn) -> float:
    t0 = time.perf_counter()
    try:
        fn()
    except LeadModelError:
        return time.perf_counter() - t0
    raise SystemExit("expected a refusal")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    small, large = wide_model(4_000), wide_model(40_000)
    t_small = median_seconds(lambda: ScoringModel.from_dict(small), args.repeat)
    t_large = median_seconds(lambda: ScoringModel.from_dict(large), args.repeat)
    print(f"validate  4,000 attributes: {t_small:.3f} s")
    print(f"validate 40,000 attributes: {t_large:.3f} s  ({t_large / t_small:.1f}x the time for 10x the attributes; bar: < 1 s)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wide.json"
        ScoringModel.from_dict(large).to_file(path)
        t_file = median_seconds(lambda: ScoringModel.from_file(path), args.repeat)
        print(f"from_file 40,000 attributes ({path.stat().st_size / 1e6:.1f} MB JSON): {t_file:.3f} s")
        big = Path(tmp) / "big.json"
        with big.open("wb") as fh:
            fh.truncate(MAX_MODEL_BYTES + 1)
        print(f"refused: a file past the {MAX_MODEL_BYTES / 1e6:.0f} MB cap in {refused_seconds(lambda: ScoringModel.from_file(big)) * 1000:.1f} ms")
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)) + "attributes: *a8\n"
    print(f"refused: a YAML alias bomb (10^9 values) in {refused_seconds(lambda: ScoringModel.from_text(bomb, yaml_format=True)) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
