"""The README's screenshot, docs/designer.png: the Designer on the bundled sample, 1280 px wide (the projector).

    .venv/bin/python benchmarks/screenshots.py          # or: make screenshots

Starts the app (real ``streamlit run``, loopback only, a temporary lead store) on
sample_data/leads.csv, opens the Designer in Debian's chromium at 1280x800, waits for the
tiles, the sidebar and all six charts, then grows the viewport to the page's height (same
width, so the same layout) and writes the PNG. The only command that writes docs/; tests
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
            finally:
                browser.close()
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
