"""Lead Model Studio, the workshop app: ``streamlit run app.py -- --data leads.csv``.

Sets up the pages and the session's shared state (pages/session.py; loading in pages/loading.py, callbacks in pages/callbacks.py, the error boundary in pages/messages.py). The data file comes
from ``--data PATH`` after ``--`` or from $LEAD_MODEL_DATA; the lead store from
$LEAD_MODEL_STORE (default ./lead_store.duckdb). With LEAD_MODEL_TIMINGS=1 every run
logs ``script_ms=<ms> page=<page>`` to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

_started = time.perf_counter()
APP_DIR = Path(__file__).resolve().parent
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

import logging  # noqa: E402

import streamlit as st  # noqa: E402

from pages import loading, session  # noqa: E402
from pages.messages import no_traceback  # noqa: E402


def data_path(argv: list[str]) -> str | None:
    """``--data PATH`` from the script's arguments, else $LEAD_MODEL_DATA."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--data")
    args, _ = parser.parse_known_args(argv)
    return args.data or os.environ.get("LEAD_MODEL_DATA") or None


# Large numbers for the back of the room, and no width wasted at projector resolutions
# (1280 px wide, the Designer's sidebar open): narrow page margins; every tile's value shrinks
# with its tile (container query units: 1cqi is 1% of the tile's width) instead of being cut to
# "100.…". The Designer's tiles (key "kpis") must hold "100.00x" in a narrow tile and
# "1,000,000 (100.0%)" in the wide MQLs and Pipeline tiles, and deltas down to "-100.0 pts"; they also
# take less padding and gap than Streamlit's. tests/test_browser_layout.py checks it at 1280 x 800.
STYLE = """
<style>
[data-testid="stMainBlockContainer"] { padding: 3.5rem 2rem 3rem 2rem; }
[data-testid="stMetric"] { container-type: inline-size; }
[data-testid="stMetricLabel"] p { font-size: 1.15rem; }
[data-testid="stMetricDelta"] { font-size: 1.05rem; }
[data-testid="stMetricValue"] { font-size: min(2.3rem, 15cqi); font-weight: 600; }
.st-key-kpis [data-testid="stHorizontalBlock"] { gap: 0.5rem; }
.st-key-kpis [data-testid="stMetric"] > div { padding-left: 0.6rem; padding-right: 0.6rem; }
.st-key-kpis [data-testid="stMetricValue"] { font-size: min(2.5rem, 22cqi); }
.st-key-kpis [data-testid="stMetricDelta"] { font-size: min(1.05rem, 12.5cqi); }
.st-key-kpis [data-testid="stColumn"]:nth-child(3) [data-testid="stMetricValue"],
.st-key-kpis [data-testid="stColumn"]:nth-child(6) [data-testid="stMetricValue"] { font-size: min(2.5rem, 11cqi); }
.st-key-mql_threshold [data-testid="stWidgetLabel"] p { font-size: 1.2rem; font-weight: 600; }
.st-key-mql_threshold [data-testid="stSliderThumbValue"] { font-size: 1.1rem; font-weight: 600; }
.st-key-leak_checks [data-testid="stButton"] button * { white-space: normal; overflow-wrap: anywhere; }
</style>
"""

# Widgets mirror the model: a key written from the model (undo, reset) plus the model's value
# as default is intended here, not the mistake this warning is about.
logging.getLogger("streamlit.elements.lib.policies").setLevel(logging.ERROR)

st.set_option("client.toolbarMode", "minimal")  # no Deploy button on the projector
# An emoji favicon is drawn in the browser (an inline SVG); a Material icon would be fetched from
# fonts.gstatic.com on every load, so an offline workshop room would have none.
st.set_page_config(page_title="Lead Model Studio", page_icon="🎯", layout="wide", initial_sidebar_state=390)
st.html(STYLE)
data_page = st.Page(str(APP_DIR / "pages" / "data.py"), title="Data", icon=":material/database:", url_path="data")
designer_page = st.Page(str(APP_DIR / "pages" / "designer.py"), title="Designer", icon=":material/tune:", url_path="designer")


def home() -> None:
    # "/" opens the Designer once leads are loaded, else the Data page. A real default page
    # would live at "/" only, and /designer would then be "page not found".
    st.switch_page(designer_page if session.leads() is not None else data_page)


pages = [
    st.Page(home, title="Home", url_path="home", default=True, visibility="hidden"),
    data_page,
    designer_page,
    st.Page(str(APP_DIR / "pages" / "suggestions.py"), title="Suggestions", icon=":material/auto_awesome:", url_path="suggestions"),
    st.Page(str(APP_DIR / "pages" / "review.py"), title="Review", icon=":material/history:", url_path="review"),
    st.Page(str(APP_DIR / "pages" / "export.py"), title="Export", icon=":material/download:", url_path="export"),
]
page = st.navigation(pages, position="top")
session.browser_token()  # a hosted app keys autosaves by browser (before start() loads: _adopt reads it)
wanted = session.ss.pop(session.WANTED_PAGE, None)  # a page opened by URL on a fresh server (session.ensure_app)
if wanted and wanted != page.url_path:
    target = next((p for p in pages if p.url_path == wanted), None)
    if target is not None:
        st.switch_page(target)
# After st.navigation: the loading run's st.rerun() then comes back to the page the URL named
# (before it, a new session opened at /data was sent to the Designer).
loading.start(data_path(sys.argv[1:]))
loading.keep_dataset_in_url()  # a reload (F5) opens this dataset again
with no_traceback():
    page.run()
if os.environ.get("LEAD_MODEL_TIMINGS"):
    print(f"script_ms={(time.perf_counter() - _started) * 1000:.1f} page={page.url_path}", file=sys.stderr, flush=True)
