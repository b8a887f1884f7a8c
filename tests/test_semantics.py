"""The scoring contract: missing values, numbers, yes/no words and bin labels in one place."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lead_model import LeadModelError, ScoringModel
from lead_model.model.semantics import DEFAULT_SEMANTICS, MISSING_LABEL, OTHER_LABEL, Semantics, bin_label, edge_labels, parse_number


def test_labels_are_the_ones_every_table_uses():
    assert (MISSING_LABEL, OTHER_LABEL) == ("(missing)", "(other)")
    assert edge_labels([5, 20]) == ["< 5", "5 to < 20", ">= 20"]
    assert edge_labels([]) == ["any"]
    assert bin_label([None, 0.5], 1) == ">= 0.5"


@pytest.mark.parametrize("text, value", [("12", 12.0), (" 1,234.5 ", 1234.5), ("-3", -3.0), ("1e3", 1000.0), ("abc", math.nan),
                                         ("1_000", math.nan), ("inf", math.nan), ("nan", math.nan), ("1,2,3x", math.nan), ("", math.nan)])
def test_parse_number(text, value):
    got = parse_number(text)
    assert (math.isnan(got) and math.isnan(value)) or got == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_parse_number_reads_back_any_float_python_writes(x):
    assert parse_number(repr(x)) == x


def test_missing_and_boolean_words_compare_trimmed_and_ignoring_case():
    s = DEFAULT_SEMANTICS
    assert s.is_missing("  N/A ") and s.is_missing(None) and s.is_missing("") and not s.is_missing("VP")
    assert s.boolean(" Yes") is True and s.boolean("N") is False and s.boolean("maybe") is None
    custom = Semantics(missing_values=["TBC"], true_values=["Oui"], false_values=["Non"])
    assert custom.missing_values == ("tbc",) and custom.boolean("OUI") is True


def test_a_word_cannot_mean_both_true_and_false():
    with pytest.raises(LeadModelError, match="both true and false"):
        ScoringModel.from_dict({"semantics": {"true_values": ["y"], "false_values": ["y"]}})


@pytest.mark.parametrize("field, value", [("trim", False), ("bins", "min < value <= next min"), ("case_sensitive_levels", False)])
def test_rules_this_version_cannot_honour_are_refused_by_name(field, value):
    with pytest.raises(LeadModelError, match=f"semantics.{field}"):
        ScoringModel.from_dict({"semantics": {field: value}})


@pytest.mark.parametrize("caps, words", [({"fit": -1}, "cannot be below zero"), ({"total": 10**30}, "larger than any score"),
                                         ({"engagement": "50"}, "caps.engagement"), ({"fit": True}, "caps.fit")])
def test_the_caps_rule_lives_in_the_schema(caps, words):
    with pytest.raises(LeadModelError, match=words):
        ScoringModel.from_dict({"caps": caps})


@pytest.mark.parametrize("threshold", [True, "50", 10**30])
def test_a_threshold_must_be_a_whole_number_of_points(threshold):
    with pytest.raises(LeadModelError, match="mql_threshold"):
        ScoringModel.from_dict({"mql_threshold": threshold})


# ----- the rules as data, which the SQL export compiles (lead_model/export/sql.py) ---------------
def _float_reading(text: str) -> float:
    """The number rule as first written with float(): an independent reading for ASCII text."""
    text = text.strip()
    if "_" in text:
        return math.nan
    plain = text.replace(",", "")
    try:
        value = float(plain) if "," in text and plain.replace(".", "", 1).lstrip("-").isdigit() else float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


@given(st.text("0123456789,.-+eE _\t", max_size=9))
def test_number_pattern_reads_ascii_text_as_float_does(text):
    expected, got = _float_reading(text), parse_number(text)
    assert (math.isnan(expected) and math.isnan(got)) or expected == got


@pytest.mark.parametrize("text", ["١٢", "１２", "1_000", "inf", "-Infinity", "nan", "1e400", "12\u00ad", "\u200b12", "0x10", "1,2e3", "+1,000"])
def test_number_pattern_leaves_out_what_no_warehouse_reads(text):
    assert math.isnan(parse_number(text))


def test_white_space_and_case_folds_are_what_arrow_trims_and_lowers():
    import pyarrow as pa
    import pyarrow.compute as pc

    from lead_model.model.semantics import ASCII_CASE_FOLDS, WHITESPACE

    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    trimmed = pc.utf8_trim_whitespace(pa.array([f"{c}x{c}" for c in chars])).to_pylist()
    assert {c for c, t in zip(chars, trimmed) if t == "x"} == set(WHITESPACE) == {c for c in chars if c.isspace()}
    lowered = pc.utf8_lower(pa.array(chars)).to_pylist()
    assert {c: lo for c, lo in zip(chars, lowered) if not c.isascii() and lo.isascii()} == ASCII_CASE_FOLDS
