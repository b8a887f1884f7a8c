"""The workbench without a UI: edits and undo, refusals in one sentence, results against the core, reconciling roles."""

from __future__ import annotations

import pytest
from conftest import TINY_MODEL

from lead_model import LeadModelError, ScoringModel, backtest
from lead_model.data.leads import load_leads
from lead_model.data.roles import RoleOverride
from lead_model.formatting import count, lift, markdown_escape, pct, score
from lead_model.model.semantics import MISSING_LABEL
from lead_model.workbench.describe import capacity_advice, knockout_text, kpi_tiles, level_caption, threshold_range
from lead_model.workbench.reconcile import choose_model, merge_role_edits, reconcile
from lead_model.workbench.workshop import Workbench


@pytest.fixture
def bench(tiny, tiny_model) -> Workbench:
    return Workbench(tiny, tiny_model)


def test_points_threshold_and_undo_follow_the_core(bench, tiny, tiny_model):
    bench.set_points("industry", "Software", 35)
    moved = tiny_model.with_points("industry", "Software", 35)
    assert bench.model == moved
    r = bench.result()
    expected = backtest(tiny, moved)
    assert (r.mql, r.mql_converted, r.auc) == (expected.mql, expected.mql_converted, expected.auc)
    full = bench.full_backtests
    bench.set_threshold(5)
    assert bench.result().threshold == 5 and bench.full_backtests == full  # a threshold move is at_threshold only
    assert bench.result().mql == backtest(tiny, moved.replace(mql_threshold=5)).mql
    bench.undo()
    bench.undo()
    assert bench.model == tiny_model
    bench.redo()
    assert bench.model == moved


def test_tiles_compare_with_the_baseline(bench, tiny, tiny_model):
    bench.set_threshold(tiny_model.mql_threshold + 10)
    r, b = backtest(tiny, bench.model), backtest(tiny, tiny_model)
    tiles = {t.label: t for t in bench.tiles()}
    assert tiles["Precision"].value == pct(r.precision)
    assert tiles["MQLs"].value == f"{r.mql:,} ({r.mql_rate:.1%})"
    assert tiles["MQLs"].delta == (None if r.mql == b.mql else f"{r.mql - b.mql:+,}")
    bench.set_baseline()
    assert all(t.delta is None for t in bench.tiles())


def test_impossible_edits_are_refused_and_change_nothing(bench, tiny_model):
    with pytest.raises(LeadModelError, match="cannot be below zero"):
        bench.set_caps({"fit": -5, "engagement": None, "total": None})
    with pytest.raises(LeadModelError, match="bin edges of 'employees' must increase"):
        bench.set_edges("employees", "50, 10")
    with pytest.raises(LeadModelError, match="choose the values to knock out"):
        bench.add_knockout({"attribute": "industry"})
    every = ["Software", "Retail", "Education", "Government"]
    with pytest.raises(LeadModelError, match="would knock out all 12 leads"):
        bench.add_knockout({"attribute": "industry", "values": every, "when_missing": True})
    assert bench.model == tiny_model and not bench.history.can_undo


def test_knockouts_caps_attributes_and_metadata_edits(bench, tiny, tiny_model):
    before = bench.result().knocked_out
    bench.add_knockout({"attribute": "industry", "values": ["Education"], "reason": "no budget"})
    assert bench.result().knocked_out == backtest(tiny, bench.model).knocked_out > before
    assert knockout_text(bench.model.knockouts[-1]) == "industry is 'Education' (no budget)"
    bench.remove_knockout(len(bench.model.knockouts) - 1)
    assert bench.model.knockouts == tiny_model.knockouts
    bench.set_caps({"fit": 20, "engagement": None, "total": None})
    assert bench.model.caps.fit == 20
    bench.set_attributes(["industry"])
    assert bench.model.attribute_names == ("industry",)
    suggested = tiny_model.replace(metadata={"name": "suggested"})
    bench.apply(suggested)
    assert bench.model.attributes == suggested.attributes and bench.model.metadata == tiny_model.metadata


