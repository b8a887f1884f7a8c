"""Chart builders: they build from the small result tables, compile, carry the expected fields and typed channels."""

from __future__ import annotations

import json

import altair as alt
import pyarrow as pa
import pytest

from lead_model import backtest
from lead_model.charts import backtest as charts


@pytest.fixture(scope="module")
def results(tiny):
    from lead_model import ScoringModel
    from conftest import TINY_MODEL

    model = ScoringModel.from_dict(TINY_MODEL)
    other = model.with_points("industry", "Software", 0).replace(mql_threshold=20)
    return backtest(tiny, model), backtest(tiny, other)


def _encodings(spec: dict) -> list[dict]:
    """Every channel definition in a compiled spec (layers included)."""
    found = []
    for layer in spec.get("layer", [spec]):
        for channel in layer.get("encoding", {}).values():
            found += channel if isinstance(channel, list) else [channel]
    return found


def _fields(spec: dict) -> set[str]:
    return {c["field"] for c in _encodings(spec) if "field" in c}


def _check_typed(spec: dict) -> None:
    for c in _encodings(spec):
        if "field" in c and "type" not in c:
            assert c.get("bin") or list(c) == ["field"], f"untyped channel {c}"  # x2/y2 take the field only


def test_lift_chart(results):
    r, b = results
    chart = charts.lift_chart(r.deciles, b.deciles)
    assert isinstance(chart, alt.LayerChart)
    spec = chart.to_dict()
    assert {"decile", "lift", "model", "conversion_rate", "leads"} <= _fields(spec)
    assert spec["title"]["text"] == "Lift by decile"
    assert len(spec["layer"]) == 3  # bars, baseline line, 1x rule
    assert len(charts.lift_chart(r.deciles).to_dict()["layer"]) == 2
    _check_typed(spec)


def test_gains_chart_starts_at_zero_and_has_random(results):
    r, b = results
    data = charts.gains_data(r.deciles, b.deciles)["gains"]
    models = data["model"]
    assert models[:2] == [charts.RANDOM, charts.RANDOM] and models[-1] == charts.CURRENT
    assert data["share"][2] == 0.0 and data["recall"][2] == 0.0
    assert data["share"][-1] == pytest.approx(1.0) and data["recall"][-1] == pytest.approx(1.0)
    spec = charts.gains_chart(r.deciles, b.deciles).to_dict()
    assert {"share", "recall", "model"} <= _fields(spec)
    _check_typed(spec)
    # random is dashed through a field of its own: a strokeDash on "model" with legend=None would
    # merge with the colour legend and Vega would warn 'Conflicting legend property "disable"'
    enc = spec["encoding"]
    assert enc["strokeDash"]["field"] != enc["color"]["field"]
    assert [line for m, line in zip(data["model"], data["line"]) if m == charts.RANDOM] == [charts.DASHED] * 2
    assert set(line for m, line in zip(data["model"], data["line"]) if m != charts.RANDOM) == {charts.SOLID}


def test_threshold_chart_marks_the_threshold(results):
    r, _ = results
    spec = charts.threshold_chart(r.sweep, r.threshold).to_dict()
    assert {"threshold", "mql", "value", "metric", "precision", "recall"} <= _fields(spec)
    rule = charts.threshold_data(r.sweep, r.threshold)["rule"]
    assert rule["threshold"] == [r.threshold]
    assert spec["resolve"]["scale"]["y"] == "independent"
    _check_typed(spec)


def test_threshold_chart_thins_long_sweeps():
    import pandas as pd

    n = 5000
    sweep = pd.DataFrame({"threshold": range(n), "mql": range(n, 0, -1), "mql_rate": 0.5, "precision": 0.2, "recall": 0.7, "f1": 0.3, "lift": 2.0})
    data = charts.threshold_data(sweep, 10)
    kept = data["sweep"]["threshold"]
    assert len(kept) <= charts.MAX_SWEEP_POINTS and kept[0] == 0 and kept[-1] == n - 1
    assert len(data["rates"]["metric"]) == 2 * len(kept)


