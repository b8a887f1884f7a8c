"""The incremental score grid: after any sequence of moves on one engine, every number equals a brute-force recount."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import RANDOM_KINDS, brute_scores, kept_rows, load_random, random_leads, random_models
from hypothesis import given, settings
from hypothesis import strategies as st
from test_backtest import assert_backtest_matches

from lead_model import ScoringEngine, ScoringModel, backtest, load_leads
from lead_model.engine import histograms as hist
from lead_model.engine.histograms import count_scores

SAMPLE = "sample_data/leads.csv"


def move_values(model: ScoringModel) -> list[tuple[str, object]]:
    """Every (attribute, value) a points slider can move, in with_points' spelling."""
    out = []
    for a in model.attributes:
        out.append((a.name, "__missing__"))
        if a.kind == "numeric":
            out += [(a.name, f"bin:{i}") for i in range(len(a.bins))]
        else:
            out += [(a.name, lv.value) for lv in a.levels]
            if a.kind == "categorical":
                out += [(a.name, "__other__"), (a.name, "zeta"), (a.name, "alpha")]
    return out


@st.composite
def moves(draw, model_dict: dict) -> list[tuple]:
    """Slider moves mixed with the occasional cap, knock-out or threshold change."""
    model = ScoringModel.from_dict(model_dict)
    values = move_values(model)
    steps = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["points"] * 6 + ["caps", "knockouts", "threshold"]))
        if kind == "points":
            name, value = draw(st.sampled_from(values))
            steps.append(("points", name, value, draw(st.integers(-25, 25))))
        elif kind == "caps":
            steps.append(("caps", {k: draw(st.one_of(st.none(), st.integers(0, 40))) for k in ("fit", "engagement", "total")}))
        elif kind == "knockouts":
            steps.append(("knockouts", draw(st.sampled_from([(), ({"attribute": "segment", "values": ["alpha"]},), ({"attribute": "employees", "below": 10},)]))))
        else:
            steps.append(("threshold", draw(st.integers(-40, 60))))
    return steps


def apply(model: ScoringModel, step: tuple) -> ScoringModel:
    if step[0] == "points":
        return model.with_points(step[1], step[2], step[3])
    if step[0] == "caps":
        return model.replace(caps=step[1])
    if step[0] == "knockouts":
        return model.replace(knockouts=list(step[1]))
    return model.replace(mql_threshold=step[1])


