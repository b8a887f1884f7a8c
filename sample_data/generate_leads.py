"""Generate the bundled synthetic B2B lead export with a known ground-truth conversion model.

Run ``python sample_data/generate_leads.py [--rows N] [--seed S] [-o PATH]``; it writes the CSV
(default ``sample_data/leads.csv``, 50,000 rows) and ``ground_truth.json`` next to it. The output
is a pure function of ``(rows, seed)``: rerunning it reproduces both files byte for byte.

Conversion depends only on the effect table below (``EFFECTS``) plus a linear intercept drift
over the eight quarters, evaluated on the values *as exported* (missing cells and placeholders
included), so a logistic regression on the same levels and bands recovers it. Everything else
(the latent interest factor, the lead-source mix, the missingness) shapes the inputs only.

Importable by path for benchmarks::

    spec = importlib.util.spec_from_file_location("generate_leads", "sample_data/generate_leads.py")
    module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
    frame = module.generate_leads(1_000_000)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_SEED = 20261122
DEFAULT_ROWS = 50_000
HERE = Path(__file__).resolve().parent

START_DATE = np.datetime64("2024-01-01")
N_DAYS = 731  # 2024-01-01 .. 2025-12-31 inclusive (2024 is a leap year)
N_QUARTERS = 8

COLUMNS = [
    "lead_id", "email", "created_date",
    "job_level", "department", "industry", "company_size", "country", "lead_source",
    "personal_email",
    "website_visits", "pricing_page_views", "email_opens", "email_clicks", "content_downloads",
    "webinar_attended", "demo_requested",
    "converted", "opportunity_amount",
]

# --------------------------------------------------------------------------------------------
# Ground truth: the only things that move the conversion logit.
# --------------------------------------------------------------------------------------------

INTERCEPT = -3.8
# The logit gains this much per quarter (2024-Q1 = 0 .. 2025-Q4 = 7): sales got a little better.
INTERCEPT_PER_QUARTER = 0.03

# Placeholder strings a web form or CRM leaves behind. They mean "unknown", so they carry the
# same effect as an empty cell; pandas' default NA parsing turns some ("N/A", "null") into NaN
# anyway, and this keeps the ground truth the same however the file is read.
PLACEHOLDERS = {
    "job_level": ["Select", "--", "N/A"],
    "industry": ["unknown", "null", "--"],
}

# kind "categorical"/"boolean": effects per exported value; "numeric": one effect per band, with
# band i = edges[i-1] <= x < edges[i] (first band x < edges[0], last band x >= edges[-1]).
EFFECTS: dict[str, dict] = {
    "job_level": {
        "kind": "categorical",
        "effects": {
            "C-Level": 0.8, "VP": 0.9, "Director": 0.7, "Manager": 0.3,
            "Individual Contributor": 0.0, "Student": -1.5, "Consultant": -0.6,
        },
        "missing": -0.2,
    },
    "department": {
        "kind": "categorical",
        "effects": {
            "Marketing": 0.1, "Sales": 0.05, "IT": 0.0, "Finance": 0.0,
            "Operations": 0.0, "HR": -0.1, "Other": -0.1,
        },
        "missing": 0.0,
    },
    "industry": {
        "kind": "categorical",
        "effects": {
            "Software": 0.5, "Financial Services": 0.4, "Healthcare": 0.2, "Manufacturing": 0.1,
            "Retail": 0.0, "Education": -0.3, "Government": -0.4, "Media": 0.0, "Other": -0.2,
        },
        "missing": -0.2,
    },
    "company_size": {
        "kind": "numeric",
        "edges": [10, 50, 200, 1000, 5000],
        "effects": [-0.6, -0.2, 0.0, 0.3, 0.5, 0.4],
        "missing": -0.1,
    },
    "country": {
        "kind": "categorical",
        "effects": {
            "United States": 0.0, "United Kingdom": 0.0, "Germany": 0.0, "France": 0.0,
            "Canada": 0.0, "Australia": 0.0, "India": -0.1, "Brazil": 0.0, "Other": -0.1,
        },
        "missing": 0.0,
    },
    "lead_source": {
        "kind": "categorical",
        "effects": {
            "Organic Search": 0.3, "Paid Search": 0.1, "Webinar": 0.4, "Referral": 0.7,
            "Trade Show": 0.3, "Content Syndication": -0.3, "Partner": 0.5,
            "Purchased List": -0.8,
        },
    },
    "personal_email": {"kind": "boolean", "effects": {"true": -0.6, "false": 0.0}},
    "website_visits": {
        "kind": "numeric", "edges": [1, 3, 6, 11], "effects": [-0.4, 0.0, 0.2, 0.4, 0.5],
    },
    "pricing_page_views": {
        "kind": "numeric", "edges": [1, 2, 4], "effects": [0.0, 0.6, 1.0, 1.3],
    },
    "email_opens": {
        "kind": "numeric", "edges": [1, 4, 11], "effects": [-0.1, 0.0, 0.1, 0.1],
    },
    "email_clicks": {
        "kind": "numeric", "edges": [1, 3, 6], "effects": [0.0, 0.2, 0.3, 0.4],
    },
    "content_downloads": {
        "kind": "numeric", "edges": [1, 2, 4], "effects": [0.0, 0.1, 0.2, 0.3],
    },
    "webinar_attended": {"kind": "boolean", "effects": {"Yes": 0.3, "No": 0.0}},
    "demo_requested": {"kind": "boolean", "effects": {"Yes": 1.6, "No": 0.0}},
}

# --------------------------------------------------------------------------------------------
# Input distributions (shape the data, never the conversion model directly).
# --------------------------------------------------------------------------------------------

JOB_LEVELS = {
    "C-Level": 0.06, "VP": 0.08, "Director": 0.16, "Manager": 0.26,
    "Individual Contributor": 0.35, "Student": 0.04, "Consultant": 0.05,
}
DEPARTMENTS = {
    "Marketing": 0.30, "Sales": 0.18, "IT": 0.17, "Finance": 0.08,
    "Operations": 0.12, "HR": 0.05, "Other": 0.10,
}
INDUSTRIES = {
    "Software": 0.22, "Financial Services": 0.13, "Healthcare": 0.11, "Manufacturing": 0.12,
    "Retail": 0.09, "Education": 0.08, "Government": 0.05, "Media": 0.06, "Other": 0.14,
}
COUNTRIES = {
    "United States": 0.45, "United Kingdom": 0.10, "Germany": 0.07, "France": 0.05,
    "Canada": 0.06, "Australia": 0.04, "India": 0.08, "Brazil": 0.04, "Other": 0.11,
}
COUNTRY_TLDS = {
    "United States": ".com", "United Kingdom": ".co.uk", "Germany": ".de", "France": ".fr",
    "Canada": ".ca", "Australia": ".com.au", "India": ".in", "Brazil": ".com.br", "Other": ".io",
}
# Lead-source mix drifts linearly from the first quarter to the last: marketing moved budget
# from bought lists and syndication towards webinars, partners and paid search.
LEAD_SOURCE_MIX_START = {
    "Organic Search": 0.22, "Paid Search": 0.14, "Webinar": 0.08, "Referral": 0.06,
    "Trade Show": 0.08, "Content Syndication": 0.16, "Partner": 0.06, "Purchased List": 0.20,
}
LEAD_SOURCE_MIX_END = {
    "Organic Search": 0.22, "Paid Search": 0.18, "Webinar": 0.12, "Referral": 0.07,
    "Trade Show": 0.08, "Content Syndication": 0.13, "Partner": 0.10, "Purchased List": 0.10,
}
# Bought and syndicated leads arrive less interested and with more blank fields.
SOURCE_INTEREST_SHIFT = {"Purchased List": -0.6, "Content Syndication": -0.4, "Referral": 0.3,
                         "Webinar": 0.2}
SOURCE_MISSING_MULTIPLIER = {"Purchased List": 2.0, "Content Syndication": 1.8}

MISSING_RATES = {
    # Base rates; bought and syndicated leads get SOURCE_MISSING_MULTIPLIER times more (3.5-7% overall).
    "job_level": 0.045, "department": 0.04, "industry": 0.05, "company_size": 0.055, "country": 0.03,
}
PLACEHOLDER_RATE = 0.015
DUPLICATE_RATE = 0.003

FIRST_NAMES = (
    "james mary john patricia robert jennifer michael linda david elizabeth william barbara "
    "richard susan joseph jessica thomas sarah charles karen priya arjun wei li mohammed fatima "
    "lukas anna sophie louis emma hugo lucas julia gabriel olivia noah mia liam chloe ethan "
    "zoe raj ananya carlos ana pedro sofia kenji yuki oliver amelia jack isla daniel grace "
    "matteo giulia"
).split()
LAST_NAMES = (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez "
    "wilson anderson thomas taylor moore jackson martin lee thompson white harris clark lewis "
    "robinson walker young allen king wright scott green baker adams nelson hill campbell "
    "mitchell roberts carter phillips evans turner parker collins edwards stewart morris "
    "murphy cook rogers morgan cooper peterson reed bailey bell kelly howard ward cox "
    "richardson wood watson brooks bennett gray patel sharma singh kumar muller schmidt "
    "schneider fischer weber dubois moreau laurent silva santos oliveira souza tanaka sato"
).split()
COMPANY_STEMS = (
    "acme apex blue bright cedar cloud core crest delta ever fair first forge globe granite "
    "harbor iron keystone lumen maple mesa metro nimbus north nova oak orbit peak pine pioneer "
    "prime quantum redwood river sage silver summit terra true vertex vista west zen"
).split()
COMPANY_SUFFIXES = (
    "labs systems group tech works data soft corp health bank logistics retail media "
    "analytics partners solutions"
).split()
PERSONAL_DOMAINS = {
    "gmail.com": 0.55, "yahoo.com": 0.12, "outlook.com": 0.12, "hotmail.com": 0.10,
    "icloud.com": 0.07, "aol.com": 0.04,
}
# Students and consultants sign up with private addresses far more often than employees.
PERSONAL_EMAIL_RATE = {"Student": 0.60, "Consultant": 0.35}
PERSONAL_EMAIL_BASE_RATE = 0.12


# How each yes/no column is spelled in the export: (False, True).
FLAG_LABELS = {
    "personal_email": ("false", "true"),
    "webinar_attended": ("No", "Yes"),
    "demo_requested": ("No", "Yes"),
    "converted": ("No", "Yes"),
}
CATEGORICALS = {
    "job_level": JOB_LEVELS, "department": DEPARTMENTS, "industry": INDUSTRIES,
    "country": COUNTRIES, "lead_source": LEAD_SOURCE_MIX_START,
}
COUNT_COLUMNS = ["website_visits", "pricing_page_views", "email_opens", "email_clicks",
                 "content_downloads"]


# --------------------------------------------------------------------------------------------
# Small helpers. Categoricals are int codes into labels(column) until the very end, with -1 for
# an empty cell: comparing and concatenating Python strings row by row is what makes 1M rows slow.
# --------------------------------------------------------------------------------------------

def labels(column: str) -> list[str]:
    """Every value a categorical column can hold: its levels, then its placeholders."""
    return list(CATEGORICALS[column]) + PLACEHOLDERS.get(column, [])


def _probs(mapping: dict[str, float]) -> np.ndarray:
    weights = np.array(list(mapping.values()), dtype=float)
    return weights / weights.sum()


def _pick(rng: np.random.Generator, mapping: dict[str, float], n: int) -> np.ndarray:
    """Draw n codes (indices into the mapping's keys) with the mapping's weights."""
    return rng.choice(len(mapping), size=n, p=_probs(mapping))


def _per_code(mapping: dict[str, float], keys: list[str], default: float) -> np.ndarray:
    """Vector v with v[code] = mapping[keys[code]] (default if absent); v[-1] = default for code -1."""
    return np.array([mapping.get(k, default) for k in keys] + [default])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _neg_binomial(rng: np.random.Generator, mean: np.ndarray, dispersion: float) -> np.ndarray:
    """Over-dispersed counts with the given per-row mean (smaller dispersion = heavier tail)."""
    return rng.negative_binomial(dispersion, dispersion / (dispersion + mean))


def band_index(x: np.ndarray, edges: list[float]) -> np.ndarray:
    """Band number per value: band i holds edges[i-1] <= x < edges[i]."""
    return np.searchsorted(np.asarray(edges), x, side="right")


def _strings(values: list[str], codes: np.ndarray) -> pa.Array:
    """values[code] per row as an Arrow string array; code -1 gives null."""
    return pa.array(values, type=pa.string()).take(pa.array(codes, mask=codes < 0))


def _join(*parts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


# --------------------------------------------------------------------------------------------
# Column generators
# --------------------------------------------------------------------------------------------

def _created_days(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sorted day offsets from START_DATE: volume grows ~40% over two years, weekends are quiet."""
    days = np.arange(N_DAYS)
    weekend = days % 7 >= 5  # 2024-01-01 was a Monday
    weights = (1.0 + 0.4 * days / (N_DAYS - 1)) * np.where(weekend, 0.35, 1.0)
    return np.sort(rng.choice(N_DAYS, size=n, p=weights / weights.sum()))


def _quarter_of_day() -> np.ndarray:
    """Quarter index (0 for 2024-Q1 .. 7 for 2025-Q4) of every day offset."""
    months = (START_DATE + np.arange(N_DAYS)).astype("datetime64[M]") - START_DATE.astype("datetime64[M]")
    return months.astype(np.int64) // 3


def _lead_sources(rng: np.random.Generator, quarter: np.ndarray) -> np.ndarray:
    """lead_source codes from a mix that moves linearly from the start mix to the end mix."""
    start = _probs(LEAD_SOURCE_MIX_START)
    end = _probs({k: LEAD_SOURCE_MIX_END[k] for k in LEAD_SOURCE_MIX_START})
    t = np.arange(N_QUARTERS)[:, None] / (N_QUARTERS - 1)
    cumulative = np.cumsum((1 - t) * start + t * end, axis=1)  # one row per quarter
    u = rng.random(len(quarter))
    codes = (u[:, None] >= cumulative[quarter]).sum(axis=1)
    return np.minimum(codes, len(start) - 1)  # guard against cumsum rounding below 1.0


def _company_size(rng: np.random.Generator, n: int) -> np.ndarray:
    """Heavy-tailed employee counts in 1..50,000 (log-normal, median ~120)."""
    size = np.exp(rng.normal(np.log(120), 1.9, size=n))
    return np.clip(np.rint(size), 1, 50_000).astype(np.int64)


def _engagement(rng: np.random.Generator, lead_source: np.ndarray) -> dict[str, np.ndarray]:
    """Engagement counts and flags, mildly correlated through one latent interest factor."""
    n = len(lead_source)
    sources = list(LEAD_SOURCE_MIX_START)
    interest = rng.normal(size=n) + _per_code(SOURCE_INTEREST_SHIFT, sources, 0.0)[lead_source]
    opens = _neg_binomial(rng, np.exp(1.4 + 0.4 * interest), 1.5)
    webinar_p = np.where(lead_source == sources.index("Webinar"), 0.65,
                         _sigmoid(-2.4 + 0.5 * interest))
    return {
        "website_visits": _neg_binomial(rng, np.exp(1.0 + 0.6 * interest), 1.2),
        "pricing_page_views": _neg_binomial(rng, np.exp(-1.3 + 0.8 * interest), 0.8),
        "email_opens": opens,
        # Clicks are a subset of opens, so clicks <= opens holds by construction.
        "email_clicks": rng.binomial(opens, _sigmoid(-1.6 + 0.4 * interest)),
        "content_downloads": _neg_binomial(rng, np.exp(-0.6 + 0.5 * interest), 1.0),
        "webinar_attended": rng.random(n) < webinar_p,
        "demo_requested": rng.random(n) < _sigmoid(-2.7 + 0.8 * interest),
    }


def _personal(rng: np.random.Generator, job_level: np.ndarray) -> np.ndarray:
    """Whether the lead signed up with a private address (students and consultants often do)."""
    rate = _per_code(PERSONAL_EMAIL_RATE, list(JOB_LEVELS), PERSONAL_EMAIL_BASE_RATE)
    return rng.random(len(job_level)) < rate[job_level]


def _email_parts(rng: np.random.Generator, personal: np.ndarray, country: np.ndarray) -> dict[str, np.ndarray]:
    """Integer codes for each piece of first.last42@stemsuffix.tld (or @gmail.com and friends)."""
    n = len(personal)
    personal_domain = len(COMPANY_STEMS) + _pick(rng, PERSONAL_DOMAINS, n)
    return {
        "first": rng.integers(len(FIRST_NAMES), size=n),
        "style": rng.integers(3, size=n),                   # first.last, flast, first_last
        "last": rng.integers(len(LAST_NAMES), size=n),
        # A number on 30% of addresses keeps them unique-ish; code 0 is no number.
        "number": np.where(rng.random(n) < 0.3, rng.integers(1, 100, size=n), 0),
        "host": np.where(personal, personal_domain, rng.integers(len(COMPANY_STEMS), size=n)),
        "suffix": np.where(personal, len(COMPANY_SUFFIXES), rng.integers(len(COMPANY_SUFFIXES), size=n)),
        "tld": np.where(personal, len(COUNTRY_TLDS), country),
    }


def _emails(parts: dict[str, np.ndarray]) -> pa.Array:
    """Assemble addresses from _email_parts codes with Arrow string kernels."""
    style = parts["style"]
    given = np.where(style == 1, parts["first"] + len(FIRST_NAMES), parts["first"])
    return _join(
        _strings(FIRST_NAMES + [name[0] for name in FIRST_NAMES], given),  # full name or initial
        _strings([".", "", "_"], style),
        _strings(LAST_NAMES, parts["last"]),
        _strings([""] + [str(i) for i in range(1, 100)], parts["number"]),
        _strings(["@"], np.zeros(len(style), dtype=np.int64)),
        _strings(COMPANY_STEMS + list(PERSONAL_DOMAINS), parts["host"]),
        _strings(COMPANY_SUFFIXES + [""], parts["suffix"]),
        _strings(list(COUNTRY_TLDS.values()) + [""], parts["tld"]),
    )


def _blank_out(rng: np.random.Generator, codes: dict[str, np.ndarray], size_missing: np.ndarray,
               lead_source: np.ndarray) -> None:
    """Blank fit fields in place, more often for bought/syndicated leads (code -1 = empty cell)."""
    multiplier = _per_code(SOURCE_MISSING_MULTIPLIER, list(LEAD_SOURCE_MIX_START), 1.0)[lead_source]
    for name, rate in MISSING_RATES.items():
        blank = rng.random(len(lead_source)) < rate * multiplier
        if name == "company_size":
            size_missing |= blank
        else:
            codes[name][blank] = -1


def _add_placeholders(rng: np.random.Generator, codes: dict[str, np.ndarray]) -> None:
    """Replace a small share of filled categorical cells with form placeholders."""
    for name, choices in PLACEHOLDERS.items():
        values = codes[name]
        hit = (rng.random(len(values)) < PLACEHOLDER_RATE) & (values >= 0)
        values[hit] = len(CATEGORICALS[name]) + rng.integers(len(choices), size=hit.sum())


def _logit(codes: dict[str, np.ndarray], size: np.ndarray, size_missing: np.ndarray,
           quarter: np.ndarray) -> np.ndarray:
    """The ground-truth logit on the exported values: intercept + drift + every EFFECTS entry."""
    logit = INTERCEPT + INTERCEPT_PER_QUARTER * quarter
    for name, spec in EFFECTS.items():
        missing = spec.get("missing", 0.0)
        if spec["kind"] == "categorical":
            # Placeholders are not in the effects table, so they take the missing effect.
            logit = logit + _per_code(spec["effects"], labels(name), missing)[codes[name]]
        elif spec["kind"] == "boolean":
            off, on = FLAG_LABELS[name]
            logit = logit + np.where(codes[name], spec["effects"][on], spec["effects"][off])
        else:
            values, blank = (size, size_missing) if name == "company_size" else (codes[name], False)
            effect = np.asarray(spec["effects"])[band_index(values, spec["edges"])]
            logit = logit + np.where(blank, missing, effect)
    return logit


def _opportunity_amount(rng: np.random.Generator, true_size: np.ndarray) -> np.ndarray:
    """Deal size (rounded to $100) growing with company size; kept only for converted leads."""
    amount = np.exp(np.log(6_000) + 0.28 * np.log(true_size) + rng.normal(0, 0.5, len(true_size)))
    return (np.rint(amount / 100) * 100).astype(np.int64)


def _export_order(rng: np.random.Generator, n_unique: int, n_dup: int) -> np.ndarray:
    """Row indices of the export: every lead once, plus n_dup exact repeats at random positions."""
    sources = rng.choice(n_unique, size=n_dup, replace=False)
    # Originals keep their position; each copy sorts in at a random point of the file.
    keys = np.concatenate([np.arange(n_unique, dtype=float), rng.uniform(0, n_unique, n_dup)])
    order = np.argsort(keys, kind="stable")
    return np.concatenate([np.arange(n_unique), sources])[order]


def _lead_ids(numbers: np.ndarray) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), 7, "0")
    return pc.binary_join_element_wise("L", digits, "")


