"""Review periods: labels, the parser of labels people type (property-tested), lead counts per period and leads without a date."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import TINY_ROWS
from lead_model.data.leads import leads_from_table
from lead_model.data.roles import RoleOverride
from lead_model.errors import LeadModelError
from lead_model.review import parse_period, period_label, periods


def dated_leads(dates: list[str | None], converted: list[bool] | None = None):
    n = len(dates)
    converted = converted if converted is not None else [i % 2 == 0 for i in range(n)]
    return leads_from_table(pd.DataFrame({
        "created": [dt.date.fromisoformat(d) if d else None for d in dates],
        "segment": ["a" if i % 3 else "b" for i in range(n)],
        "converted": ["yes" if c else "no" for c in converted],
    }), "converted", roles={"created": RoleOverride(role="created")})  # pinned: a single date would be ignored as constant


def test_labels_by_hand():
    assert period_label(2024 * 4, "quarter") == "2024-Q1"
    assert period_label(2025 * 4 + 3, "quarter") == "2025-Q4"
    assert period_label(2024 * 12, "month") == "2024-01"
    assert period_label(2024 * 12 + 11, "month") == "2024-12"
    assert parse_period("2024-Q3", "quarter") == 2024 * 4 + 2
    assert parse_period(" 2024q3 ", "quarter") == 2024 * 4 + 2
    assert parse_period("2024-07", "month") == 2024 * 12 + 6
    assert parse_period("2024-7", "month") == 2024 * 12 + 6


@pytest.mark.parametrize("text, by, words", [
    ("2024-Q5", "quarter", "is not a quarter; write it like 2024-Q1"),
    ("Q1 2024", "quarter", "is not a quarter"),
    ("2024-13", "month", "is not a month; write it like 2024-01"),
    ("2024-03", "quarter", "is a month but the review is by quarter"),
    ("2024-Q1", "month", "is a quarter but the review is by month"),
    ("", "month", "is not a month"),
])
def test_malformed_labels_are_one_sentence(text, by, words):
    with pytest.raises(LeadModelError, match=words):
        parse_period(text, by, ("2024-01", "2025-12"))


def test_an_unknown_by_is_one_sentence():
    with pytest.raises(LeadModelError, match="review by quarter or by month"):
        period_label(1, "week")


@given(st.integers(0, 9999 * 4 + 3))
def test_quarter_labels_round_trip(code):
    assert parse_period(period_label(code, "quarter"), "quarter") == code


@given(st.integers(0, 9999 * 12 + 11))
def test_month_labels_round_trip(code):
    assert parse_period(period_label(code, "month"), "month") == code


@given(st.text(max_size=12), st.sampled_from(["quarter", "month"]))
def test_any_text_parses_to_a_period_or_one_sentence(text, by):
    try:
        code = parse_period(text, by)
    except LeadModelError as exc:
        assert str(exc).endswith(".") and "\n" not in str(exc)
        return
    # whatever was accepted is written with the year and the quarter or month of its canonical label
    assert parse_period(period_label(code, by), by) == code
    if by == "quarter":
        assert re.sub(r"[\s-]", "", text).upper() == period_label(code, by).replace("-", "")
    else:
        year, month = re.split(r"\s*-\s*", text.strip())
        assert (int(year), int(month)) == (code // 12, code % 12 + 1)


@given(st.lists(st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31))), min_size=2, max_size=30),
       st.sampled_from(["quarter", "month"]))
def test_period_counts_equal_a_brute_force_count(dates, by):
    if all(d is None for d in dates):
        dates[0] = dt.date(2024, 2, 29)
    leads = dated_leads([d.isoformat() if d else None for d in dates], [True, False] * (len(dates) // 2) + [True] * (len(dates) % 2))
    p = periods(leads, by)
    # brute force: label each raw date by hand
    label = (lambda d: f"{d.year}-Q{(d.month - 1) // 3 + 1}") if by == "quarter" else (lambda d: f"{d.year}-{d.month:02d}")
    expected = pd.Series([label(d) for d in dates if d is not None]).value_counts()
    got = dict(zip(p.labels, p.leads_per_period().tolist()))
    assert {k: v for k, v in got.items() if v} == expected.to_dict()
    assert p.labels[0] == min(expected.index) and p.labels[-1] == max(expected.index)
    assert list(p.labels) == sorted(p.labels)  # time order (labels of one kind sort as text)
    assert p.undated == sum(d is None for d in dates)
    assert len(p.labels) == p.position(p.labels[-1]) + 1  # no gaps: every period from the first to the last


def test_tiny_fixture_by_quarter_and_month(tiny):
    q = periods(tiny, "quarter")
    assert q.labels == ("2024-Q1", "2024-Q2")
    raw = pd.DataFrame(TINY_ROWS, columns=["lead_id", "created", *"abcd", "converted"])
    months = pd.to_datetime(raw["created"]).dt.strftime("%Y-%m").value_counts()
    m = periods(tiny, "month")
    assert m.labels == ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06")
    assert dict(zip(m.labels, m.leads_per_period().tolist())) == months.to_dict()
    assert q.leads_per_period().tolist() == [7, 5]
    assert q.undated == 0 and q.undated_sentence() is None


def test_a_gap_is_a_period_with_no_leads_and_undated_leads_are_counted_apart():
    leads = dated_leads(["2024-01-15", "2024-04-02", None, "2024-04-30"])
    p = periods(leads, "month")
    assert p.labels == ("2024-01", "2024-02", "2024-03", "2024-04")
    assert p.leads_per_period().tolist() == [1, 0, 0, 2]
    assert p.undated == 1
    assert p.undated_sentence() == "1 lead has no created date (created): counted apart, in no period."
    assert int((p.index == -1).sum()) == 1


def test_labels_outside_the_data_name_its_span(tiny):
    p = periods(tiny, "quarter")
    with pytest.raises(LeadModelError, match=r"^2024-Q3 is outside the data, which runs from 2024-Q1 to 2024-Q2; pick a quarter in that range\.$"):
        p.position("2024-Q3")
    with pytest.raises(LeadModelError, match=r"\(the data runs from 2024-Q1 to 2024-Q2\)"):
        p.position("2024-04")
    assert p.label(None, -1) == "2024-Q2" and p.label("2024q1", 0) == "2024-Q1"
    assert p.mask("2024-Q2").sum() == 5


def test_data_without_a_created_date_is_one_sentence(bank_leads):
    with pytest.raises(LeadModelError) as err:
        periods(bank_leads, "quarter")
    message = str(err.value)
    assert message.startswith(f"'{bank_leads.name}' has no created date column")
    assert "pick one on the Data page (its role: created) or load the file again with lead-model load FILE --created COLUMN." in message and "\n" not in message