@pytest.fixture(scope="module")
def always_delta():
    """Take the incremental path for any move, however many leads it touches (tiny data)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hist, "DELTA_MAX_SHARE", 1.0)
        yield


def valid_caps(model_dict: dict) -> dict:
    """Caps are 0 or more points (or none)."""
    caps = {k: (v if v is None or v >= 0 else 0) for k, v in model_dict.get("caps", {}).items()}
    return {**model_dict, "caps": caps}


def replay_moves(tmp_path_factory, data, model_dict, script) -> list[str]:
    """Backtest after each of a random sequence of moves on one engine, each against brute force; how each was counted."""
    leads = load_random(data, tmp_path_factory.mktemp("moves"))
    kept, y = kept_rows(data)
    model_dict = valid_caps(model_dict)
    model = ScoringModel.from_dict(model_dict)
    engine = ScoringEngine(leads, model)
    assert_backtest_matches(backtest(leads, model, engine), model.to_dict(), brute_scores(model.to_dict(), kept, RANDOM_KINDS), y)
    kinds = []
    for step in script.draw(moves(model_dict)):
        model = apply(model, step)
        r = backtest(leads, model, engine)
        kinds.append(hist.score_counter(engine).last_move)
        assert_backtest_matches(r, model.to_dict(), brute_scores(model.to_dict(), kept, RANDOM_KINDS), y)
        assert same_histograms(r.histograms, count_scores(ScoringEngine(leads, model), model))
    return kinds


@settings(max_examples=60, deadline=None)
@given(data=random_leads(min_rows=6), model_dict=random_models(), script=st.data())
def test_any_sequence_of_moves_matches_brute_force(tmp_path_factory, always_delta, data, model_dict, script):
    replay_moves(tmp_path_factory, data, model_dict, script)


@settings(max_examples=60, deadline=None)
@given(data=random_leads(min_rows=6), model_dict=random_models(), script=st.data())
def test_any_sequence_of_moves_on_1d_histograms_matches_brute_force(tmp_path_factory, always_delta, data, model_dict, script):
    """The path for wide score ranges (every grid counts as too large): caps, knock-outs and moves replayed against brute force."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hist, "GRID_MAX_CELLS", 0)
        kinds = replay_moves(tmp_path_factory, data, model_dict, script)
    assert set(kinds) <= {"delta", "recount"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    leads = load_leads(SAMPLE, "converted", store=folder / "s.duckdb", exclude=["opportunity_amount"])
    return leads, ScoringModel.from_file("sample_data/sample_model.yaml")


def same_histograms(a, b) -> bool:
    return (a.low, a.fit_low, a.knocked_out, a.knocked_out_converted) == (b.low, b.fit_low, b.knocked_out, b.knocked_out_converted) and all(
        np.array_equal(getattr(a, f), getattr(b, f)) for f in ("leads", "converted", "fit_leads", "fit_converted")
    )


def test_slider_moves_on_the_sample_are_incremental_and_exact(sample):
    """50,000 leads, knock-outs and caps in the model: 40 slider moves touch only the moved level's leads."""
    leads, model = sample
    engine = ScoringEngine(leads, model)
    counter_moves = []
    rng = np.random.default_rng(3)
    values = [v for v in move_values(model) if v[1] not in ("zeta", "alpha")]
    count_scores(engine, model)
    for _ in range(40):
        name, value = values[int(rng.integers(len(values)))]
        model = model.with_points(name, value, int(rng.integers(-30, 31)))
        got = count_scores(engine, model)
        counter_moves.append(hist.score_counter(engine).last_move)
        assert same_histograms(got, count_scores(ScoringEngine(leads, model), model))
    assert counter_moves.count("delta") >= 30, counter_moves


def test_a_change_most_leads_share_moves_the_grid_not_the_leads(sample):
    """Every bin of every numeric attribute +1: every lead gains the same, so no lead is revisited."""
    leads, model = sample
    engine = ScoringEngine(leads, model)
    count_scores(engine, model)
    for a in model.attributes:
        if a.kind == "numeric":
            for i, b in enumerate(a.bins):
                model = model.with_points(a.name, f"bin:{i}", b.points + 1)
            model = model.with_points(a.name, "__missing__", a.missing.points + 1)
    got = count_scores(engine, model)
    assert hist.score_counter(engine).last_move == "delta"
    assert same_histograms(got, count_scores(ScoringEngine(leads, model), model))
    # later moves start from the shifted scores, in both groups
    for name, value, points in [("company_size", "bin:1", -7), ("website_visits", "bin:2", 9), ("job_level", "VP", 3), ("demo_requested", True, -4)]:
        model = model.with_points(name, value, points)
        got = count_scores(engine, model)
        assert hist.score_counter(engine).last_move == "delta"
        assert same_histograms(got, count_scores(ScoringEngine(leads, model), model)), name


def test_a_move_touching_many_leads_is_recounted(sample, monkeypatch):
    leads, model = sample
    engine = ScoringEngine(leads, model)
    count_scores(engine, model)
    monkeypatch.setattr(hist, "DELTA_MAX_SHARE", 0.01)
    for a in model.attributes:
        if a.kind == "numeric":
            for i, b in enumerate(a.bins):
                model = model.with_points(a.name, f"bin:{i}", b.points + i + 1)
    got = count_scores(engine, model)
    assert hist.score_counter(engine).last_move == "recount"
    assert same_histograms(got, count_scores(ScoringEngine(leads, model), model))


def test_grids_too_large_to_keep_are_counted_per_lead(sample, monkeypatch):
    leads, model = sample
    monkeypatch.setattr(hist, "GRID_MAX_CELLS", 10)
    engine = ScoringEngine(leads, model)
    wide = count_scores(engine, model)
    assert hist.score_counter(engine).last_move == "recount"
    monkeypatch.setattr(hist, "GRID_MAX_CELLS", 1 << 18)
    assert same_histograms(wide, count_scores(ScoringEngine(leads, model), model))


def randomised(model: ScoringModel, rng: np.random.Generator, spread: int = 120) -> ScoringModel:
    """Every points value of ``model`` drawn from -spread..spread: score ranges far too wide for a grid."""
    data = model.to_dict()
    for a in data["attributes"]:
        for part in [a.get("missing"), a.get("other"), *a.get("levels", ()), *a.get("bins", ())]:
            if isinstance(part, dict):
                part["points"] = int(rng.integers(-spread, spread + 1))
    return ScoringModel.from_dict(data)


def per_lead_histograms(leads, model: ScoringModel):
    """The histograms straight from every lead's scores (no counter involved)."""
    s = ScoringEngine(leads, model).scores(model)
    npos = leads.n_converted
    lo, fit_lo = int(s.total.min()), int(s.fit.min())
    keep = ~s.knocked_out
    keep_pos = keep[:npos]
    return (
        np.bincount(s.total[keep] - lo), np.bincount(s.total[:npos][keep_pos] - lo, minlength=int(s.total[keep].max()) - lo + 1),
        np.bincount(s.fit - fit_lo), np.bincount(s.fit[:npos] - fit_lo, minlength=int(s.fit.max()) - fit_lo + 1), lo, fit_lo,
        int(s.knocked_out.sum()), int(s.knocked_out[:npos].sum()),
    )


def trimmed(h):
    """ScoreHistograms cut to the scores some lead has, for comparing with per_lead_histograms."""
    nz, fz = np.flatnonzero(h.leads), np.flatnonzero(h.fit_leads)
    return (
        h.leads[nz[0] : nz[-1] + 1], h.converted[nz[0] : nz[-1] + 1], h.fit_leads[fz[0] : fz[-1] + 1], h.fit_converted[fz[0] : fz[-1] + 1],
        h.low + nz[0], h.fit_low + fz[0], h.knocked_out, h.knocked_out_converted,
    )


@pytest.mark.parametrize("caps", [{}, {"fit": 60, "engagement": 25, "total": 70}])
def test_wide_score_ranges_move_incrementally_and_exactly(sample, caps):
    """Every points value random in -120..120 (a grid would be too large): one-level moves on the
    sample recount only the moved level's leads, and every count equals a per-lead recount,
    with and without caps, with the sample model's knock-outs."""
    leads, model = sample
    rng = np.random.default_rng(5)
    model = randomised(model, rng).replace(caps=caps)
    assert model.knockouts  # the sample model knocks leads out
    engine = ScoringEngine(leads, model)
    count_scores(engine, model)
    values = [v for v in move_values(model) if v[1] not in ("zeta", "alpha")]
    kinds = []
    for _ in range(30):
        name, value = values[int(rng.integers(len(values)))]
        model = model.with_points(name, value, int(rng.integers(-40, 41)))
        got = count_scores(engine, model)
        kinds.append(hist.score_counter(engine).last_move)
        assert same_histograms(got, count_scores(ScoringEngine(leads, model), model))
        want = per_lead_histograms(leads, model)
        for a, b in zip(trimmed(got), want):
            assert np.array_equal(a, b)
    assert hist.score_counter(engine).mode == "linear"
    assert kinds.count("delta") >= 25, kinds
    # a new model with the same layout (every value changed) is a recount, still exact
    model = randomised(model, rng)
    got = count_scores(engine, model)
    assert hist.score_counter(engine).last_move == "recount"
    assert same_histograms(got, count_scores(ScoringEngine(leads, model), model))


def test_engines_shared_across_threads_stay_exact(sample):
    """Streamlit sessions share a LeadSet's engine: concurrent backtests of different models each get their own right answer."""
    from concurrent.futures import ThreadPoolExecutor

    leads, model = sample
    rng = np.random.default_rng(9)
    models = [randomised(model, rng) if i % 2 else model.with_points("job_level", "VP", int(rng.integers(-30, 31))) for i in range(16)]
    want = [count_scores(ScoringEngine(leads, m), m) for m in models]
    engine = ScoringEngine(leads, model)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda m: backtest(leads, m, engine).histograms, models * 3))
    for i, h in enumerate(got):
        assert same_histograms(h, want[i % len(models)])