def test_distribution_chart_bins_scores_and_normalises_each_group(results):
    r, _ = results
    data = charts.distribution_data(r.score_distribution, r.threshold)["bars"]
    conv = [s for s, o in zip(data["share"], data["outcome"]) if o == "converted"]
    rest = [s for s, o in zip(data["share"], data["outcome"]) if o == "not converted"]
    assert sum(conv) == pytest.approx(1.0) and sum(rest) == pytest.approx(1.0)
    assert sum(data["leads"]) == r.leads - r.knocked_out
    spec = charts.distribution_chart(r.score_distribution, r.threshold).to_dict()
    assert {"start", "end", "share", "outcome"} <= _fields(spec)
    assert spec["layer"][0]["encoding"]["y2"] == {"datum": 0}  # bars stand on zero (a ranged x alone draws ticks)
    _check_typed(spec)


def test_axes_read_well_when_every_lead_has_the_same_score(tiny):
    """A starter model (all points 0) gives one score: axes must not print '0.000000' or '100.000000%'."""
    from lead_model import ScoringModel
    from lead_model.model.starter import starter_model

    r = backtest(tiny, starter_model(tiny))
    assert r.sweep["threshold"].nunique() == 1
    specs = [
        charts.threshold_chart(r.sweep, r.threshold).to_dict(),
        charts.distribution_chart(r.score_distribution, r.threshold).to_dict(),
        charts.gains_chart(r.deciles).to_dict(),
        charts.bands_chart(r.by_tier, "tier", "t", r.base_rate).to_dict(),
    ]
    formats = {c["field"]: c["axis"]["format"] for spec in specs for c in _encodings(spec) if "axis" in c and "format" in (c["axis"] or {})}
    assert formats["threshold"] == "d" and formats["start"] == "d"  # integer points
    assert all(f in ("d", "~%", "~s") for f in formats.values()), formats  # '%' alone prints six decimals on a flat domain


@pytest.mark.parametrize(("low", "high", "width"), [(0, 40, 1), (-30, 145, 5), (0, 500, 10), (0, 1000, 20), (-5000, 5000, 200)])
def test_score_bin_width(low, high, width):
    assert charts.score_bin_width(low, high) == width
    assert (high - low + 1) / width <= charts.MAX_SCORE_BARS


def test_bands_chart_keeps_band_order_with_error_bars(results):
    r, _ = results
    spec = charts.bands_chart(r.by_tier, "tier", "Conversion by tier", base_rate=r.base_rate).to_dict()
    assert {"label", "conversion_rate", "ci_low", "ci_high"} <= _fields(spec)
    x = spec["layer"][0]["encoding"]["x"]
    # the table's order (highest band first), not alphabetical nor the order Vega first met the bands in
    assert x["sort"] == {"field": "order", "op": "min"}
    assert all(layer["encoding"]["x"]["sort"] == x["sort"] for layer in spec["layer"] if "x" in layer["encoding"])
    bands = charts.bands_data(r.by_tier, "tier", r.base_rate)["bands"]
    assert bands["band"] == [str(t) for t in r.by_tier["tier"]]
    assert list(bands["order"]) == list(range(len(r.by_tier)))
    assert any(layer["mark"]["type"] == "rule" and "y2" in layer["encoding"] for layer in spec["layer"])
    _check_typed(spec)
    labels = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert len(labels) == 1 and labels[0]["encoding"]["text"]["field"] == "rate_text"  # the rate is written on each bar
    assert bands["rate_text"] == [f"{x:.1%}" if x == x else "–" for x in r.by_tier["conversion_rate"]]  # "–" for an empty band, not "NaN%"
    assert labels[0]["encoding"]["y"] == {"value": -6}  # in a row above the plot: never on the average line, never out of the plot's top
    assert spec["title"]["offset"] == charts.BAND_LABEL_ROW
    assert all(layer["mark"].get("clip") for layer in spec["layer"] if layer["mark"]["type"] == "bar")
    assert len(spec["layer"]) == 4  # bars, 95% intervals, rate labels, average line
    grades = charts.bands_chart(r.by_grade, "grade", "Conversion by grade").to_dict()
    assert len(grades["layer"]) == 3  # no average line without a base rate


