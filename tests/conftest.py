"""Shared test helpers: CSV writers, a hand-checkable fixture, a brute-force scorer and hypothesis strategies.

The brute force here never touches lead_model's encodings: it scores each lead by looking
its raw value up in the model *dict*, one lead at a time, so it is an independent check.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Modest by default so the suite stays fast; LEAD_MODEL_HYPOTHESIS=thorough runs 20x more examples.
_quiet = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("lead_model", max_examples=25, deadline=None, suppress_health_check=_quiet)
settings.register_profile("thorough", max_examples=500, deadline=None, suppress_health_check=_quiet)
# CI replays the same examples on every run: a new example that fails is found locally, not by a flaky CI run.
settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=_quiet, derandomize=True, database=None)
settings.load_profile(os.environ.get("LEAD_MODEL_HYPOTHESIS", "ci" if os.environ.get("CI") else "lead_model"))

# The placeholders the fixtures use; each is one of lead_model.roles.DEFAULT_PLACEHOLDERS.
PLACEHOLDERS = {"", "n/a", "na", "null", "none", "select", "unknown", "-", "--", "?", "not provided"}
TRUE_WORDS = {"1", "true", "t", "yes", "y"}
FALSE_WORDS = {"0", "false", "f", "no", "n"}


def changed(path: str, value) -> dict:
    """TINY_MODEL with one value replaced, addressed like 'attributes.1.bins.0.min'."""
    import copy

    data = copy.deepcopy(TINY_MODEL)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    node[int(last) if last.isdigit() else last] = value
    return data


# ----- what the app shows -----------------------------------------------------------
def plain(markdown: str) -> str:
    """What a reader sees of Markdown the app escaped (``formatting.markdown_escape``): the backslashes and word joiners go."""
    import re

    from lead_model.formatting import WORD_JOINER

    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


# ----- files ------------------------------------------------------------------------
def write_csv(path: Path, header: list[str], rows: list[list], *, delimiter: str = ",", encoding: str = "utf-8", bom: bool = False) -> Path:
    """Write rows with Python's csv module (None -> empty cell), quoting only where needed."""
    with open(path, "w", encoding=encoding, newline="") as fh:
        if bom:
            fh.write("\ufeff")
        writer = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


