"""Hostile synthetic leads: column names with quotes, dots and SQL, a level holding ~30% of leads, heavy-tailed counts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

# 12 categorical attributes (fit) with 2-12 levels each; names and values a SQL builder or CSV reader must quote.
CATEGORICAL: dict[str, int] = {
    'Job "Level"': 12,
    "it's; DROP TABLE leads;--": 2,
    "company.size": 7,
    "Industry (primary)": 11,
    "country, region": 9,
    'SELECT * FROM "x" WHERE 1=1': 3,
    "lead source": 8,
    "a.b.c": 5,
    "déjà vu": 4,
    "100% 'sure'": 6,
    "tier\\name": 10,
    "Budget [USD]": 12,
}
# 6 count attributes (engagement: the names hold engagement words) drawn negative-binomial, capped at 40.
COUNTS: dict[str, float] = {  # mean before the cap
    'web "visits"': 4.0,
    "page.views": 6.0,
    "email opens; --": 3.0,
    "it's clicks": 1.2,
    "downloads (all)": 0.7,
    "webinar's attended": 0.4,
}
OUTCOME = "converted"
MISSING_SHARE = 0.03  # categorical cells left empty
COUNT_MISSING_SHARE = 0.01  # count cells left empty
TOP_SHARE = 0.30  # the most common level of every categorical attribute
TARGET_RATE = 0.06
_DECORATIONS = ('"{}"', "{}'s", "{}, Inc.", "{}; --", "{} (x)", "{}.{}", "O'{}", "{} & co", "{} \"q\"", "{}/{}", "[{}]", "{}%")


@dataclass(frozen=True)
class HostileLeads:
    table: pa.Table
    conversion_rate: float


def level_names(name: str, k: int) -> list[str]:
    """k distinct, non-numeric, non-placeholder level spellings full of quotes and punctuation."""
    stem = "".join(ch for ch in name if ch.isalpha())[:6] or "lvl"
    return [_DECORATIONS[i % len(_DECORATIONS)].format(f"{stem}{chr(65 + i)}", i) for i in range(k)]


def level_shares(k: int) -> np.ndarray:
    """TOP_SHARE for the first level; the rest of the non-missing share falls off like 1/rank."""
    rest = 1.0 / np.arange(1, k) if k > 1 else np.zeros(0)
    shares = np.concatenate(([TOP_SHARE], (1.0 - MISSING_SHARE - TOP_SHARE) * rest / rest.sum())) if k > 1 else np.array([1.0 - MISSING_SHARE])
    return np.append(shares, MISSING_SHARE)


def generate(rows: int, seed: int = 11) -> HostileLeads:
    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    logit = np.zeros(rows)
    for j, (name, k) in enumerate(CATEGORICAL.items()):
        codes = rng.choice(k + 1, size=rows, p=level_shares(k))  # code k = missing
        if j % 3 == 0:  # a third of the attributes drive conversion
            logit += np.append(rng.normal(0, 0.6, k), 0.0)[codes]
        labels = np.asarray(level_names(name, k) + [None], dtype=object)[codes]
        columns[name] = pa.array(labels, type=pa.string())
    for j, (name, mean) in enumerate(COUNTS.items()):
        dispersion = 0.7
        counts = np.minimum(rng.negative_binomial(dispersion, dispersion / (dispersion + mean), rows), 40).astype(np.float64)
        logit += (0.06 if j < 3 else 0.15) * np.minimum(counts, 15)
        counts[rng.random(rows) < COUNT_MISSING_SHARE] = np.nan
        columns[name] = pa.array(counts, type=pa.float64(), from_pandas=True).cast(pa.int64())
    intercept = _calibrate(logit, TARGET_RATE)
    converted = rng.random(rows) < 1.0 / (1.0 + np.exp(-(intercept + logit)))
    columns[OUTCOME] = pa.array(np.where(converted, "yes", "no"))
    return HostileLeads(pa.table(columns), float(converted.mean()))


def write_csv(rows: int, path: str | Path, seed: int = 11) -> HostileLeads:
    """Generate ``rows`` hostile leads and write them to ``path`` as CSV (header, comma-separated, quoted as needed)."""
    leads = generate(rows, seed)
    pacsv.write_csv(leads.table, str(path))
    return leads


def random_points_model(model, rng: np.random.Generator, low: int = -40, high: int = 40):
    """``model`` with random points on every level, bin, missing and other: every points value changed at once."""
    from lead_model.model.schema import ScoringModel

    data = model.to_dict()
    for a in data["attributes"]:
        for part in [a.get("missing"), a.get("other"), *a.get("levels", ()), *a.get("bins", ())]:
            if isinstance(part, dict):
                part["points"] = int(rng.integers(low, high + 1))
        a.setdefault("missing", {"points": int(rng.integers(low, high + 1))})
        if a["kind"] == "categorical":
            a.setdefault("other", {"points": int(rng.integers(low, high + 1))})
    return ScoringModel.from_dict(data)


def _calibrate(logit: np.ndarray, rate: float) -> float:
    lo, hi = -20.0, 5.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(mid + logit)))) < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
