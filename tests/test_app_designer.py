"""The Designer page in AppTest: KPI tiles equal the core's backtest after every kind of move; undo, redo, reset, baseline."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import start_app, plain
from streamlit.testing.v1 import AppTest

from lead_model import ScoringModel, backtest
from lead_model.engine.thresholds import for_capacity, months_covered

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "leads.csv"
SAMPLE_MODEL = ROOT / "sample_data" / "sample_model.yaml"

pytestmark = pytest.mark.skipif(not (SAMPLE.is_file() and SAMPLE_MODEL.is_file()), reason="the bundled sample is missing")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    # One store per module: the app's LeadSet cache (keyed on file and store) then loads the sample once.
    return tmp_path_factory.mktemp("designer") / "store.duckdb"


@pytest.fixture
def app(store, monkeypatch) -> AppTest:
    return start_app(monkeypatch, store)


@pytest.fixture(scope="module")
def sample_model() -> ScoringModel:
    return ScoringModel.from_file(SAMPLE_MODEL)


def tiles(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def expected(r, b=None) -> dict[str, str]:
    """The tile values as lead_model/workbench/describe.py formats them, written out independently here."""
    pct = lambda x: "–" if x != x else f"{x:.1%}"  # noqa: E731
    return {
        "Precision": pct(r.precision),
        "Recall": pct(r.recall),
        "MQLs": f"{r.mql:,} ({r.mql_rate:.1%})",
        "Lift": f"{r.lift_at_threshold:.2f}x",
        "AUC": f"{r.auc:.3f}",
    }


def move_points(at: AppTest, key: str, value: int) -> AppTest:
    """Move a points slider, then draw the whole page again.

    The slider's callback reruns only the results fragment (pages/callbacks.py ``on_points``);
    AppTest builds its tree from one run's messages, so right after the move it holds just
    that fragment (see test_a_points_move_reruns_only_the_results). A plain run() is the
    full rerun any other change would make, and brings the sidebar back for the next step.
    """
    at.slider(key=key).set_value(value).run()
    assert not at.exception, at.exception
    return at.run()


def chart_data(at: AppTest, title: str) -> dict:
    """{dataset name: DataFrame} of the chart titled ``title``, decoded from what the app sent."""
    import json

    import pyarrow as pa

    for chart in at.get("vega_lite_chart"):
        if json.loads(chart.proto.spec)["title"]["text"] == title:
            return {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets}
    raise KeyError(title)


def assert_tiles(at: AppTest, model: ScoringModel) -> None:
    assert not at.exception, at.exception
    leads = at.session_state["workbench"].leads
    r = backtest(leads, model)
    shown = tiles(at)
    assert {k: v[0] for k, v in shown.items() if k != "Pipeline"} == expected(r)
    assert at.session_state["workbench"].model == model


def test_designer_opens_on_the_sample_with_its_model(app, sample_model):
    assert app.title[0].value == "Designer"
    assert list(tiles(app)) == ["Precision", "Recall", "MQLs", "Lift", "AUC", "Pipeline"]  # the sample has opportunity_amount
    assert_tiles(app, sample_model)
    # Pipeline: the raw file's amounts of the leads score_leads calls MQLs
    import pandas as pd

    from conftest import SAMPLE_CSV
    from lead_model.engine.scoring import score_leads

    amounts = pd.read_csv(SAMPLE_CSV, usecols=["opportunity_amount"])["opportunity_amount"].fillna(0).to_numpy()
    scored = score_leads(app.session_state["workbench"].leads, sample_model)
    captured = amounts[scored["row"][scored["is_mql"]]].sum()
    assert tiles(app)["Pipeline"][0] == f"{captured / 1e6:.1f}M ({captured / amounts.sum():.0%})"
    assert all(delta in ("", None) for _, delta in tiles(app).values())  # the model is the baseline
    labels = [plain(s.label) for s in app.slider]
    assert labels[0] == "MQL threshold"
    assert "job_level: VP" in labels and "job_level: (missing)" in labels  # first fit attribute, open by default
    assert "website_visits: 3 to < 6" in labels  # first engagement attribute: bins labelled by bin_label
    # each level's lead count and conversion rate sit beside its slider
    from lead_model.data.quality import level_table

    vp = level_table(app.session_state["workbench"].leads, sample_model.attribute("job_level")).set_index("label").loc["VP"]
    texts = [m.value for m in app.markdown]
    assert any(t.startswith(f"**VP** · {int(vp['leads']):,} leads · ") and f"{vp['conversion_rate']:.1%}" in t for t in texts), texts
    r = backtest(app.session_state["workbench"].leads, sample_model)
    assert any(m.value.startswith(f"##### Of {r.mql:,} MQLs, {r.mql_converted:,} converted ({r.precision:.1%}); ") for m in app.markdown)
    assert len(app.get("vega_lite_chart")) == 6


def test_threshold_move_matches_the_core(app, sample_model):
    full = app.session_state["workbench"].full_backtests
    app.slider(key="mql_threshold").set_value(45).run()
    model = sample_model.replace(mql_threshold=45)
    assert_tiles(app, model)
    r, b = backtest(app.session_state["workbench"].leads, model), backtest(app.session_state["workbench"].leads, sample_model)
    deltas = {k: v[1] for k, v in tiles(app).items()}
    assert deltas["Precision"] == f"{(r.precision - b.precision) * 100:+.1f} pts"
    assert deltas["MQLs"] == f"{r.mql - b.mql:+,}"
    assert app.session_state["workbench"].full_backtests == full  # a threshold move is at_threshold only: no new backtest


def test_points_move_matches_the_core(app, sample_model):
    move_points(app, "points::job_level::VP", 35)
    model = sample_model.with_points("job_level", "VP", 35)
    assert_tiles(app, model)
    move_points(app, "points::website_visits::bin:1", -12)
    model = model.with_points("website_visits", "bin:1", -12)
    assert_tiles(app, model)
    move_points(app, "points::job_level::__missing__", -4)
    assert_tiles(app, model.with_points("job_level", "__missing__", -4))
    assert app.slider(key="points::job_level::__missing__").value == -4


def test_a_points_move_reruns_only_the_results(app, sample_model):
    """The sidebar is not redrawn on a points move (every element drawn costs browser time); every tile and chart is."""
    app.slider(key="points::job_level::VP").set_value(35).run()
    assert not app.exception, app.exception
    model = sample_model.with_points("job_level", "VP", 35)
    assert_tiles(app, model)  # the tiles were drawn, with the moved model's numbers
    assert len(app.get("vega_lite_chart")) == 6  # and all six charts
    assert len(app.sidebar) == 0 and not [s for s in app.slider if s.key.startswith("points::")]  # the sidebar was not
    r = backtest(app.session_state["workbench"].leads, model)
    assert any(m.value.startswith(f"##### Of {r.mql:,} MQLs, {r.mql_converted:,} converted ") for m in app.markdown)
    lift = chart_data(app, "Lift by decile")["current"]  # the charts carry the moved model's numbers
    assert lift["lift"].tolist() == pytest.approx(r.deciles["lift"].tolist())
    sweep = chart_data(app, "Precision & recall by threshold")["sweep"].set_index("threshold")
    assert sweep.loc[r.threshold, "mql"] == r.mql
    app.run()  # a full rerun draws the sidebar again, showing the model
    assert app.slider(key="points::job_level::VP").value == 35
    assert_tiles(app, model)


def test_undo_redo_reset_and_set_baseline(app, sample_model):
    move_points(app, "points::job_level::VP", 40)
    app.slider(key="mql_threshold").set_value(50).run()
    moved = sample_model.with_points("job_level", "VP", 40).replace(mql_threshold=50)
    assert_tiles(app, moved)
    _button(app, "Undo").click().run()
    assert_tiles(app, sample_model.with_points("job_level", "VP", 40))
    assert app.slider(key="mql_threshold").value == 60  # the slider follows the model
    _button(app, "Redo").click().run()
    assert_tiles(app, moved)
    _button(app, "Reset to baseline").click().run()
    assert_tiles(app, sample_model)
    assert app.slider(key="points::job_level::VP").value == 20
    _button(app, "Undo").click().run()  # a reset can be undone
    assert_tiles(app, moved)
    _button(app, "Set as baseline").click().run()
    assert app.session_state["workbench"].baseline == moved
    assert all(delta in ("", None) for _, delta in tiles(app).values())


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_bin_edges_rebuild_the_engine(app, sample_model):
    box = app.text_input(key="edges::website_visits")
    assert box.value == "3, 6, 11"
    box.set_value("2, 6, 20").run()
    attr = sample_model.attribute("website_visits")
    # new bins keep the points of the old bin their lower bound falls in: 2 -> <3 (0), 6 -> 6..11 (10), 20 -> >=11 (15)
    bins = [{"min": None, "points": 0}, {"min": 2, "points": 0}, {"min": 6, "points": 10}, {"min": 20, "points": 15}]
    model = sample_model.with_attribute(type(attr).model_validate({**attr.model_dump(), "bins": bins}))
    assert_tiles(app, model)
    assert "website_visits: 2 to < 6" in [plain(s.label) for s in app.slider]
    assert app.session_state["workbench"].model.attribute("website_visits").edges == (2, 6, 20)


def test_bad_bin_edges_show_one_sentence_and_keep_the_model(app, sample_model):
    app.text_input(key="edges::website_visits").set_value("3, six, 11").run()
    assert not app.exception
    assert [plain(e.value) for e in app.error] == ["Bin edge 'six' of 'website_visits' is not a number; type edges like 10, 50, 200."]
    assert_tiles(app, sample_model)
    assert app.text_input(key="edges::website_visits").value == "3, 6, 11"  # the box shows the model again
    app.text_input(key="edges::website_visits").set_value("6, 3").run()
    assert "must increase" in plain(app.error[0].value)
    assert_tiles(app, sample_model)


def test_capacity_suggests_a_threshold(app, sample_model):
    app.number_input(key="capacity").set_value(150).run()
    leads = app.session_state["workbench"].leads
    choice = for_capacity(backtest(leads, sample_model), 150, months_covered(leads.created))
    button = app.button(key="use_capacity")
    assert button.label == f"Use threshold {choice.threshold}"
    button.click().run()
    assert_tiles(app, sample_model.replace(mql_threshold=choice.threshold))


def test_caps_knockouts_and_attributes(app, sample_model):
    app.session_state["exp::rules"] = True  # open the lazy expander
    app.run()
    app.number_input(key="cap_engagement").set_value(30).run()
    model = sample_model.replace(caps={"fit": None, "engagement": 30, "total": None})
    assert_tiles(app, model)
    app.button(key="ko_remove::0").click().run()
    model = model.replace(knockouts=())
    assert_tiles(app, model)
    app.selectbox(key="ko_attribute").set_value("lead_source").run()
    app.multiselect(key="ko_values").set_value(["Purchased List"]).run()
    app.button(key="ko_add").click().run()
    model = model.replace(knockouts=[{"attribute": "lead_source", "values": ["Purchased List"]}])
    assert_tiles(app, model)
    names = list(model.attribute_names)
    app.multiselect(key="model_attributes").set_value([n for n in names if n != "webinar_attended"] + ["department"]).run()
    current = app.session_state["workbench"].model
    assert "webinar_attended" not in current.attribute_names and "department" in current.attribute_names
    assert all(lv.points == 0 for lv in current.attribute("department").levels)
    assert_tiles(app, current)


def test_lead_explorer_explains_a_score(app, sample_model):
    app.session_state["exp::explorer"] = True
    app.run()
    app.text_input(key="lead_search").set_value("L0000002").run()
    assert not app.exception, app.exception
    leads = app.session_state["workbench"].leads
    from lead_model.engine.scoring import points_breakdown, score_leads

    pos = int(leads.lead_positions([1])[0])  # L0000002 is file row 1
    breakdown = points_breakdown(leads, sample_model, pos)
    score = int(score_leads(leads, sample_model).loc[1, "score"])
    assert int(breakdown["points"].sum()) >= score  # caps can only take points away
    assert any(m.value.startswith(f"#### Score {score} ") for m in app.markdown)
    shown = app.dataframe[0].value
    nonzero = breakdown[breakdown["points"] != 0].sort_values("points", ascending=False, kind="stable")
    assert shown["points"].tolist() == nonzero["points"].tolist()  # most points first, zero rows hidden
    assert shown["attribute"].tolist() == nonzero["attribute"].tolist()
    app.text_input(key="lead_search").set_value("no such lead").run()
    assert "No lead matches" in plain(app.info[0].value)


def test_a_cap_below_zero_is_refused_in_one_sentence(app, sample_model):
    app.session_state["exp::rules"] = True
    app.run()
    app.number_input(key="cap_fit").set_value(-5).run()
    assert not app.exception, app.exception
    assert [plain(e.value) for e in app.error] == [
        "A cap is the most points a group can give, so the fit cap cannot be below zero (-5); leave it empty for no cap."
    ]
    assert_tiles(app, sample_model)  # the model is unchanged
    assert app.number_input(key="cap_fit").value is None  # and the box shows it again
    assert not app.session_state["workbench"].history.can_undo


def test_flat_model_hint_and_capacity_without_dates(tmp_path, monkeypatch):
    """A file without created dates: a starter model (one score for all) gets a hint, capacity asks for the months."""
    lines = ["lead_id,segment,visits,converted"] + [f"M{i:03d},{'abc'[i % 3]},{i % 7},{'yes' if i % 3 == 0 or i % 7 == 0 else 'no'}" for i in range(300)]
    csv = tmp_path / "nodates.csv"
    csv.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("LEAD_MODEL_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.setenv("LEAD_MODEL_DATA", str(csv))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert any(i.value.startswith("Every lead has the same score") for i in at.info)
    at.slider(key="points::segment::a").set_value(10).run()
    assert not any(i.value.startswith("Every lead has the same score") for i in at.info)
    model = at.session_state["workbench"].model
    assert_tiles(at, model)
    at.number_input(key="capacity").set_value(20).run()
    at.number_input(key="months_covered").set_value(5.0).run()
    choice = for_capacity(backtest(at.session_state["workbench"].leads, model), 20, 5.0)
    assert at.button(key="use_capacity").label == f"Use threshold {choice.threshold}"
    assert any(c.value.startswith(f"Threshold {choice.threshold} fits: ") and "over 5 months" in c.value for c in at.caption)


def test_a_knockout_without_a_condition_is_refused_in_one_sentence(app, sample_model):
    app.session_state["exp::rules"] = True
    app.run()
    app.selectbox(key="ko_attribute").set_value("company_size").run()
    app.button(key="ko_add").click().run()
    assert not app.exception, app.exception
    assert [plain(e.value) for e in app.error] == [
        "Choose a limit (below or at or above) or tick 'Also when missing' before adding a knock-out on 'company_size'."
    ]
    assert_tiles(app, sample_model)


def test_an_attribute_whose_group_is_unknown_is_marked(app, sample_model):
    """lead_source's name says neither fit nor engagement: the model counts it as fit, and its expander says so."""
    from lead_model.data.roles import UNKNOWN_GROUP_LABEL

    leads = app.session_state["workbench"].leads
    assert leads.roles["lead_source"].shown_group == "unknown" and sample_model.attribute("lead_source").group == "fit"
    labels = {e.label.split(" · ")[0].strip("*").replace("\\", ""): e.label for e in app.expander if " · " in e.label}
    assert labels["lead_source"].endswith(f"· group {UNKNOWN_GROUP_LABEL}")
    assert "group" not in labels["job_level"] and "group" not in labels["website_visits"]  # fit and engagement by their names
