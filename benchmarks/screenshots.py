"""The README's screenshots, docs/designer.png and docs/review.png: the Designer and the Review page on the bundled sample, 1280 px wide (the projector).

    .venv/bin/python benchmarks/screenshots.py          # or: make screenshots

Starts the app (real ``streamlit run``, loopback only, a temporary lead store) on
sample_data/leads.csv, opens the Designer in Debian's chromium at 1280x800, waits for the
tiles, the sidebar and all six charts, then grows the viewport to the page's height (same
width, so the same layout) and writes the PNG. Then it saves and publishes the sample model as
a version and shows the Review page's summary, trend and cohorts
(docs/review.png). The only command that writes docs/; tests
write their screenshots under their tmp_path.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import browser_support as bs  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default=str(ROOT / "docs" / "designer.png"))
    ap.add_argument("--review-out", default=str(ROOT / "docs" / "review.png"))
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=800, help="viewport height the page is laid out at")
    ap.add_argument("--viewport-only", action="store_true", help="the viewport as it is, not the whole page")
    args = ap.parse_args(argv)
    if reason := bs.chromium_missing_reason():
        sys.exit(f"cannot take screenshots: {reason}")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="screenshots_") as tmp:
        tmp = Path(tmp)
        with bs.running_server(bs.SAMPLE_CSV, tmp / "lead_store.duckdb", timeout=120, log_dir=tmp) as server, sync_playwright() as pw:
            browser = bs.launch_chromium(pw)
            try:
                page = bs.open_page(browser, server.url + bs.DESIGNER_PATH, width=args.width, height=args.height)
                bs.wait_app_ready(page, timeout=120)
                bs.wait_points_sliders(page, timeout=60)
                out = bs.screenshot_designer(page, args.out, width=args.width, full_height=not args.viewport_only)
                review = review_screenshot(page, args)
            finally:
                browser.close()
    for path in (out, review):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


def review_screenshot(page, args) -> Path:
    """The Review page after a version was published: summary, trend and cohorts."""
    page.set_viewport_size({"width": args.width, "height": args.height})
    page.locator('[data-testid="stTopNavLink"]').filter(has_text="Review").first.click()
    bs.wait_app_ready(page, timeout=120, selector='[data-testid="stTabs"]')
    page.get_by_role("tab", name="Versions").click()
    page.get_by_label("Version name").fill("Agreed in the Q1 workshop")
    page.get_by_role("button", name="Save and publish").click()
    page.get_by_text("it is the live model now").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Summary and trends").click()
    bs.wait_charts_drawn(page, at_least=1)
    bs.wait_idle(page)
    page.wait_for_timeout(300)
    page.set_viewport_size({"width": args.width, "height": 1500})
    bs.wait_idle(page)
    page.wait_for_timeout(500)
    path = Path(args.review_out)
    page.screenshot(path=str(path))
    return path


if __name__ == "__main__":
    main()
