"""The Designer in a real browser: keyboard moves on sliders update the KPI tiles to the core's numbers.

Runs ``streamlit run app.py`` on the bundled sample (50,000 leads) with a temporary store and
drives Debian's chromium through Playwright. Expected values are computed here, independently,
with the core (``load_leads`` + the sample model + ``backtest``) and formatted the way
``lead_model/workbench/describe.py::kpi_tiles`` formats them. Screenshots go under tmp_path only; the README's
docs/designer.png is written by ``make screenshots`` (benchmarks/screenshots.py), never by a test.

Without /usr/bin/chromium these tests are skipped with the reason, except under CI=true,
where they fail: CI installs chromium (``make browser``), so a missing browser is a bug there.
"""

from __future__ import annotations

import time

import pytest

import browser_support as bs

pytestmark = bs.browser_marks()

# pages/designer.py labels points sliders f"{attr.name}: {row.label}" (booleans "true"/"false",
# bins "3 to < 6"); job_level is the first fit attribute, whose expander is open by default.
POINTS_ATTRIBUTE, POINTS_VALUE = "job_level", "VP"
POINTS_LABEL = "job_level: VP"


# ----- the app's formatting (lead_model/formatting.py pct and workbench/describe.py kpi_tiles) -------------------------
def pct(x: float) -> str:
    return "–" if x != x else f"{x:.1%}"


def expected_tiles(r) -> dict[str, str]:
    return {
        "Precision": pct(r.precision),
        "Recall": pct(r.recall),
        "MQLs": f"{r.mql:,} ({r.mql_rate:.1%})",
    }


# ----- fixtures ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    bs.require_browser()
    with bs.served(tmp_path_factory, "browser_store") as srv:
        yield srv


@pytest.fixture
def designer(server, browser):
    """A fresh session (new page) on the Designer, first render done, sidebar included."""
    page = bs.open_page(browser, server.url + bs.DESIGNER_PATH, width=1600, height=1800)
    try:
        try:
            bs.wait_app_ready(page, timeout=90)
            bs.wait_points_sliders(page, timeout=60)
        except (TimeoutError, LookupError) as exc:
            raise AssertionError(f"{exc}\n--- server log ---\n{server.log()[-3000:]}") from None
        yield page
    finally:
        page.close()


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    """The sample leads and the model the app starts with on the sample, through the core alone."""
    import lead_model

    store = tmp_path_factory.mktemp("core_store") / "lead_store.duckdb"  # not the server's store
    leads = lead_model.load_leads(bs.SAMPLE_CSV, store=store)
    model = lead_model.ScoringModel.from_file(bs.SAMPLE_MODEL)
    return leads, model


def wait_for_tiles(page, expected: dict[str, str], timeout: float = 30.0) -> dict[str, str]:
    """Poll the tiles until they show ``expected`` and the app is idle; return what is shown."""
    deadline = time.monotonic() + timeout
    shown: dict[str, str] = {}
    while time.monotonic() < deadline:
        shown = bs.metric_texts(page)
        if all(shown.get(k) == v for k, v in expected.items()):
            bs.wait_idle(page, timeout=max(1.0, deadline - time.monotonic()))
            return bs.metric_texts(page)
        time.sleep(0.05)
    return shown


def press(page, label: str, key: str, times: int, settle: bool = False) -> None:
    """Press ``key`` on the slider ``times`` times; with ``settle``, wait for each rerun (a user's pace).

    Settling waits for the slider to show its new value and the app to go idle, not for a
    tile to change: a one-point move often changes no tile at the shown precision.
    """
    loc = bs.reveal_slider(page, label)
    loc.focus()
    step = 1 if key in ("ArrowRight", "ArrowUp") else -1
    for _ in range(times):
        if settle and not loc.evaluate("el => document.activeElement === el"):
            loc.focus()
        target = bs.slider_value(page, label) + step
        page.keyboard.press(key)
        if settle:
            deadline = time.monotonic() + 30
            while bs.slider_value(page, label) != target and time.monotonic() < deadline:
                time.sleep(0.05)
            bs.wait_idle(page, timeout=30)


# ----- tests -------------------------------------------------------------------------------
def test_threshold_keyboard_moves_update_tiles_to_core_numbers(designer, core):
    import lead_model

    leads, model = core
    page = designer
    start = lead_model.backtest(leads, model)
    shown = bs.metric_texts(page)
    assert {k: shown.get(k) for k in ("Precision", "Recall", "MQLs")} == expected_tiles(start)
    assert shown.get("AUC") == f"{start.auc:.3f}"
    assert bs.slider_value(page, bs.THRESHOLD) == model.mql_threshold

    new_threshold = model.mql_threshold + 3
    moved = lead_model.backtest(leads, model.replace(mql_threshold=new_threshold))
    want = expected_tiles(moved)
    assert want["Precision"] != expected_tiles(start)["Precision"], "test precondition: the move must change precision"
    press(page, bs.THRESHOLD, "ArrowRight", 3)
    shown = wait_for_tiles(page, want)
    assert bs.slider_value(page, bs.THRESHOLD) == new_threshold
    assert {k: shown.get(k) for k in want} == want
    assert shown.get("AUC") == f"{start.auc:.3f}"  # a threshold move does not change the ranking


