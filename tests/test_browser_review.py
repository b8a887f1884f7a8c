"""The review meeting in a real browser: the summary on the sample, save and publish a version, move the threshold, compare with the live model.

Runs ``streamlit run app.py`` on the bundled sample with a temporary store and drives Debian's
chromium through Playwright (tests/browser_support.py) at the projector's 1280 x 800. The
expected crossers come from the core (per-lead scores of the sample model), not from the page.
"""

from __future__ import annotations

import re

import pytest

import browser_support as bs

pytestmark = bs.browser_marks()
TABS = '[data-testid="stTabs"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    bs.require_browser()
    with bs.served(tmp_path_factory, "review_store") as srv:
        yield srv


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_save_publish_move_and_compare(server, browser, tmp_path_factory):
    import lead_model

    page = bs.open_page(browser, server.url + "/review", width=1280, height=800)
    try:
        try:
            bs.wait_app_ready(page, timeout=120, selector=TABS)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n--- server log ---\n{server.log()[-3000:]}") from None
        text = main_text(page)
        assert "Summary for the meeting notes" in text and "lead_source drift PSI" in text and "Conversion rose" in text
        assert "Traceback" not in text

        page.get_by_role("tab", name="Versions").click()
        page.get_by_label("Version name").fill("Agreed in the Q1 workshop")
        page.get_by_role("button", name="Save and publish").click()
        page.get_by_text("it is the live model now").wait_for(timeout=30_000)
        bs.wait_idle(page)
        assert "#1 Agreed in the Q1 workshop (live)" in main_text(page)

        # move the threshold 5 points down in the Designer
        page.locator('[data-testid="stTopNavLink"]').filter(has_text="Designer").first.click()
        bs.wait_points_sliders(page, timeout=60)
        bs.wait_idle(page)
        page.wait_for_timeout(400)
        threshold = bs.reveal_slider(page, bs.THRESHOLD)
        threshold.focus()
        before = bs.metric_texts(page)
        for _ in range(5):  # the sample model's points are multiples of 5: 59 to 56 count the same MQLs as 60
            page.keyboard.press("ArrowLeft")
        bs.wait_metrics_change(page, before, labels=["MQLs"], timeout=30)
        page.get_by_text(re.compile(r"MQL threshold \d+ → 55")).wait_for(timeout=30_000)  # the undo note: key presses may arrive in one rerun
        bs.wait_idle(page)

        page.locator('[data-testid="stTopNavLink"]').filter(has_text="Review").first.click()
        page.locator(TABS).wait_for(timeout=60_000)
        bs.wait_idle(page)
        page.get_by_role("tab", name="Compare").click()
        page.get_by_text("leads become MQLs").wait_for(timeout=30_000)
        text = main_text(page)
        assert "MQL threshold 60 → 55" in text, text[:2000]  # Streamlit draws "->" as an arrow

        store = tmp_path_factory.mktemp("review_core") / "s.duckdb"
        leads = lead_model.load_leads(bs.SAMPLE_CSV, store=store)
        model = lead_model.ScoringModel.from_file(bs.SAMPLE_MODEL)
        s = leads.engine(model).scores(model)
        entered = (s.total >= 55) & (s.total < 60) & ~s.knocked_out
        assert f"{int(entered.sum()):,} leads become MQLs ({int(leads.converted[entered].sum()):,} of them converted)" in text
        assert "0 leads stop being MQLs" in text
        assert not page.locator('[data-testid="stException"]').count()
    finally:
        page.close()
