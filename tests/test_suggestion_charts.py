"""Suggestion charts: the conversion-by-level chart carries Wilson intervals and the base rate; the points chart both sides."""

from __future__ import annotations

import math

import pandas as pd

from lead_model.charts.suggestions import level_rate_chart, points_comparison_chart


def levels() -> pd.DataFrame:
    return pd.DataFrame({
        "attribute": "colour", "level": ["(missing)", "red", "blue"], "leads": [10, 200, 90], "conversion_rate": [0.1, 0.3, 0.05],
        "ci_low": [0.02, 0.24, 0.02], "ci_high": [0.4, 0.37, 0.12],
    })


def test_level_rate_chart_layers_bars_intervals_and_base_rate():
    spec = level_rate_chart(levels(), 0.17).to_dict()
    bars, errors, base = spec["layer"]
    assert bars["mark"]["type"] == "bar" and bars["encoding"]["x"]["field"] == "conversion_rate"
    assert errors["mark"]["type"] == "errorbar"
    assert errors["encoding"]["x"]["field"] == "ci_low" and errors["encoding"]["x2"]["field"] == "ci_high"
    assert bars["encoding"]["y"]["sort"] == ["(missing)", "red", "blue"]  # levels keep the table's order
    assert base["mark"]["type"] == "rule" and base["encoding"]["x"]["field"] == "base_rate"
    data = {name: rows for name, rows in spec["datasets"].items()}
    assert [0.17] == [r["base_rate"] for rows in data.values() for r in rows if "base_rate" in r]
    rows = next(rows for rows in data.values() if rows and "level" in rows[0])
    assert [(r["level"], r["ci_low"], r["ci_high"]) for r in rows] == [("(missing)", 0.02, 0.4), ("red", 0.24, 0.37), ("blue", 0.02, 0.12)]


def test_points_comparison_chart_shows_suggested_and_current_and_drops_unknown_current():
    table = pd.DataFrame({
        "attribute": ["colour"] * 3 + ["size"], "level": ["(missing)", "red", "blue", "big"],
        "current_points": [0.0, 10.0, math.nan, 5.0], "suggested_points": [0, 12, 3, 7],
    })
    spec = points_comparison_chart(table, "colour").to_dict()
    rows = next(iter(spec["datasets"].values()))
    got = sorted((r["level"], r["which"], r["points"]) for r in rows)
    assert got == sorted([("(missing)", "suggested", 0.0), ("red", "suggested", 12.0), ("blue", "suggested", 3.0),
                          ("(missing)", "current", 0.0), ("red", "current", 10.0)])
    assert spec["encoding"]["y"]["sort"] == ["(missing)", "red", "blue"]


def test_points_comparison_chart_leaves_out_levels_no_lead_has():
    table = pd.DataFrame({"attribute": "colour", "level": ["(missing)", "red", "(other)"], "current_points": [0.0, 10.0, 0.0],
                          "suggested_points": [4, 12, 4], "leads": [0, 50, 0]})
    spec = points_comparison_chart(table, "colour").to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert {r["level"] for r in rows} == {"red"} and spec["encoding"]["y"]["sort"] == ["red"]


def test_level_names_are_not_cut_on_the_axis():
    """Vega cuts axis labels at 180 px by default ('Individual Contri…'); both charts allow long level names."""
    from lead_model.charts.suggestions import LEVEL_LABEL_LIMIT

    long = levels().assign(level=["(missing)", "Individual Contributor", "blue"])
    spec = level_rate_chart(long, 0.17).to_dict()
    assert spec["layer"][0]["encoding"]["y"]["axis"]["labelLimit"] == LEVEL_LABEL_LIMIT >= 300
    table = pd.DataFrame({"attribute": "colour", "level": ["Individual Contributor", "red"], "suggested_points": [5, 1], "current_points": [0, 1]})
    assert points_comparison_chart(table, "colour").to_dict()["encoding"]["y"]["axis"]["labelLimit"] == LEVEL_LABEL_LIMIT