def test_points_keyboard_moves_update_tiles_to_core_numbers(designer, core):
    import lead_model

    leads, model = core
    page = designer
    before = model.attribute(POINTS_ATTRIBUTE).level_points()
    start_points = int(bs.slider_value(page, POINTS_LABEL))
    assert start_points == before[POINTS_VALUE]

    new_points = start_points - 3
    edited = model.with_points(POINTS_ATTRIBUTE, POINTS_VALUE, new_points)
    moved = lead_model.backtest(leads, edited)
    want = expected_tiles(moved)
    assert want != expected_tiles(lead_model.backtest(leads, model)), "test precondition: the move must change the tiles"
    press(page, POINTS_LABEL, "ArrowLeft", 3, settle=True)
    shown = wait_for_tiles(page, {**want, "AUC": f"{moved.auc:.3f}"})
    assert bs.slider_value(page, POINTS_LABEL) == new_points
    assert {k: shown.get(k) for k in want} == want
    assert shown.get("AUC") == f"{moved.auc:.3f}"


# Counts, from now on, chart canvas draws and canvases added (a chart embedded anew instead of
# having its data swapped: Vega compiles it again, the slowest thing a move can do).
_WATCH_CHARTS_JS = """() => {
  const W = window.__charts = {draws: 0, embedded: 0};
  const inChart = el => el && el.closest && el.closest('[data-testid="stVegaLiteChart"]');
  const clear = CanvasRenderingContext2D.prototype.clearRect;
  CanvasRenderingContext2D.prototype.clearRect = function (...a) { if (inChart(this.canvas)) W.draws++; return clear.apply(this, a); };
  new MutationObserver(rs => { for (const r of rs) for (const n of r.addedNodes)
    if (n.nodeType === 1 && (n.matches('canvas') || n.querySelector('canvas')) && inChart(n)) W.embedded++; })
    .observe(document.body, {subtree: true, childList: true});
}"""


def test_moves_redraw_charts_in_place_and_undo_follows(designer, core):
    """Slider moves swap the charts' data (no chart is embedded anew); a full rerun (Undo) after them brings the slider back."""
    import lead_model

    leads, model = core
    page = designer
    page.evaluate(_WATCH_CHARTS_JS)
    press(page, bs.THRESHOLD, "ArrowRight", 2, settle=True)
    press(page, POINTS_LABEL, "ArrowLeft", 2, settle=True)
    moved = model.with_points(POINTS_ATTRIBUTE, POINTS_VALUE, model.attribute(POINTS_ATTRIBUTE).level_points()[POINTS_VALUE] - 2)
    moved = moved.replace(mql_threshold=model.mql_threshold + 2)
    shown = wait_for_tiles(page, expected_tiles(lead_model.backtest(leads, moved)))
    assert {k: shown.get(k) for k in ("Precision", "Recall", "MQLs")} == expected_tiles(lead_model.backtest(leads, moved))
    watched = page.evaluate("window.__charts")
    assert watched["draws"] > 0 and watched["embedded"] == 0, watched

    page.get_by_role("button", name="Undo").first.click()  # undoes the last points move: a full rerun
    undone = moved.with_points(POINTS_ATTRIBUTE, POINTS_VALUE, moved.attribute(POINTS_ATTRIBUTE).level_points()[POINTS_VALUE] + 1)
    points = undone.attribute(POINTS_ATTRIBUTE).level_points()[POINTS_VALUE]
    deadline = time.monotonic() + 30
    while bs.slider_value(page, POINTS_LABEL) != points and time.monotonic() < deadline:  # the sidebar follows the model
        time.sleep(0.05)
    assert bs.slider_value(page, POINTS_LABEL) == points
    shown = wait_for_tiles(page, expected_tiles(lead_model.backtest(leads, undone)))
    assert {k: shown.get(k) for k in ("Precision", "Recall", "MQLs")} == expected_tiles(lead_model.backtest(leads, undone))
    assert page.evaluate("window.__charts")["embedded"] == 0


def test_designer_screenshot(designer, tmp_path):
    """The whole Designer renders: the tiles, the controls and all six charts (screenshot under tmp_path only)."""
    page = designer
    charts = page.locator(bs.CHARTS)
    drawn = bs.wait_charts_drawn(page, at_least=6)
    assert charts.count() >= 6 and drawn == charts.count(), f"{drawn} of {charts.count()} charts drawn"
    out = bs.screenshot_designer(page, tmp_path / "designer.png", width=1600)
    assert out.stat().st_size > 50_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
