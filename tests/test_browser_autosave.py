"""A browser reload keeps the room's work: move a points slider, reload (F5), Continue, and the moved model is back.

Runs ``streamlit run app.py`` on the bundled sample with a temporary store and drives Debian's
chromium through Playwright (tests/browser_support.py). Expected tiles come from the core
(``load_leads`` + the sample model + ``backtest``), formatted as workbench/describe.py does.
"""

from __future__ import annotations

import time

import pytest

import browser_support as bs

pytestmark = bs.browser_marks()

POINTS_LABEL = "job_level: VP"  # the first fit attribute's expander is open by default
OFFER = "Continue where the last session stopped?"


def pct(x: float) -> str:
    return "–" if x != x else f"{x:.1%}"


def tiles(r) -> dict[str, str]:
    return {"Precision": pct(r.precision), "Recall": pct(r.recall), "MQLs": f"{r.mql:,} ({r.mql_rate:.1%})"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    bs.require_browser()
    with bs.served(tmp_path_factory, "autosave_store") as srv:
        yield srv


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    import lead_model

    store = tmp_path_factory.mktemp("core_store") / "lead_store.duckdb"  # not the server's store
    return lead_model.load_leads(bs.SAMPLE_CSV, store=store), lead_model.ScoringModel.from_file(bs.SAMPLE_MODEL)


def ready(page, server) -> None:
    try:
        bs.wait_app_ready(page, timeout=90)
        bs.wait_points_sliders(page, timeout=60)
    except (TimeoutError, LookupError) as exc:
        raise AssertionError(f"{exc}\n--- server log ---\n{server.log()[-3000:]}") from None


def wait_until(check, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_reload_then_continue_brings_the_moved_model_back(server, browser, core):
    import lead_model

    leads, model = core
    start_points = model.attribute("job_level").level_points()["VP"]
    moved = model.with_points("job_level", "VP", start_points - 3)
    want, start = tiles(lead_model.backtest(leads, moved)), tiles(lead_model.backtest(leads, model))
    assert want["Precision"] != start["Precision"], "test precondition: the move must change precision"

    page = bs.open_page(browser, server.url + bs.DESIGNER_PATH, width=1600, height=1800)
    try:
        ready(page, server)
        assert page.get_by_text(OFFER).count() == 0  # a fresh store has nothing to continue
        assert bs.slider_value(page, POINTS_LABEL) == start_points
        loc = bs.reveal_slider(page, POINTS_LABEL)
        for target in range(start_points - 1, start_points - 4, -1):  # three presses at a user's pace
            if not loc.evaluate("el => document.activeElement === el"):
                loc.focus()
            page.keyboard.press("ArrowLeft")
            wait_until(lambda: bs.slider_value(page, POINTS_LABEL) == target, f"the slider at {target}")
            bs.wait_idle(page, timeout=30)
        wait_until(lambda: bs.metric_text(page, "Precision") == want["Precision"], f"Precision {want['Precision']}")

        page.reload()  # F5: a new session, which starts on the sample model again
        ready(page, server)
        offer = page.get_by_text(OFFER)
        wait_until(lambda: offer.count() == 1, "the offer to continue")
        text = offer.first.inner_text().replace("\u2192", "->")  # Streamlit's Markdown draws -> as an arrow
        assert f"3 changes: job_level: VP {start_points} -> {start_points - 3}" in text, text
        assert bs.slider_value(page, POINTS_LABEL) == start_points
        assert bs.metric_text(page, "Precision") == start["Precision"]

        page.get_by_role("button", name="Continue", exact=True).click()
        wait_until(lambda: bs.metric_text(page, "Precision") == want["Precision"], f"Precision {want['Precision']} after Continue")
        bs.wait_idle(page, timeout=30)
        wait_until(lambda: bs.slider_value(page, POINTS_LABEL) == start_points - 3, "the slider back at the moved value")
        shown = bs.metric_texts(page)
        assert {k: shown.get(k) for k in want} == want
        assert page.get_by_text(OFFER).count() == 0
    finally:
        page.close()


def test_a_restarted_server_offers_to_continue(tmp_path, browser, core):
    """Move a slider, stop the server, start it again on the same file and store (``make run``, ``--data FILE``), reload:
    the unchanged file's stored rows are opened (no new table) and the offer is there (autosaves are keyed by content)."""
    import lead_model
    from lead_model.data.store import LeadStore
    from lead_model.workbench.autosave import dataset_fingerprint, latest_autosave

    bs.require_browser()
    leads, model = core
    store = tmp_path / "lead_store.duckdb"
    start_points = model.attribute("job_level").level_points()["VP"]
    want = tiles(lead_model.backtest(leads, model.with_points("job_level", "VP", start_points - 2)))
    first = bs.start_server(bs.SAMPLE_CSV, store, timeout=90, log_dir=tmp_path)
    second = None
    page = bs.open_page(browser, first.url + bs.DESIGNER_PATH, width=1280, height=800)
    try:
        ready(page, first)
        table = LeadStore(store).info("leads").table
        loc = bs.reveal_slider(page, POINTS_LABEL)
        for target in (start_points - 1, start_points - 2):
            if not loc.evaluate("el => document.activeElement === el"):
                loc.focus()
            page.keyboard.press("ArrowLeft")
            wait_until(lambda: bs.slider_value(page, POINTS_LABEL) == target, f"the slider at {target}")
            bs.wait_idle(page, timeout=30)
        wait_until(lambda: bs.metric_text(page, "Precision") == want["Precision"], f"Precision {want['Precision']}")
        # the server's background writer has stored the last move (read through the store's lock, as another program would)
        content = dataset_fingerprint(store, "leads")
        wait_until(lambda: (s := latest_autosave(store, "leads", content)) is not None and s.changes == 2, "the autosave of both moves")

        # The tab is closed before the server stops (else its reconnecting socket races the new
        # server's first run), and opened again on the same address once it is back.
        page.close()
        first.stop()  # the server process ends: nothing of the session survives in memory
        second = bs.start_server(bs.SAMPLE_CSV, store, timeout=90, log_dir=tmp_path, port=first.port)
        page = bs.open_page(browser, second.url + bs.DESIGNER_PATH, width=1280, height=800)
        ready(page, second)
        assert LeadStore(store).info("leads").table == table  # the unchanged file's stored rows, not stored again
        offer = page.get_by_text(OFFER)
        wait_until(lambda: offer.count() == 1, "the offer to continue after the restart")
        text = offer.first.inner_text().replace("\u2192", "->")
        assert f"2 changes: job_level: VP {start_points} -> {start_points - 2}" in text, text
        page.get_by_role("button", name="Continue", exact=True).click()
        wait_until(lambda: bs.metric_text(page, "Precision") == want["Precision"], f"Precision {want['Precision']} after Continue")
        bs.wait_idle(page, timeout=30)
        assert bs.slider_value(page, POINTS_LABEL) == start_points - 2
    finally:
        page.close()
        first.stop()
        if second is not None:
            second.stop()