def test_level_rows_hide_levels_without_leads_or_points(tiny, tiny_model):
    listed_empty = tiny_model.with_points("industry", "Mining", 0)  # a listed level no lead holds, at 0 points
    bench = Workbench(tiny, listed_empty)
    labels = [row[1] for row in bench.level_rows("industry")]
    assert "Mining" not in labels and MISSING_LABEL in labels
    bench.set_points("industry", "Mining", 5)  # with points it is shown, so the room sees them
    assert "Mining" in [row[1] for row in bench.level_rows("industry")]


def test_a_model_that_does_not_fit_is_refused(bench, tiny_model):
    other = tiny_model.with_attribute(tiny_model.attribute("industry").model_copy(update={"name": "sector"}))
    with pytest.raises(LeadModelError, match="no such column"):
        bench.adopt(other)
    with pytest.raises(LeadModelError, match="no such column"):
        Workbench(bench.leads, other)


def test_roles_reconcile_the_model(tiny, tiny_model, tmp_path, tiny_csv):
    edit = merge_role_edits(tiny, (), (), [{"column": "industry", "role": "ignore"}, {"column": "page_views", "role": "attribute", "kind": "categorical"}])
    assert edit.outcome == "converted" and edit.exclude == ("industry",)
    assert edit.overrides == (("page_views", "attribute", "categorical", "engagement"),)
    again = load_leads(tiny_csv, store=tmp_path / "s2.duckdb", exclude=edit.exclude,
                       roles={c: RoleOverride(role=r, kind=k, group=g) for c, r, k, g in edit.overrides})
    m = reconcile(tiny_model, again)
    assert "industry" not in m.attribute_names
    assert m.attribute("page_views").kind == "categorical" and all(lv.points == 0 for lv in m.attribute("page_views").levels)
    assert m.attribute("employees") == tiny_model.attribute("employees")
    bench = Workbench(tiny, tiny_model).rebased(again)
    assert bench.model == m and not bench.history.can_undo
    with pytest.raises(LeadModelError, match="exactly one column as the outcome"):
        merge_role_edits(tiny, (), (), [{"column": "converted", "role": "ignore"}])


def test_choose_model(tiny, tiny_model):
    assert choose_model(tiny, None, tiny_model).model == tiny_model
    kept = choose_model(tiny, tiny_model)
    assert kept.kept and kept.model == tiny_model
    bad = ScoringModel.from_dict({"attributes": [{"name": "nope", "kind": "categorical", "group": "fit"}]})
    fresh = choose_model(tiny, bad)
    assert not fresh.kept and set(fresh.model.attribute_names) == set(tiny.attributes) and "0 points" in fresh.message
    # a model of only some of the data's attributes is kept, and the message names what it leaves out
    one = ScoringModel.from_dict({"attributes": [TINY_MODEL["attributes"][0]]})
    partial = choose_model(tiny, one)
    missing = [n for n in tiny.attributes if n != "industry"]
    assert partial.kept and partial.model == one and missing
    assert partial.message.startswith(f"Kept the current model: it fits this data, but {len(missing)} attributes of the data are not in it ('{missing[0]}'")
    empty = choose_model(tiny, ScoringModel.from_dict({"attributes": []}))  # an empty model fits anything: not kept
    assert not empty.kept and set(empty.model.attribute_names) == set(tiny.attributes)


def test_describe_helpers(tiny, tiny_model):
    r = backtest(tiny, tiny_model)
    lo, hi = threshold_range(r, tiny_model.mql_threshold)
    assert lo <= r.histograms.low and hi >= r.histograms.low + r.histograms.leads.size - 1 and lo % 50 == 0 and hi % 50 == 0
    advice = capacity_advice(r, 2, 5.0, months_known=False)
    assert advice.choice.mql <= 10 and "over 5 months" in advice.sentence()
    assert level_caption("VP", 1, 0.5, 0.1) == ("1 lead", "50.0%", "above")
    assert level_caption("VP", 0, float("nan"), 0.1)[1:] == ("no leads", "near")
    assert kpi_tiles(r, None)[4].value == score(r.auc)


