"""Synthetic leads shaped like PERFORMANCE.md: 12 categorical and 6 count attributes, ~5% converted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

# 12 categorical attributes with 3-12 levels each (the first levels are the common ones).
CATEGORICAL: dict[str, tuple[str, ...]] = {
    "job_level": ("Individual Contributor", "Manager", "Director", "VP", "C-Level", "Consultant", "Student"),
    "department": ("Marketing", "Sales", "IT", "Operations", "Finance", "HR", "Other"),
    "industry": ("Software", "Financial Services", "Manufacturing", "Healthcare", "Retail", "Education", "Media", "Government", "Other"),
    "country": ("United States", "United Kingdom", "Germany", "India", "Canada", "France", "Brazil", "Australia", "Spain", "Japan", "Other"),
    "lead_source": ("Organic Search", "Paid Search", "Purchased List", "Content Syndication", "Webinar", "Trade Show", "Partner", "Referral"),
    "company_type": ("Private", "Public", "Non-profit"),
    "product_interest": ("Analytics", "CRM", "Automation", "Security", "Payments"),
    "seniority_band": ("Junior", "Mid", "Senior", "Executive"),
    "utm_medium": ("cpc", "email", "social", "organic", "display", "referral"),
    "device": ("desktop", "mobile", "tablet"),
    "language": ("en", "de", "fr", "es", "pt", "ja", "it", "nl", "sv", "pl", "tr", "ko"),
    "region": ("North America", "EMEA", "APAC", "LATAM"),
}
# 6 count attributes (engagement) with their Poisson means.
COUNTS: dict[str, float] = {
    "website_visits": 3.0,
    "pricing_page_views": 0.6,
    "email_opens": 4.0,
    "email_clicks": 1.0,
    "content_downloads": 0.8,
    "webinars_attended": 0.3,
}
# The few attributes that drive conversion (log-odds per level / per count).
EFFECTS: dict[str, tuple[float, ...]] = {
    "job_level": (0.0, 0.3, 0.7, 0.9, 0.8, -0.6, -1.5),
    "lead_source": (0.2, 0.1, -0.8, -0.4, 0.5, 0.3, 0.6, 0.9),
    "industry": (0.5, 0.4, 0.2, 0.1, -0.1, -0.5, 0.0, -0.3, -0.2),
}
COUNT_EFFECTS = {"pricing_page_views": 0.45, "website_visits": 0.08, "email_clicks": 0.2}
MISSING_SHARE = 0.03  # share of categorical cells left empty or filled with a placeholder
PLACEHOLDERS = ("", "N/A", "Select", "unknown")
TARGET_RATE = 0.05


@dataclass(frozen=True)
class SyntheticLeads:
    """Generated leads as an Arrow table plus the ground truth used to make them."""

    table: pa.Table
    conversion_rate: float


def generate(rows: int, seed: int = 7) -> SyntheticLeads:
    """``rows`` leads: lead_id, created_date, 12 categorical, 6 counts, converted (yes/no)."""
    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {
        "lead_id": pa.array(np.char.add("L", np.arange(1, rows + 1).astype("U9"))),
        "created_date": pa.array(np.datetime64("2024-01-01") + rng.integers(0, 730, rows).astype("timedelta64[D]")),
    }
    logit = np.zeros(rows)
    for name, levels in CATEGORICAL.items():
        k = len(levels)
        weights = 1.0 / np.arange(1, k + 1) ** 0.8  # a few common levels, a long tail
        codes = rng.choice(k, size=rows, p=weights / weights.sum())
        if name in EFFECTS:
            logit += np.asarray(EFFECTS[name])[codes]
        labels = np.asarray(levels, dtype=object)[codes]
        missing = rng.random(rows) < MISSING_SHARE
        labels[missing] = rng.choice(np.asarray(PLACEHOLDERS, dtype=object), size=int(missing.sum()))
        columns[name] = pa.array(labels, type=pa.string())
    for name, mean in COUNTS.items():
        counts = rng.poisson(mean, rows)
        logit += COUNT_EFFECTS.get(name, 0.0) * np.minimum(counts, 10)
        columns[name] = pa.array(counts)
    intercept = _calibrate(logit, TARGET_RATE)
    prob = 1.0 / (1.0 + np.exp(-(intercept + logit)))
    converted = rng.random(rows) < prob
    columns["converted"] = pa.array(np.where(converted, "yes", "no"))
    return SyntheticLeads(pa.table(columns), float(converted.mean()))


def write_csv(rows: int, path: str | Path, seed: int = 7) -> SyntheticLeads:
    """Generate ``rows`` leads and write them to ``path`` as CSV (header, comma-separated)."""
    leads = generate(rows, seed)
    pacsv.write_csv(leads.table, str(path))
    return leads


def _calibrate(logit: np.ndarray, rate: float) -> float:
    """The intercept that makes the mean conversion probability equal ``rate`` (bisection)."""
    lo, hi = -20.0, 5.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(mid + logit)))) < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