def test_specs_change_only_in_their_data(results):
    """The app's fast path: the same chart for two models differs only in its datasets."""
    r, b = results
    pairs = [
        (charts.lift_spec(r.deciles, b.deciles), charts.lift_spec(b.deciles, r.deciles)),
        (charts.gains_spec(r.deciles), charts.gains_spec(b.deciles)),
        (charts.threshold_spec(r.sweep, r.threshold), charts.threshold_spec(b.sweep, b.threshold)),
        (charts.distribution_spec(r.score_distribution, 3), charts.distribution_spec(b.score_distribution, 40)),
        (charts.bands_spec(r.by_tier, "tier", "t", r.base_rate), charts.bands_spec(b.by_tier, "tier", "t", b.base_rate)),
    ]
    for one, two in pairs:
        strip = lambda s: json.dumps({k: v for k, v in s.items() if k != "datasets"}, sort_keys=True)  # noqa: E731
        assert strip(one) == strip(two)
        assert all(isinstance(t, pa.Table) and t.num_rows > 0 for t in one["datasets"].values())
        names = {d["data"]["name"] for d in one.get("layer", [one]) if "data" in d}
        assert names <= set(one["datasets"])


def test_chart_data_stays_small_whatever_the_number_of_leads():
    """Charts are drawn from the threshold / decile / score tables, thinned, never from per-lead rows."""
    import numpy as np
    import pandas as pd

    n = 20_000  # thresholds and distinct scores, as a model with a very wide score range would give
    sweep = pd.DataFrame({"threshold": np.arange(n), "mql": np.arange(n, 0, -1), "mql_rate": 0.5, "precision": 0.2, "recall": 0.7, "f1": 0.3, "lift": 2.0})
    distribution = pd.DataFrame({"score": np.arange(n), "converted": 1, "not_converted": 50})
    specs = [charts.threshold_spec(sweep, 10), charts.distribution_spec(distribution, 10)]
    for spec in specs:
        rows = sum(t.num_rows for t in spec["datasets"].values())
        assert rows <= 1_000, rows  # whatever n is


def test_spec_datasets_match_the_chart_data(results):
    r, b = results
    spec = charts.lift_spec(r.deciles, b.deciles)
    current = spec["datasets"]["current"].to_pydict()
    assert current["lift"] == pytest.approx(r.deciles["lift"].tolist(), nan_ok=True)
    assert set(current["model"]) == {charts.CURRENT}


def test_confusion_sentence():
    from types import SimpleNamespace

    r = SimpleNamespace(mql=1240, mql_converted=310, missed=95, knocked_out=0, knocked_out_converted=0)
    assert charts.confusion_sentence(r) == "Of 1,240 MQLs, 310 converted (25.0%); 95 conversions were missed below the threshold."
    r = SimpleNamespace(mql=0, mql_converted=0, missed=12, knocked_out=30, knocked_out_converted=2)
    assert charts.confusion_sentence(r) == (
        "Of 0 MQLs, 0 converted; 10 conversions were missed below the threshold, and 2 of the 30 knocked-out leads converted."
    )
    r = SimpleNamespace(mql=1, mql_converted=1, missed=1, knocked_out=1, knocked_out_converted=0)
    assert charts.confusion_sentence(r) == (
        "Of 1 MQL, 1 converted (100.0%); 1 conversion was missed below the threshold, and 0 of the 1 knocked-out lead converted."
    )


def test_confusion_sentence_matches_the_backtest(results):
    r, _ = results
    text = charts.confusion_sentence(r)
    assert text.startswith(f"Of {r.mql:,} MQLs, {r.mql_converted:,} converted")
    assert f"{r.missed - r.knocked_out_converted:,} conversion" in text


def test_an_empty_band_is_labelled_with_a_dash():
    import math

    import pandas as pd

    table = pd.DataFrame({"tier": ["hot", "cold"], "leads": [0, 10], "share": [0.0, 1.0], "converted": [0, 2],
                          "conversion_rate": [math.nan, 0.2], "ci_low": [math.nan, 0.05], "ci_high": [math.nan, 0.5]})
    assert charts.bands_data(table, "tier")["bands"]["rate_text"] == ["–", "20.0%"]
