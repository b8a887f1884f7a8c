"""Two sessions of the app on one server (two AppTests in one process): one shared LeadSet, state of their own.

Streamlit keeps ``st.cache_resource`` per process, as a server does for all its browser
sessions, so two AppTests loading the same file are two sessions of one server. Each has its
own Workbench (model, undo history, results) in its own session_state; the LeadSet, its
engines and their score counters are shared.
"""

from __future__ import annotations

import pytest
from conftest import SAMPLE_CSV, start_app
from streamlit.testing.v1 import AppTest

from lead_model import backtest

pytestmark = pytest.mark.skipif(not SAMPLE_CSV.is_file(), reason="the bundled sample is missing")

POINTS = ("job_level", "VP")
POINTS_KEY = "points::job_level::VP"


@pytest.fixture
def two(tmp_path, monkeypatch) -> tuple[AppTest, AppTest]:
    store = tmp_path / "store.duckdb"
    a = start_app(monkeypatch, store)
    b = start_app(monkeypatch, store)  # opened before A changes anything: no autosave of A's to offer B
    return a, b


def seen(at: AppTest) -> dict:
    """What a session holds and shows: its model, threshold widget, result figures and tiles."""
    wb = at.session_state["workbench"]
    r = wb.result()
    return {
        "model": wb.model,
        "threshold": at.session_state["mql_threshold"],
        "result": (r.threshold, r.mql, r.mql_converted, r.precision, r.recall, r.auc, r.histograms.leads.tolist()),
        "tiles": {m.label: (m.value, m.delta) for m in at.metric},
        "undo": wb.history.undo_depth,
    }


def test_two_sessions_share_one_leadset(two):
    a, b = two
    assert a.session_state["workbench"] is not b.session_state["workbench"]
    assert a.session_state["workbench"].leads is b.session_state["workbench"].leads
    m = a.session_state["workbench"].model
    assert a.session_state["workbench"].engine(m) is b.session_state["workbench"].engine(m)  # engines too
    carriers = a.session_state["workbench"]._amount_leads()  # the leads with an amount, which the Pipeline tile scores
    assert carriers is not None and carriers is b.session_state["workbench"]._amount_leads()


def test_a_move_in_one_session_leaves_the_other_as_it_was(two):
    a, b = two
    before_b = seen(b)
    threshold = a.session_state["mql_threshold"]
    vp = a.slider(key=POINTS_KEY).value

    a.slider(key="mql_threshold").set_value(threshold + 7).run()
    a.slider(key=POINTS_KEY).set_value(vp + 15).run()
    a.run()
    assert not a.exception, a.exception
    moved = seen(a)
    assert moved["model"] == before_b["model"].with_points(*POINTS, vp + 15).replace(mql_threshold=threshold + 7)
    assert moved["result"] != before_b["result"] and moved["tiles"] != before_b["tiles"]  # A's move did change A's figures

    assert seen(b) == before_b  # B's state, read without a run
    b.run()  # B's page drawn again: it counts its own model on the engine A just moved
    assert not b.exception, b.exception
    assert seen(b) == before_b
    leads = b.session_state["workbench"].leads
    r = backtest(leads, before_b["model"])
    assert before_b["result"][:3] == (r.threshold, r.mql, r.mql_converted)

    # and back: B moves, A keeps its moved model and figures
    b.slider(key=POINTS_KEY).set_value(vp - 10).run()
    b.slider(key="mql_threshold").set_value(threshold - 5).run()
    b.run()
    assert not b.exception, b.exception
    assert b.session_state["workbench"].model == before_b["model"].with_points(*POINTS, vp - 10).replace(mql_threshold=threshold - 5)
    a.run()
    assert not a.exception, a.exception
    assert seen(a) == moved


def wide(m):
    """``m`` with points far apart (every level 150 more than the one before, capped at the schema's 1,000): the
    fit x engagement grid would be too large, so the shared score counter keeps 1-D histograms instead."""
    for a in m.attributes:
        if a.kind == "numeric":
            for i in range(len(a.bins)):
                m = m.with_points(a.name, f"bin:{i}", min(1000, 150 * i))
        elif a.kind == "categorical":
            for j, level in enumerate(a.levels):
                m = m.with_points(a.name, level.value, min(1000, 150 * j))
    return m.replace(knockouts=())


def test_a_move_on_the_one_dimensional_path_leaves_the_other_session_as_it_was(two):
    """Both sessions on a wide-range model: the engine they share counts 1-D histograms, updated in place move by move."""
    from lead_model.engine.histograms import score_counter

    a, b = two
    model = wide(a.session_state["workbench"].model)
    for at in (b, a):
        at.session_state["workbench"].adopt(model)
        at.run()
        assert not at.exception, at.exception
    assert score_counter(a.session_state["workbench"].engine()).mode == "linear"
    before_b = seen(b)
    grades_b = b.session_state["workbench"].result().histograms.fit_leads.tolist()
    vp = model.attribute("job_level").level_points()["VP"]

    a.slider(key=POINTS_KEY).set_value(vp - 1).run()  # one level moved by one point: the bounds stay, the counts move in place
    a.run()
    assert not a.exception, a.exception
    assert a.session_state["workbench"].model == model.with_points(*POINTS, vp - 1)
    assert score_counter(a.session_state["workbench"].engine()).last_move == "delta"
    assert seen(a)["result"] != before_b["result"]

    assert seen(b) == before_b
    assert b.session_state["workbench"].result().histograms.fit_leads.tolist() == grades_b
    b.run()
    assert not b.exception, b.exception
    assert seen(b) == before_b


def test_sessions_with_equal_models_stamped_apart_share_one_suggestion_fit(tmp_path):
    """Each session's starter model carries the moment it was made; the fit must not be made once per session."""
    from lead_model.data.leads import load_leads
    from lead_model.model.starter import starter_model
    from pages import loading

    leads = load_leads(SAMPLE_CSV, store=tmp_path / "store.duckdb")
    def made_at(when: str):
        m = starter_model(leads)
        return m.model_copy(update={"metadata": m.metadata.model_copy(update={"created": when, "updated": when})})

    first, second = made_at("2026-12-02T06:00:01Z"), made_at("2026-12-02T06:00:09Z")
    assert first != second and first.metadata.updated != second.metadata.updated  # equal but for the stamps
    options = loading.default_suggest_options(leads)
    a = loading._suggestion_future(leads, first, options, (), background=True)
    b = loading._suggestion_future(leads, second, options, (), background=True)
    assert a is b
    assert a.result(timeout=120).model is not None


def test_roles_the_room_set_reach_a_new_session_on_the_same_file(tmp_path, monkeypatch):
    """Ignoring a column is kept with the dataset: a colleague's new session on the server's --data file opens it so, and
    shares the LeadSet of the session that set it (before, a new session got the file as first read, the column back in)."""
    store = tmp_path / "store.duckdb"
    a = start_app(monkeypatch, store)
    a.switch_page("pages/data.py").run()
    a.button(key="ignore_leak::opportunity_amount").click().run()
    assert not a.exception and "opportunity_amount" not in a.session_state["workbench"].leads.attributes
    b = start_app(monkeypatch, store)
    assert not b.exception, b.exception
    assert "opportunity_amount" not in b.session_state["workbench"].leads.attributes
    assert b.session_state["workbench"].leads is a.session_state["workbench"].leads
