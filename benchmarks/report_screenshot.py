"""The README's picture of the workshop report, docs/report.png: the report of the bundled sample, opened offline in Debian's chromium.

    .venv/bin/python benchmarks/report_screenshot.py

Writes the report (the sample model, signed off, compared with an earlier draft) to a temporary
folder, opens it from file:// with every other request aborted, waits for the six charts and
writes a PNG of the page from the top to the end of the charts at 1280 px wide. The only
command that writes docs/report.png; tests write their screenshots under their tmp_path.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import browser_support as bs  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default=str(ROOT / "docs" / "report.png"))
    ap.add_argument("--width", type=int, default=1280)
    args = ap.parse_args(argv)
    if reason := bs.chromium_missing_reason():
        sys.exit(f"cannot take the screenshot: {reason}")
    from playwright.sync_api import sync_playwright

    from lead_model import ScoringModel, load_leads
    from lead_model.export.config import Signoff
    from lead_model.export.report import write_report

    with tempfile.TemporaryDirectory(prefix="report_shot_") as tmp:
        tmp = Path(tmp)
        model = ScoringModel.from_file(bs.SAMPLE_MODEL)
        leads = load_leads(bs.SAMPLE_CSV, "converted", store=tmp / "s.duckdb", model=model)
        earlier = model.with_points("job_level", "VP", 15).with_points("webinar_attended", True, 20).replace(mql_threshold=55)
        signed = Signoff(sales="Priya Shah", marketing="Tom Berg", date="2025-06-30", notes="Agreed in the Q3 pipeline workshop.")
        report = write_report(tmp / "report.html", leads, model, previous=earlier, signed=signed, previous_label="the Q2 draft")
        url = report.resolve().as_uri()
        blocked: list[str] = []
        with sync_playwright() as pw:
            browser = bs.launch_chromium(pw)
            try:
                page = browser.new_page(viewport={"width": args.width, "height": 900})
                page.route("**/*", lambda r: r.continue_() if r.request.url == url else (blocked.append(r.request.url), r.abort()))
                page.goto(url)
                page.wait_for_function("() => [...document.querySelectorAll('div.vega')].every(d => d.dataset.drawn === 'true')", timeout=60_000)
                page.wait_for_timeout(400)  # the charts' enter transitions
                bottom = page.evaluate("() => document.querySelector('section#charts').getBoundingClientRect().bottom + window.scrollY")
                out = Path(args.out)
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": args.width, "height": int(bottom) + 16})
            finally:
                browser.close()
    if blocked:
        sys.exit(f"the report asked for {blocked}; it must open offline")
    print(f"Wrote {out} ({out.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