def test_formatting():
    assert (pct(0.2534), pct(float("nan")), count(1), count(12_400), lift(2.934)) == ("25.3%", "–", "1 lead", "12,400 leads", "2.93x")
    assert markdown_escape("VP** · :green[**95.0%**] [x](http://a) $x^2$") == "VP\\*\\* · \\:green\\[\\*\\*95\\.0%\\*\\*\\] \\[x\\]\\(http\u2060\\://a\\) \\$x^2\\$"  # a word joiner breaks the autolink


def test_undo_says_what_it_will_undo(bench):
    assert bench.undo_text() is None
    bench.set_points("industry", "Software", 35)
    bench.set_threshold(30)
    assert bench.undo_text() == f"MQL threshold {bench.history.previous.mql_threshold} -> 30"
    bench.undo()
    assert bench.undo_text().startswith("industry: Software 20 -> 35")


def test_lead_story_says_mql_distance_tier_grade_and_caps(tiny, tiny_model):
    from lead_model.engine.scoring import points_breakdown
    from lead_model.workbench.describe import lead_story

    capped = tiny_model.replace(caps={"fit": 10, "engagement": None, "total": None})
    bench = Workbench(tiny, capped)
    scores = bench.engine().scores(capped)
    for position in range(tiny.n_leads):
        story = lead_story(tiny, capped, position, scores)
        total, knocked = int(scores.total[position]), bool(scores.knocked_out[position])
        assert story.sentence.startswith(f"Score {total} (fit {int(scores.fit[position])} + engagement {int(scores.engagement[position])}): ")
        if knocked:
            assert "knocked out, so never an MQL" in story.sentence
        elif total >= capped.mql_threshold:
            assert "an MQL" in story.sentence and "not an MQL" not in story.sentence
        else:
            assert f"{capped.mql_threshold - total} point" in story.sentence and "below the threshold" in story.sentence
        raw_fit = points_breakdown(tiny, capped, position).query("group == 'fit'")["points"].sum()
        assert ("The fit cap (10) took" in story.sentence) == (raw_fit > 10)
        assert (story.breakdown["points"] != 0).all() and story.breakdown["points"].is_monotonic_decreasing
        assert story.sentence.endswith("This lead converted." if tiny.converted[position] else "This lead did not convert.")


def test_an_unknown_group_stays_unknown_until_chosen_in_the_role_picker(tiny, tiny_model, tmp_path, tiny_csv):
    from lead_model.data.roles import UNKNOWN_GROUP, UNKNOWN_GROUP_LABEL
    from lead_model.model.starter import starter_model

    assert tiny.roles["newsletter"].shown_group == UNKNOWN_GROUP  # nothing in the name says fit or engagement
    assert tiny.attributes["newsletter"].group == "fit" and starter_model(tiny).attribute("newsletter").group == "fit"  # counted as fit
    row = {"column": "newsletter", "role": "attribute", "kind": "boolean"}
    assert merge_role_edits(tiny, (), (), [{**row, "group": UNKNOWN_GROUP_LABEL}]).overrides == ()  # the picker as it was: no change
    chosen = merge_role_edits(tiny, (), (), [{**row, "group": "fit"}])  # choosing fit is a choice, though fit is what it counted as
    assert chosen.overrides == (("newsletter", "attribute", "boolean", "fit"),)
    again = load_leads(tiny_csv, store=tmp_path / "s3.duckdb", roles={c: RoleOverride(role=r, kind=k, group=g) for c, r, k, g in chosen.overrides})
    assert again.roles["newsletter"].shown_group == "fit"
    kind_only = merge_role_edits(tiny, (), (), [{**row, "kind": "categorical", "group": UNKNOWN_GROUP_LABEL}])
    assert kind_only.overrides == (("newsletter", "attribute", "categorical", None),)
    other = load_leads(tiny_csv, store=tmp_path / "s4.duckdb", roles={c: RoleOverride(role=r, kind=k, group=g) for c, r, k, g in kind_only.overrides})
    assert (other.roles["newsletter"].kind, other.roles["newsletter"].shown_group) == ("categorical", UNKNOWN_GROUP)
    assert reconcile(tiny_model, other).attribute("newsletter").group == "fit"  # a model holds fit or engagement: unknown counts as fit
