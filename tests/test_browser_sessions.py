"""Two browser sessions on one server: a session's keyboard moves never show in the other one.

Runs ``streamlit run app.py`` on the bundled sample with a temporary store and opens two
browser contexts (two sessions: cookies, storage and websocket of their own) in one chromium.
Session A moves the MQL threshold and a points slider by keyboard; session B, drawn again from
the server (a trip to the Data page and back: a full run of its Designer), shows the sliders
and KPI tiles it showed before. Then B moves and A, drawn again, still shows its own moves.
Expected tiles after a move come from the core (``load_leads`` + the sample model + ``backtest``).
"""

from __future__ import annotations


import pytest

import browser_support as bs

pytestmark = bs.browser_marks()

POINTS_ATTRIBUTE, POINTS_VALUE = "job_level", "VP"
POINTS_LABEL = "job_level: VP"  # the first fit attribute's expander is open by default
TILES = ("Precision", "Recall", "MQLs", "Lift", "AUC")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    bs.require_browser()
    with bs.served(tmp_path_factory, "sessions_store") as srv:
        yield srv


def open_designer(browser, server):
    """A new browser context (a session of its own) on the Designer, first render done, sidebar included."""
    context = browser.new_context(viewport={"width": 1600, "height": 1800})
    page = context.new_page()
    page.add_init_script(bs.RUN_TRACKER_JS)
    page.goto(server.url + bs.DESIGNER_PATH)
    try:
        bs.wait_app_ready(page, timeout=90)
        bs.wait_points_sliders(page, timeout=60)
    except (TimeoutError, LookupError) as exc:
        raise AssertionError(f"{exc}\n--- server log ---\n{server.log()[-3000:]}") from None
    return context, page


def shown(page) -> dict:
    """What a person sees that a move changes: the two sliders and the KPI tiles."""
    tiles = bs.metric_texts(page)
    return {
        "threshold": bs.slider_value(page, bs.THRESHOLD),
        "points": bs.slider_value(page, POINTS_LABEL),
        "tiles": {k: tiles.get(k) for k in TILES},
    }


def redraw(page) -> None:
    """The Designer drawn again from the session's state on the server: to the Data page and back."""
    bs.goto_page(page, "Data", selector='h1:has-text("Data")')
    bs.goto_page(page, "Designer")
    bs.wait_points_sliders(page, timeout=60)


def expected_tiles(r) -> dict[str, str]:
    """The tiles as lead_model/workbench/describe.py kpi_tiles formats them (baseline deltas aside)."""
    pct = lambda x: "–" if x != x else f"{x:.1%}"  # noqa: E731
    return {"Precision": pct(r.precision), "Recall": pct(r.recall), "MQLs": f"{r.mql:,} ({r.mql_rate:.1%})",
            "Lift": f"{r.lift_at_threshold:.2f}x", "AUC": f"{r.auc:.3f}"}


def test_moves_in_one_session_never_show_in_the_other(server, browser, tmp_path):
    import lead_model

    leads = lead_model.load_leads(bs.SAMPLE_CSV, store=tmp_path / "core.duckdb")  # the core alone, not the server's store
    model = lead_model.ScoringModel.from_file(bs.SAMPLE_MODEL)
    ctx_a, a = open_designer(browser, server)
    ctx_b, b = open_designer(browser, server)
    try:
        start = shown(a)
        assert shown(b) == start
        assert start["tiles"] == expected_tiles(lead_model.backtest(leads, model))

        # A: threshold +3, VP -4, by keyboard
        bs.press_slider(a, bs.THRESHOLD, "ArrowRight", 3)
        bs.press_slider(a, POINTS_LABEL, "ArrowLeft", 4)
        moved_model = model.with_points(POINTS_ATTRIBUTE, POINTS_VALUE, int(start["points"]) - 4).replace(mql_threshold=int(start["threshold"]) + 3)
        redraw(a)
        moved = shown(a)
        assert moved == {"threshold": start["threshold"] + 3, "points": start["points"] - 4,
                         "tiles": expected_tiles(lead_model.backtest(leads, moved_model))}
        assert moved["tiles"] != start["tiles"]  # the move does show, in A

        assert shown(b) == start  # B's page as it was
        redraw(b)
        assert shown(b) == start  # and as B's session on the server has it

        # B: threshold -2, VP +5; A keeps its own moves
        bs.press_slider(b, bs.THRESHOLD, "ArrowLeft", 2)
        bs.press_slider(b, POINTS_LABEL, "ArrowRight", 5)
        redraw(b)
        b_model = model.with_points(POINTS_ATTRIBUTE, POINTS_VALUE, int(start["points"]) + 5).replace(mql_threshold=int(start["threshold"]) - 2)
        assert shown(b) == {"threshold": start["threshold"] - 2, "points": start["points"] + 5,
                            "tiles": expected_tiles(lead_model.backtest(leads, b_model))}
        redraw(a)
        assert shown(a) == moved
        for page in (a, b):
            assert not page.locator('[data-testid="stException"]').count()
    finally:
        ctx_a.close()
        ctx_b.close()
