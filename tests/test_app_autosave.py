"""Autosave in AppTest: every move is saved to the store; a new session on the same data offers to continue it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import start_app
from streamlit.testing.v1 import AppTest

from lead_model import ScoringModel, backtest
from lead_model.workbench.autosave import dataset_fingerprint, latest_autosave

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "leads.csv"
SAMPLE_MODEL = ROOT / "sample_data" / "sample_model.yaml"
VP = "points::job_level::VP"  # pages/session.py points_key("job_level", "VP")
OFFER = "Continue where the last session stopped?"

pytestmark = pytest.mark.skipif(not (SAMPLE.is_file() and SAMPLE_MODEL.is_file()), reason="the bundled sample is missing")


@pytest.fixture
def store(tmp_path) -> Path:
    return tmp_path / "store.duckdb"


def session(store: Path, monkeypatch) -> AppTest:
    """A new browser session (what a reload, F5, is) on the sample, with the store in tmp_path."""
    return start_app(monkeypatch, store)


def offers(at: AppTest) -> list[str]:
    """The offer lines shown, Markdown escapes removed (the text names columns from the user's file)."""
    texts = [m.value.replace("\\", "").removeprefix(":material/history: ") for m in at.markdown]
    return [t for t in texts if t.startswith(OFFER)]


def saved_now(at: AppTest):
    leads, store = at.session_state["workbench"].leads, at.session_state["dataset"].store
    return latest_autosave(store, leads.name, dataset_fingerprint(store, leads.name))


def test_moves_are_saved_and_a_new_session_continues_them(store, monkeypatch):
    first = session(store, monkeypatch)
    start = ScoringModel.from_file(SAMPLE_MODEL)
    assert offers(first) == []  # nothing saved yet
    vp = start.attribute("job_level").level_points()["VP"]
    first.slider(key=VP).set_value(vp + 5).run()
    first.run()
    first.slider(key="mql_threshold").set_value(start.mql_threshold - 5).run()
    moved = first.session_state["workbench"].model
    assert moved == start.with_points("job_level", "VP", vp + 5).replace(mql_threshold=start.mql_threshold - 5)
    got = saved_now(first)
    assert (got.model, got.baseline, got.changes) == (moved, start, 2)
    assert got.changed == f"MQL threshold {start.mql_threshold} -> {start.mql_threshold - 5}"

    second = session(store, monkeypatch)  # F5: a new session starts on the sample model
    assert second.session_state["workbench"].model == start
    [line] = offers(second)
    assert f", 2 changes: job_level: VP {vp} -> {vp + 5}; MQL threshold {start.mql_threshold} -> {start.mql_threshold - 5}" in line
    second.button(key="resume_continue").click().run()
    assert not second.exception, second.exception
    wb = second.session_state["workbench"]
    assert (wb.model, wb.baseline, wb.changes) == (moved, start, 2)
    assert offers(second) == []
    assert second.slider(key=VP).value == vp + 5
    assert second.slider(key="mql_threshold").value == start.mql_threshold - 5
    r = backtest(wb.leads, moved)
    assert {m.label: m.value for m in second.metric}["Precision"] == f"{r.precision:.1%}"
    with pytest.raises(KeyError):
        second.button(key="resume_continue")  # gone with the offer
    # Continuing is undoable, back to the model the session started with
    [undo] = [b for b in second.button if b.label == "Undo"]
    undo.click().run()
    assert second.session_state["workbench"].model == start


def test_start_over_keeps_the_starting_model(store, monkeypatch):
    first = session(store, monkeypatch)
    start = ScoringModel.from_file(SAMPLE_MODEL)
    first.slider(key="mql_threshold").set_value(start.mql_threshold + 4).run()
    second = session(store, monkeypatch)
    assert len(offers(second)) == 1
    second.button(key="resume_start_over").click().run()
    assert not second.exception, second.exception
    assert offers(second) == [] and second.session_state["workbench"].model == start
    # the next change replaces the old autosave: this session's count starts again
    second.slider(key="mql_threshold").set_value(start.mql_threshold - 2).run()
    got = saved_now(second)
    assert got.changes == 1 and got.model.mql_threshold == start.mql_threshold - 2


def test_no_offer_when_the_saved_model_is_the_starting_one(store, monkeypatch):
    first = session(store, monkeypatch)
    start = ScoringModel.from_file(SAMPLE_MODEL)
    first.slider(key="mql_threshold").set_value(start.mql_threshold + 4).run()
    first.slider(key="mql_threshold").set_value(start.mql_threshold).run()  # moved back: the saved model is the start
    assert saved_now(first).model == start
    assert offers(session(store, monkeypatch)) == []


def test_a_restarted_server_loading_the_same_file_offers_to_continue(tmp_path, monkeypatch):
    """A restart (make run, --data FILE) opens the stored rows of the unchanged file (no new table: sessions that have it
    open are not told it was replaced) and offers its work; the file changed is stored again, and not offered it."""
    from pages import loading

    data = tmp_path / "leads.csv"
    data.write_bytes(SAMPLE.read_bytes())  # a file of this test's own, so the other content below can replace it
    store = tmp_path / "store.duckdb"
    first = start_app(monkeypatch, store, data)
    start = first.session_state["workbench"].model
    first.slider(key="mql_threshold").set_value(start.mql_threshold + 3).run()
    table = first.session_state["workbench"].leads.info.table

    loading._leads_from_file.clear()  # what a restart does: no LeadSet in memory
    second = start_app(monkeypatch, store, data)
    assert second.session_state["workbench"].leads.info.table == table  # the same rows, not stored again
    [line] = offers(second)
    assert f"1 change: MQL threshold {start.mql_threshold} -> {start.mql_threshold + 3}" in line
    second.button(key="resume_continue").click().run()
    assert second.session_state["workbench"].model.mql_threshold == start.mql_threshold + 3

    lines = data.read_text().splitlines(keepends=True)
    data.write_text("".join(lines[:-1]))  # one lead fewer: other content under the same name
    loading._leads_from_file.clear()
    third = start_app(monkeypatch, store, data)
    assert offers(third) == [] and third.session_state["workbench"].model.mql_threshold == start.mql_threshold
    assert third.session_state["workbench"].leads.info.table != table and third.session_state["workbench"].leads.n_leads == 49_999


# ----- a hosted app: each browser its own autosave ----------------------------------------------------
def hosted_session(store: Path, monkeypatch, token: str | None = None) -> AppTest:
    """A new session of a hosted app; ``token``: the ?browser=… its URL carries (a reload of that tab), None: a new tab."""
    monkeypatch.setenv("LEAD_MODEL_HOSTED", "1")
    monkeypatch.setenv("LEAD_MODEL_STORE", str(store))
    monkeypatch.setenv("LEAD_MODEL_DATA", str(SAMPLE))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if token is not None:
        at.query_params["browser"] = token
    at.run()
    assert not at.exception, at.exception
    return at


def test_on_a_hosted_app_a_reload_offers_this_browsers_work_and_nobody_elses(store, monkeypatch):
    alice = hosted_session(store, monkeypatch)
    token = alice.query_params["browser"][0] if isinstance(alice.query_params["browser"], list) else alice.query_params["browser"]
    assert len(token) >= 8 and alice.session_state["browser_token"] == token  # kept in the URL, so F5 keeps it
    start = ScoringModel.from_file(SAMPLE_MODEL)
    vp = start.attribute("job_level").level_points()["VP"]
    alice.slider(key=VP).set_value(vp + 5).run()
    from lead_model.workbench.autosave import WRITER

    WRITER.flush()

    bob = hosted_session(store, monkeypatch)  # a colleague's new tab on the same data
    assert bob.session_state["browser_token"] != token
    assert offers(bob) == []  # Alice's edit is hers
    bob.slider(key="mql_threshold").set_value(start.mql_threshold - 7).run()
    WRITER.flush()

    again = hosted_session(store, monkeypatch, token)  # Alice presses F5: her tab's URL still has her token
    [line] = offers(again)
    assert f"1 change: job_level: VP {vp} -> {vp + 5}" in line and "MQL threshold" not in line  # hers, not Bob's later one
    bob_again = hosted_session(store, monkeypatch, bob.session_state["browser_token"])
    [line] = offers(bob_again)
    assert f"MQL threshold {start.mql_threshold} -> {start.mql_threshold - 7}" in line and "job_level" not in line


def test_a_made_up_browser_token_is_replaced(store, monkeypatch):
    at = hosted_session(store, monkeypatch, "<script>")
    assert at.session_state["browser_token"] != "<script>" and len(at.session_state["browser_token"]) >= 8


def test_a_reload_opens_the_tabs_dataset_again_not_the_servers_file(store, monkeypatch, tmp_path):
    """?dataset= in the URL (set on every run) makes F5 reopen that stored dataset, on a workshop laptop too."""
    from conftest import write_csv

    first = session(store, monkeypatch)
    other = write_csv(tmp_path / "q3.csv", ["lead_id", "segment", "converted"], [[f"Q{i}", "ab"[i % 2], "yes" if i % 4 == 0 else "no"] for i in range(64)])
    first.switch_page("pages/data.py").run()
    first.text_input(key="load_path").set_value(str(other)).run()
    first.button(key="load_path_button").click().run()
    assert first.session_state["workbench"].leads.name == "q3"
    monkeypatch.setenv("LEAD_MODEL_STORE", str(store))
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    again.query_params["dataset"] = "q3"
    again.run()
    assert not again.exception, again.exception
    assert again.session_state["workbench"].leads.name == "q3" and again.session_state["workbench"].leads.n_leads == 64
    stray = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    stray.query_params["dataset"] = "no such dataset"
    stray.run()
    assert stray.session_state["workbench"].leads.name == "leads"  # not stored: the server's --data, as before