# The hand-built fixture: 12 leads whose scores are worked out by hand in test_scoring.py.
TINY_HEADER = ["lead_id", "created", "industry", "employees", "page_views", "newsletter", "converted"]
TINY_ROWS = [
    ["L01", "2024-01-05", "Software", 250, 12, "yes", "yes"],
    ["L02", "2024-01-20", "Software", 40, 3, "no", "no"],
    ["L03", "2024-02-02", "Retail", 1200, 0, "yes", "no"],
    ["L04", "2024-02-14", "Retail", None, 7, "no", "yes"],
    ["L05", "2024-03-01", "Education", 15, 1, None, "no"],
    ["L06", "2024-03-09", "Select", 300, 20, "yes", "yes"],
    ["L07", "2024-03-30", "Software", 5000, 0, "no", "no"],
    ["L08", "2024-04-11", "N/A", 80, 4, "yes", "no"],
    ["L09", "2024-04-12", "Government", 60, 9, "no", "no"],
    ["L10", "2024-05-01", "Software", 700, 15, "yes", "yes"],
    ["L11", "2024-05-20", "Education", 2, 0, "no", "no"],
    ["L12", "2024-06-30", "Retail", 90, 2, "yes", "no"],
]
TINY_KINDS = {"industry": "categorical", "employees": "numeric", "page_views": "numeric", "newsletter": "boolean"}  # how TINY_MODEL reads each column
TINY_MODEL = {
    "attributes": [
        {
            "name": "industry", "kind": "categorical", "group": "fit",
            "levels": [{"value": "Software", "points": 20}, {"value": "Retail", "points": 5}, {"value": "Education", "points": -10}],
            "other": {"points": 2}, "missing": {"points": -5},
        },
        {
            "name": "employees", "kind": "numeric", "group": "fit",
            "bins": [{"min": None, "points": 0}, {"min": 50, "points": 10}, {"min": 200, "points": 20}, {"min": 1000, "points": 15}],
            "missing": {"points": -3},
        },
        {
            "name": "page_views", "kind": "numeric", "group": "engagement",
            "bins": [{"min": None, "points": 0}, {"min": 1, "points": 5}, {"min": 5, "points": 15}, {"min": 10, "points": 30}],
        },
        {
            "name": "newsletter", "kind": "boolean", "group": "engagement",
            "levels": [{"value": True, "points": 10}, {"value": False, "points": 0}], "missing": {"points": 1},
        },
    ],
    "knockouts": [{"attribute": "industry", "values": ["Government"], "reason": "public sector is not served"}],
    "mql_threshold": 40,
    "grades": [{"name": "A", "min_score": 30}, {"name": "B", "min_score": 10}, {"name": "C", "min_score": None}],
    "tiers": [{"name": "hot", "min_score": 60}, {"name": "warm", "min_score": 25}, {"name": "cold", "min_score": None}],
}
# Worked out by hand (see test_scoring.test_tiny_scores_by_hand): (fit, engagement) per lead, file order.
TINY_FIT_ENG = [(40, 40), (20, 5), (20, 10), (2, 15), (-10, 6), (15, 40), (35, 0), (5, 15), (12, 15), (40, 40), (-10, 0), (15, 15)]
TINY_KNOCKED_OUT = [False] * 8 + [True] + [False] * 3
TINY_CONVERTED = [r[-1] == "yes" for r in TINY_ROWS]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "s.duckdb"


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "tiny.csv", TINY_HEADER, TINY_ROWS)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The 12 hand-built leads, loaded once per test module (tests only read it)."""
    from lead_model import load_leads

    folder = tmp_path_factory.mktemp("tiny")
    return load_leads(write_csv(folder / "tiny.csv", TINY_HEADER, TINY_ROWS), "converted", store=folder / "s.duckdb")


@pytest.fixture
def tiny_model():
    from lead_model import ScoringModel

    return ScoringModel.from_dict(TINY_MODEL)


# ----- the bundled sample and the shared bank data, each loaded once per session ------------
ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = ROOT / "sample_data" / "leads.csv"
SAMPLE_MODEL = ROOT / "sample_data" / "sample_model.yaml"
# shared/ sits beside the checkout (CI clones into another folder), so look for it from here.
BANK_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank-marketing" / "bank-full.csv"


def data_missing(reason: str) -> None:
    """Data a test needs is not here: a failure that names the path (the sample is bundled, shared/ sits beside the checkout)."""
    pytest.fail(reason)


def needs_sample() -> None:
    if not (SAMPLE_CSV.is_file() and SAMPLE_MODEL.is_file()):
        data_missing(f"the bundled sample is missing ({SAMPLE_CSV.relative_to(ROOT)} and {SAMPLE_MODEL.relative_to(ROOT)})")


def needs_bank() -> None:
    if not BANK_CSV.is_file():
        data_missing(f"the shared bank-marketing data is missing: expected {BANK_CSV} (shared/ beside the checkout)")


@pytest.fixture(scope="session")
def data_store(tmp_path_factory) -> Path:
    """The session's lead store: the sample and the bank data are each read from their files into it once."""
    return tmp_path_factory.mktemp("shared_data") / "s.duckdb"


@pytest.fixture(scope="session")
def sample_leads(data_store):
    """The bundled sample (50,000 leads), outcome 'converted', every column with its inferred role. Read-only."""
    from lead_model import load_leads

    needs_sample()
    return load_leads(SAMPLE_CSV, "converted", store=data_store)


@pytest.fixture(scope="session")
def sample_leads_fair(sample_leads, data_store):
    """The sample without opportunity_amount (it leaks the outcome), re-encoded from the session store."""
    from lead_model import load_leads

    return load_leads(sample_leads.name, "converted", store=data_store, exclude=["opportunity_amount"])


