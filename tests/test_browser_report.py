"""The workshop report in Debian chromium with every network request blocked: every chart is drawn and nothing is asked for.

The report is written by ``write_report`` on the bundled sample (compared with an earlier model,
with a hostile sign-off), opened from file://, and every request other than the file itself is
aborted and recorded (tests/browser_support.py launches chromium). A screenshot goes to tmp_path.
"""

from __future__ import annotations


import pytest

import browser_support as bs

pytestmark = bs.browser_marks()

CHARTS = ["threshold", "lift", "gains", "distribution", "tiers", "grades"]


@pytest.fixture(scope="module")
def report_file(tmp_path_factory, sample_leads, sample_model):
    from lead_model.export.config import Signoff
    from lead_model.export.report import write_report

    earlier = sample_model.with_points("job_level", "VP", 30).replace(mql_threshold=55)
    signed = Signoff(sales="Priya Shah", marketing="<script>alert(1)</script>", date="2025-06-30", notes="Agreed.")
    return write_report(tmp_path_factory.mktemp("report") / "report.html", sample_leads, sample_model, previous=earlier, signed=signed)


@pytest.fixture(scope="module")
def opened(browser, report_file, tmp_path_factory):
    url = report_file.resolve().as_uri()
    blocked: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    def route(r):
        if r.request.url == url:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url)
    page.wait_for_function(
        "() => [...document.querySelectorAll('div.vega')].every(d => d.dataset.drawn === 'true' || d.classList.contains('chart-error'))",
        timeout=60_000,
    )
    page.wait_for_timeout(300)  # the charts' enter transitions
    shot = tmp_path_factory.mktemp("report_shot") / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    yield page, blocked, errors, dialogs, shot
    page.close()


def test_every_chart_is_drawn_with_a_canvas_of_real_size(opened):
    page, _, errors, _, _ = opened
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('div.vega')].map(d => {
             const c = d.querySelector('canvas');
             const box = c ? c.getBoundingClientRect() : null;
             return {chart: d.dataset.chart, drawn: d.dataset.drawn === 'true', error: d.classList.contains('chart-error'),
                     width: box ? box.width : 0, height: box ? box.height : 0, text: d.innerText.slice(0, 200)};
           })"""
    )
    assert [d["chart"] for d in drawn] == CHARTS
    for d in drawn:
        assert d["drawn"] and not d["error"], d
        assert d["width"] > 300 and d["height"] > 150, d
        assert "could not be drawn" not in d["text"] and "error" not in d["text"].lower(), d
    assert not errors, errors


def test_the_canvases_hold_ink(opened):
    page = opened[0]
    # a drawn chart has many distinct colours; a blank canvas has one
    colours = page.evaluate(
        """() => [...document.querySelectorAll('div.vega canvas')].map(c => {
             const ctx = c.getContext('2d'); const px = ctx.getImageData(0, 0, c.width, c.height).data; const seen = new Set();
             for (let i = 0; i < px.length; i += 4 * 97) seen.add(px[i] + ',' + px[i + 1] + ',' + px[i + 2] + ',' + px[i + 3]);
             return seen.size; })"""
    )
    assert len(colours) == len(CHARTS) and min(colours) > 5, colours


def test_no_request_left_the_file_and_no_script_ran_from_the_data(opened):
    page, blocked, _, dialogs, _ = opened
    assert blocked == []
    assert dialogs == []  # the sign-off's <script>alert(1)</script> is text
    assert "<script>alert(1)</script>" in page.locator("#signoff").inner_text()
    resources = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == []


def test_every_section_is_on_the_page_and_a_screenshot_is_taken(opened):
    from lead_model.export.report import SECTIONS

    page, _, _, _, shot = opened
    for section in SECTIONS:
        assert page.locator(f"section#{section}").count() == 1, section
    assert page.locator("section#points").inner_text().count(": +") > 20
    assert shot.stat().st_size > 100_000
