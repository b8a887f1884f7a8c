"""Data quality: overview, column table, level tables and the leak rules, on data whose answers are known by hand."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from conftest import write_csv
from lead_model import load_leads
from lead_model.data import quality
from lead_model.data.leaks import leak_check, leak_table
from lead_model.data.roles import infer_roles
from lead_model.model.schema import Attribute

# 400 leads, the first 100 converted (rows are shuffled when written). Per column, by hand:
#   segment   converted: 75 A, 20 B, 5 missing      others: 125 A, 130 B, 45 missing (20 'N/A', 25 empty)
#   band      converted: 75 hi, 25 lo               others: 25 hi, 275 lo           -> AUC 0.8333 alone
#   deal_size a value for every converted lead, none for the others                 -> the leak
#   visits    i % 12 for every lead: no signal
#   newsletter converted: yes when i is even (50)   others: yes when j % 4 == 0 (75)
#   lead_id   unique except 5 rows repeating earlier ids; notes: one text per lead (high cardinality)
HEADER = ["lead_id", "created", "segment", "band", "deal_size", "visits", "newsletter", "notes", "converted"]


def _rows() -> list[list]:
    rows = []
    for i in range(400):
        converted = i < 100
        j = i - 100
        if converted:
            segment = "A" if i < 75 else "B" if i < 95 else ""
            band = "hi" if i < 75 else "lo"
            deal = 1000 + 10 * i
            newsletter = "yes" if i % 2 == 0 else "no"
        else:
            segment = "A" if j < 125 else "B" if j < 255 else ("N/A" if j < 275 else "")
            band = "hi" if j < 25 else "lo"
            deal = None
            newsletter = "yes" if j % 4 == 0 else "no"
        lead_id = f"L{i:04d}" if i < 395 else f"L{i - 395:04d}"
        created = date(2024, 1, 1) + timedelta(days=i % 90)
        rows.append([lead_id, created.isoformat(), segment, band, deal, i % 12, newsletter, f"note {i}", "yes" if converted else "no"])
    order = sorted(range(400), key=lambda i: (i * 37) % 400)
    return [rows[i] for i in order]


@pytest.fixture(scope="module")
def leads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quality")
    return load_leads(write_csv(folder / "known.csv", HEADER, _rows()), store=folder / "s.duckdb")


def test_overview(leads):
    ov = quality.overview(leads)
    assert (ov.rows, ov.leads, ov.converted) == (400, 400, 100)
    assert ov.conversion_rate == pytest.approx(0.25)
    assert ov.duplicate_leads == 5 and ov.id_column == "lead_id"
    assert str(ov.first_created) == "2024-01-01" and str(ov.last_created) == "2024-03-30"
    table = ov.table()
    assert list(table.columns) == ["measure", "value"]
    assert table.set_index("measure").loc["conversion rate", "value"] == "25.0%"


def test_column_quality(leads):
    t = quality.column_quality(leads).set_index("column")
    assert t.loc["segment", "missing"] == 50
    assert t.loc["segment", "missing_share"] == pytest.approx(50 / 400)
    assert t.loc["segment", "placeholder_share"] == pytest.approx(20 / 400)
    assert "'N/A' (20)" in t.loc["segment", "placeholders"]
    assert t.loc["deal_size", "missing_share"] == pytest.approx(300 / 400)
    assert bool(t.loc["notes", "high_cardinality"]) and t.loc["notes", "role"] == "ignore"
    assert not bool(t.loc["segment", "high_cardinality"])
    assert t.loc["lead_id", "role"] == "id" and t.loc["converted", "role"] == "outcome"


def test_level_table_categorical_lists_unlisted_values_and_other(leads):
    attr = Attribute(name="segment", kind="categorical", group="fit", levels=[{"value": "A", "points": 10}, {"value": "C", "points": 5}], other={"points": -2}, missing={"points": -7})
    t = quality.level_table(leads, attr)
    assert t["label"].tolist() == ["A", "C", "B", "(other)", "(missing)"]
    assert t["value"].tolist() == ["A", "C", "B", "__other__", "__missing__"]
    assert t["listed"].tolist() == [True, True, False, True, True]
    assert t["points"].tolist() == [10, 5, -2, -2, -7]  # the unlisted value scores 'other'
    assert t["leads"].tolist() == [200, 0, 150, 150, 50]
    assert t["converted"].tolist() == [75, 0, 20, 20, 5]
    assert t["conversion_rate"].iloc[0] == pytest.approx(75 / 200)
    assert math.isnan(t["conversion_rate"].iloc[1])


def test_level_table_numeric_and_boolean(leads):
    visits = Attribute(name="visits", kind="numeric", group="engagement", bins=[{"min": None, "points": 0}, {"min": 4, "points": 5}, {"min": 10, "points": 9}])
    t = quality.level_table(leads, visits)
    assert t["label"].tolist() == ["< 4", "4 to < 10", ">= 10", "(missing)"]
    assert t["value"].tolist() == ["bin:0", "bin:1", "bin:2", "__missing__"]
    # i % 12 over 400 leads: values 0..3 -> 134 leads (i = 0..399: 34 full cycles of 12, then 0..3 once more)
    counts = np.bincount(np.arange(400) % 12, minlength=12)
    assert t["leads"].tolist() == [counts[:4].sum(), counts[4:10].sum(), counts[10:].sum(), 0]
    news = Attribute(name="newsletter", kind="boolean", group="engagement", levels=[{"value": True, "points": 3}])
    t = quality.level_table(leads, news)
    assert t["label"].tolist() == ["true", "false", "(missing)"]
    assert t["value"].tolist()[:2] == [True, False]
    assert t["listed"].tolist() == [True, False, True]
    assert t["leads"].tolist() == [125, 275, 0]
    assert t["converted"].tolist() == [50, 50, 0]


def test_single_attribute_auc_by_hand(leads):
    power = quality.attribute_power(leads).set_index("column")
    # segment, levels by rate: missing 5/50, B 20/150, A 75/200; P = 100, N = 300
    expected = (45 * (95 + 2.5) + 130 * (75 + 10) + 125 * (0 + 37.5)) / (100 * 300)
    assert power.loc["segment", "auc"] == pytest.approx(expected)
    assert power.loc["band", "auc"] == pytest.approx((275 * (75 + 12.5) + 25 * 37.5) / 30000)
    assert power.loc["deal_size", "auc"] == pytest.approx(1.0)
    assert power.loc["segment", "present_converted"] == pytest.approx(0.95)
    assert power.loc["segment", "present_not_converted"] == pytest.approx(255 / 300)
    assert power.index[0] == "deal_size"  # strongest first


def test_leak_rules(leads):
    leaks = leak_table(leak_check(leads)).set_index("column")
    assert set(leaks.index) == {"deal_size", "band"}
    assert leaks.loc["deal_size", "rules"] == "fill rate, pure level, alone"
    assert "has a value for 100% of converted leads but 0% of the others" in leaks.loc["deal_size", "evidence"]
    assert "'(missing)' (300 leads) converts at 0.0%" in leaks.loc["deal_size", "evidence"]
    assert leaks.loc["band", "rules"] == "alone"  # strong, but neither pure nor patterned by missingness
    assert "AUC 0.83" in leaks.loc["band", "evidence"]


def test_no_leaks_is_an_empty_table(tmp_path):
    rows = [[f"L{i}", "yes" if i % 4 == 0 else "no", ["a", "b", "c"][i % 3]] for i in range(200)]
    clean = load_leads(write_csv(tmp_path / "clean.csv", ["lead_id", "converted", "segment"], rows), store=tmp_path / "s.duckdb")
    leaks = leak_table(leak_check(clean))
    assert leaks.empty and list(leaks.columns) == ["column", "auc", "rules", "evidence"]


def test_sample_flags_opportunity_amount_only(sample_leads, sample_model):
    sample = sample_leads
    assert infer_roles(sample.profiles)["converted"].role == "outcome"  # found without being named
    leaks = leak_table(leak_check(sample))
    assert leaks["column"].tolist() == ["opportunity_amount"]
    for attr in sample_model.attributes:  # every slider's table adds up to all leads
        t = quality.level_table(sample, attr)
        # categorical: 'other' already counts the unlisted values, so they are left out
        parts = t[t["listed"]] if attr.kind == "categorical" else t
        assert parts["leads"].sum() == sample.n_leads, attr.name


def test_bank_marketing_flags_duration(bank_leads):
    bank = bank_leads
    assert infer_roles(bank.profiles)["y"].role == "outcome"  # found without being named
    leaks = leak_table(leak_check(bank)).set_index("column")
    assert "duration" in leaks.index
    assert "pure level" in leaks.loc["duration", "rules"]
    assert set(leaks.index) == {"duration"}


def test_one_leak_verdict_for_the_data_page_the_statistics_and_suggestions(sample_leads, bank_leads):
    """The statistics (CLI stats, Suggestions page) and the suggester follow the Data page's verdicts, word for word."""
    from lead_model.data.leaks import leaky_columns
    from lead_model.suggest.fit import suggest
    from lead_model.suggest.stats import attribute_statistics

    for leads in (sample_leads, bank_leads):
        verdicts = leak_check(leads)
        stats = attribute_statistics(leads).attributes.set_index("attribute")
        assert stats.index[stats["leaky"]].tolist() and set(stats.index[stats["leaky"]]) == set(leaky_columns(verdicts))
        for name in leaky_columns(verdicts):
            assert stats.loc[name, "leak_evidence"] == verdicts[name].evidence
        s = suggest(leads, max_attributes=4)
        why = s.points.left_out.set_index("attribute")["why"]
        for name in leaky_columns(verdicts):
            assert verdicts[name].evidence.rstrip(".") in why[name]