@pytest.fixture(scope="session")
def sample_model():
    """sample_data/sample_model.yaml."""
    from lead_model import ScoringModel

    needs_sample()
    return ScoringModel.from_file(SAMPLE_MODEL)


@pytest.fixture(scope="session")
def bank_leads(data_store):
    """UCI bank marketing (45,211 clients), outcome 'y', every column, duration too. Read-only."""
    from lead_model import load_leads

    needs_bank()
    return load_leads(BANK_CSV, "y", store=data_store)


@pytest.fixture(scope="session")
def bank_leads_fair(bank_leads, data_store):
    """The bank data without duration (known only after the call: it leaks the outcome), re-encoded from the session store."""
    from lead_model import load_leads

    return load_leads(bank_leads.name, "y", store=data_store, exclude=["duration"])


@pytest.fixture(scope="session")
def bank_raw(bank_leads):
    """bank-full.csv as pandas reads it, one row per line of the file."""
    import pandas as pd

    return pd.read_csv(BANK_CSV)


# ----- brute force ------------------------------------------------------------------
def is_missing(raw) -> bool:
    return raw is None or (isinstance(raw, float) and math.isnan(raw)) or (isinstance(raw, str) and raw.strip().lower() in PLACEHOLDERS)


def _value_key(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def attribute_points(attr: dict, raw) -> int:
    """Points of one raw cell under one attribute of a model dict, by direct lookup."""
    if is_missing(raw):
        return attr.get("missing", {}).get("points", 0)
    if attr["kind"] == "numeric":
        x = float(raw)
        points = None
        for b in attr["bins"]:
            if b["min"] is None or x >= b["min"]:
                points = b.get("points", 0)
        return points
    if attr["kind"] == "boolean":
        key = "true" if str(raw).strip().lower() in TRUE_WORDS else "false"
    else:
        key = str(raw).strip()
    for level in attr.get("levels", []):
        if _value_key(level["value"]) == key:
            return level.get("points", 0)
    return attr.get("other", {}).get("points", 0)


def is_knocked_out(model: dict, row: dict, kinds: dict[str, str]) -> bool:
    """Whether any knock-out rule of a model dict disqualifies the raw row."""
    for rule in model.get("knockouts", []):
        raw = row[rule["attribute"]]
        if is_missing(raw):
            if rule.get("when_missing", False):
                return True
            continue
        kind = kinds[rule["attribute"]]
        if kind == "numeric":
            x = float(raw)
            if rule.get("below") is not None and x < rule["below"]:
                return True
            if rule.get("at_least") is not None and x >= rule["at_least"]:
                return True
            if rule.get("values") is not None and x in [float(v) for v in rule["values"]]:
                return True
        elif kind == "boolean":
            truth = "true" if str(raw).strip().lower() in TRUE_WORDS else "false"
            wanted = {_boolean_word(v) for v in rule.get("values") or ()}
            if truth in wanted:
                return True
        elif str(raw).strip() in {_value_key(v) for v in rule.get("values") or ()}:
            return True
    return False


def _boolean_word(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    low = str(value).strip().lower()
    return "true" if low in TRUE_WORDS else "false" if low in FALSE_WORDS else low


def brute_scores(model: dict, rows: list[dict], kinds: dict[str, str]) -> list[tuple[int, int, int, bool]]:
    """(total, fit, engagement, knocked_out) per raw row, caps applied as min per group then total."""
    caps = model.get("caps", {})
    out = []
    for row in rows:
        fit = sum(attribute_points(a, row[a["name"]]) for a in model["attributes"] if a["group"] == "fit")
        eng = sum(attribute_points(a, row[a["name"]]) for a in model["attributes"] if a["group"] == "engagement")
        if caps.get("fit") is not None:
            fit = min(fit, caps["fit"])
        if caps.get("engagement") is not None:
            eng = min(eng, caps["engagement"])
        total = fit + eng
        if caps.get("total") is not None:
            total = min(total, caps["total"])
        out.append((total, fit, eng, is_knocked_out(model, row, kinds)))
    return out


def band_of(score: int, bands: list[dict]) -> str:
    """The first band (highest first) whose min_score the score reaches."""
    for band in bands:
        if band["min_score"] is None or score >= band["min_score"]:
            return band["name"]
    raise AssertionError("the last band catches every score")


# ----- hypothesis strategies -----------------------------------------------------------
SEGMENTS = ["alpha", "beta", "gamma", "delta", "Beta", " gamma ", "N/A", "Select", "unknown", "", "--"]
OUTCOME_SPELLINGS = [("yes", "no"), ("1", "0"), ("Won", "Lost"), ("true", "false"), ("Converted", "Open")]
RANDOM_KINDS = {"segment": "categorical", "employees": "numeric", "ratio": "numeric", "newsletter": "boolean"}


@st.composite
def random_leads(draw, min_rows: int = 3, max_rows: int = 40) -> dict:
    """A small lead table: header, rows (raw cells), the outcome's positive spelling and converted flags."""
    n = draw(st.integers(min_rows, max_rows))
    pos, neg = draw(st.sampled_from(OUTCOME_SPELLINGS))
    outcome = draw(st.lists(st.sampled_from([True, False, None]), min_size=n, max_size=n))
    # both outcomes present among the kept rows
    outcome[0], outcome[1] = True, False
    seg = draw(st.lists(st.sampled_from(SEGMENTS), min_size=n, max_size=n))
    emp = draw(st.lists(st.one_of(st.none(), st.integers(-5, 60)), min_size=n, max_size=n))
    if all(v is None for v in emp):
        emp[0] = 7
    ratio = draw(st.lists(st.one_of(st.none(), st.integers(-30, 30).map(lambda i: i / 4)), min_size=n, max_size=n))
    if all(v is None for v in ratio):
        ratio[0] = 0.25
    yes, no = draw(st.sampled_from([("yes", "no"), ("Yes", "No"), ("Y", "N"), ("TRUE", "FALSE"), ("1", "0")]))
    news = draw(st.lists(st.sampled_from([yes, no, ""]), min_size=n, max_size=n))
    rows = [
        {
            "segment": seg[i], "employees": emp[i], "ratio": ratio[i], "newsletter": news[i],
            "converted": None if outcome[i] is None else (pos if outcome[i] else neg),
        }
        for i in range(n)
    ]
    order = draw(st.permutations(range(n)))
    rows = [rows[i] for i in order]
    return {"header": ["segment", "employees", "ratio", "newsletter", "converted"], "rows": rows}


def _points():
    return st.integers(-15, 15)


@st.composite
def random_models(draw) -> dict:
    """A model dict over some of the random_leads columns: random points, bins, caps, knock-outs, bands."""
    attrs = []
    names = draw(st.lists(st.sampled_from(list(RANDOM_KINDS)), unique=True, min_size=1, max_size=4))
    groups = st.sampled_from(["fit", "engagement"])
    for name in names:
        kind = RANDOM_KINDS[name]
        attr = {"name": name, "kind": kind, "group": draw(groups), "missing": {"points": draw(_points())}}
        if kind == "categorical":
            values = draw(st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", "Beta", "zeta"]), unique=True, max_size=5))
            attr["levels"] = [{"value": v, "points": draw(_points())} for v in values]
            attr["other"] = {"points": draw(_points())}
        elif kind == "boolean":
            values = draw(st.lists(st.sampled_from([True, False]), unique=True, max_size=2))
            attr["levels"] = [{"value": v, "points": draw(_points())} for v in values]
        else:
            lo, hi = (-6, 62) if name == "employees" else (-8, 8)
            mins = sorted(draw(st.sets(st.integers(lo, hi) if name == "employees" else st.integers(4 * lo, 4 * hi).map(lambda i: i / 4), max_size=4)))
            attr["bins"] = [{"min": None, "points": draw(_points())}] + [{"min": m, "points": draw(_points())} for m in mins]
        attrs.append(attr)
    caps = {k: draw(st.one_of(st.none(), st.integers(0, 30))) for k in ("fit", "engagement", "total")}
    knockouts = []
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(list(RANDOM_KINDS)))
        kind = RANDOM_KINDS[name]
        rule = {"attribute": name, "when_missing": draw(st.booleans())}
        if kind == "numeric":
            rule["below"] = draw(st.one_of(st.none(), st.integers(-5, 20)))
            rule["at_least"] = draw(st.one_of(st.none(), st.integers(20, 60)))
        elif kind == "boolean":
            rule["values"] = draw(st.lists(st.sampled_from([True, False, "yes", "No"]), max_size=1))
        else:
            rule["values"] = draw(st.lists(st.sampled_from(["alpha", "delta", "Beta"]), max_size=2))
        if rule.get("values") is None and rule.get("below") is None and rule.get("at_least") is None:
            rule["when_missing"] = True
        knockouts.append(rule)
    tier_mins = sorted(draw(st.sets(st.integers(-40, 60), max_size=3)), reverse=True)
    grade_mins = sorted(draw(st.sets(st.integers(-40, 60), max_size=3)), reverse=True)
    return {
        "attributes": attrs,
        "caps": caps,
        "knockouts": knockouts,
        "mql_threshold": draw(st.integers(-40, 60)),
        "tiers": [{"name": f"t{i}", "min_score": m} for i, m in enumerate(tier_mins)] + [{"name": "rest", "min_score": None}],
        "grades": [{"name": f"g{i}", "min_score": m} for i, m in enumerate(grade_mins)] + [{"name": "low", "min_score": None}],
    }


def load_random(data: dict, folder: Path):
    """Write a random_leads table to CSV and load it with every column's kind pinned."""
    from lead_model import load_leads
    from lead_model.data.roles import RoleOverride

    path = write_csv(folder / "leads.csv", data["header"], [[r[c] for c in data["header"]] for r in data["rows"]])
    roles = {name: RoleOverride(role="attribute", kind=kind) for name, kind in RANDOM_KINDS.items()}
    return load_leads(path, "converted", store=folder / "s.duckdb", roles=roles)


def random_table(data: dict) -> pa.Table:
    """A random_leads table as typed Arrow columns (ints, quarter floats, text), as a CSV reader gives it: empty cells are null."""
    return pa.table({c: [None if r[c] == "" else r[c] for r in data["rows"]] for c in data["header"]})


def build_random(data: dict):
    """A random_leads table encoded in memory (no CSV, no store) with every column's kind pinned, as load_random does."""
    from lead_model.data.leads import leads_from_table
    from lead_model.data.roles import RoleOverride

    roles = {name: RoleOverride(role="attribute", kind=kind) for name, kind in RANDOM_KINDS.items()}
    return leads_from_table(random_table(data), "converted", roles=roles)


def kept_rows(data: dict) -> tuple[list[dict], list[bool]]:
    """The rows with an outcome (the others are dropped at load) and their converted flags."""
    pos = next(r["converted"] for r in data["rows"] if r["converted"] is not None and _is_positive(r["converted"]))
    kept = [r for r in data["rows"] if r["converted"] is not None]
    return kept, [r["converted"] == pos for r in kept]


def _is_positive(value: str) -> bool:
    return value in {s[0] for s in OUTCOME_SPELLINGS}


# ----- real browsers -------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright, one per test module (the module's pytestmark skips it outside CI when chromium is missing)."""
    import browser_support as bs
    from playwright.sync_api import sync_playwright

    missing = bs.chromium_missing_reason()
    if missing:  # only reached under CI=true (skipped otherwise)
        pytest.fail(f"CI=true but the real-browser tests cannot run: {missing}")
    with sync_playwright() as pw:
        b = bs.launch_chromium(pw)
        try:
            yield b
        finally:
            b.close()


# ----- the app in AppTest -----------------------------------------------------------------
def start_app(monkeypatch, store: Path, data: Path | None = SAMPLE_CSV, timeout: int = 60):
    """app.py in AppTest with its store at ``store`` and ``data`` loaded on start (None: no data), run once and checked."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LEAD_MODEL_STORE", str(store))
    if data is not None:
        monkeypatch.setenv("LEAD_MODEL_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    assert not at.exception, at.exception
    return at