def _text(values: list[str], codes: np.ndarray) -> pd.Series:
    """A str Series of values[code] (empty where code is -1)."""
    return _strings(values, codes).to_pandas()


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def generate_leads(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Return `rows` synthetic leads (duplicates included) in export order, columns as COLUMNS.

    Text cells are str (NaN when empty); company_size and opportunity_amount are nullable Int64;
    personal_email is bool; the flags and `converted` are "Yes"/"No".
    """
    rng = np.random.default_rng(seed)
    n_dup = int(round(rows * DUPLICATE_RATE))
    n = rows - n_dup

    day = _created_days(rng, n)
    quarter = _quarter_of_day()[day]
    codes: dict[str, np.ndarray] = {"lead_source": _lead_sources(rng, quarter)}
    for name in ("job_level", "department", "industry", "country"):
        codes[name] = _pick(rng, CATEGORICALS[name], n)
    size = _company_size(rng, n)
    codes["personal_email"] = _personal(rng, codes["job_level"])
    email_parts = _email_parts(rng, codes["personal_email"], codes["country"])
    codes.update(_engagement(rng, codes["lead_source"]))

    # The mess comes after the true values drove email and engagement, but before conversion:
    # the outcome model scores what the export shows.
    size_missing = np.zeros(n, dtype=bool)
    _blank_out(rng, codes, size_missing, codes["lead_source"])
    _add_placeholders(rng, codes)
    converted = rng.random(n) < _sigmoid(_logit(codes, size, size_missing, quarter))
    amount = _opportunity_amount(rng, size)

    # Reorder the integer codes, not the finished strings: taking from Arrow strings is slow.
    o = _export_order(rng, n, n_dup)
    dates = np.datetime_as_string(START_DATE + np.arange(N_DAYS), unit="D").tolist()
    flags = {"webinar_attended": codes["webinar_attended"],
             "demo_requested": codes["demo_requested"], "converted": converted}
    columns = {
        "lead_id": _lead_ids(o + 1).to_pandas(),
        "email": _emails({part: values[o] for part, values in email_parts.items()}).to_pandas(),
        "created_date": _text(dates, day[o]),
        **{name: _text(labels(name), codes[name][o]) for name in CATEGORICALS},
        "company_size": pd.arrays.IntegerArray(size[o], size_missing[o]),
        "personal_email": codes["personal_email"][o],
        **{name: codes[name][o] for name in COUNT_COLUMNS},
        **{name: _text(list(FLAG_LABELS[name]), values[o].astype(np.int64))
           for name, values in flags.items()},
        "opportunity_amount": pd.arrays.IntegerArray(amount[o], ~converted[o]),
    }
    return pd.DataFrame({name: columns[name] for name in COLUMNS})


def ground_truth() -> dict:
    """The machine-readable conversion model behind generate_leads (written to ground_truth.json)."""
    attributes = {}
    for name, spec in EFFECTS.items():
        entry = json.loads(json.dumps(spec))  # deep copy
        if name in PLACEHOLDERS:
            entry["effects"].update({value: spec["missing"] for value in PLACEHOLDERS[name]})
            entry["placeholders"] = PLACEHOLDERS[name]
        attributes[name] = entry
    return {
        "description": "logit = intercept + drift.intercept_per_quarter * quarter_index + the "
                       "sum of attribute effects; P(converted = Yes) = 1 / (1 + exp(-logit)). "
                       "Numeric band i holds edges[i-1] <= x < edges[i]. An empty cell takes "
                       "'missing' (0 when absent); placeholder values take the missing effect.",
        "intercept": INTERCEPT,
        "drift": {
            "intercept_per_quarter": INTERCEPT_PER_QUARTER,
            "quarter_index": "0 for 2024-Q1 .. 7 for 2025-Q4, from created_date",
            "lead_source_mix_start": LEAD_SOURCE_MIX_START,
            "lead_source_mix_end": LEAD_SOURCE_MIX_END,
            "note": "the lead_source mix moves linearly between quarter 0 and quarter 7; it "
                    "changes who arrives, not the effect of any value",
        },
        "outcome": {"column": "converted", "positive": "Yes"},
        "leaky_columns": ["opportunity_amount"],
        "attributes": attributes,
    }


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write the export the way a CRM would: empty cells for missing, lowercase true/false."""
    out = frame.copy()
    out["personal_email"] = np.where(out["personal_email"], "true", "false")
    out.to_csv(path, index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("-o", "--output", type=Path, default=HERE / "leads.csv",
                        help="CSV path; ground_truth.json is written to the same folder")
    args = parser.parse_args(argv)
    write_csv(generate_leads(args.rows, args.seed), args.output)
    (args.output.parent / "ground_truth.json").write_text(json.dumps(ground_truth(), indent=2) + "\n")


if __name__ == "__main__":
    main()
