"""The browser session's state: the active dataset and its Workbench, and the widget keys that mirror the model.

Everything lives in ``st.session_state`` under the keys below; pages read it through these
functions and change it only through ``pages/callbacks.py`` and ``pages/loading.py``.

- The model is the source of truth and widgets mirror it. A widget's callback turns its new
  value into a Workbench edit; before drawing a widget, pages write the model's value into
  the widget's key (``bind``), so undo, reset and a loaded model file move the sliders too.
- The Workbench (lead_model.workbench) holds the undo history, the baseline and the results;
  the LeadSet it works on is shared by every session that opened the same data.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import streamlit as st

from lead_model.data.leads import LeadSet
from lead_model.model.schema import ScoringModel
from lead_model.workbench.history import ModelHistory
from lead_model.workbench.workshop import Workbench
from pages.messages import show_flash

APP_DIR = Path(__file__).resolve().parent.parent
SAMPLE_DATA = APP_DIR / "sample_data" / "leads.csv"
SAMPLE_MODEL = APP_DIR / "sample_data" / "sample_model.yaml"

# session_state keys
STARTED = "started"
WORKBENCH = "workbench"
DATASET = "dataset"
BROWSER_TOKEN = "browser_token"  # session.browser_token()
BROWSER_IN_URL = "browser_in_url"  # the token lives in the URL (no XSRF cookie)
WANTED_PAGE = "wanted_page"  # the url path a page opened on a fresh server asked for (ensure_app), for app.py to switch to
RESUME = "resume_offer"  # the autosave this session may continue (pages/resume.py), until Continue or Start over

# widget keys
THRESHOLD_KEY = "mql_threshold"
CAPACITY_KEY = "capacity"
MONTHS_KEY = "months_covered"
CAP_KEYS = {"fit": "cap_fit", "engagement": "cap_engagement", "total": "cap_total"}
ATTRIBUTES_KEY = "model_attributes"

# fragment keys
RESULTS_FRAGMENT = "designer_results"  # pages/designer.py: tiles, threshold, charts, lead explorer

_UNSET = object()
ss = st.session_state


@dataclass(frozen=True)
class DatasetSpec:
    """How the active LeadSet was opened: enough to open it again with other roles."""

    store: str
    name: str
    table: str
    source: str
    outcome: str | None = None
    exclude: tuple[str, ...] = ()
    roles: tuple[tuple[str, str | None, str | None, str | None], ...] = ()  # (column, role, kind, group) overrides


BROWSER_PARAM = "browser"  # the URL's query parameter holding a hosted app's browser token (when the browser has no XSRF cookie)
DATASET_PARAM = "dataset"  # the URL's query parameter naming the tab's stored dataset (pages/loading.keep_dataset_in_url)
TABLE_PARAM = "table"  # ... and its stored table: a dataset replaced since is not reopened
XSRF_COOKIE = "_streamlit_xsrf"  # Streamlit's XSRF cookie: one per browser, kept across reloads and server restarts
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,40}$")


def browser_token() -> str:
    """On a hosted app ($LEAD_MODEL_HOSTED), this browser's token for its autosaves; "" on a workshop laptop, where the
    room shares one autosave per dataset.

    Taken from Streamlit's XSRF cookie (one per browser, kept across reloads, page switches and server restarts; a hash
    of its token, never the token). A browser without it (XSRF protection off) gets a token in the URL (``?browser=…``),
    set on every run since page switches drop query parameters. Not a login.
    """
    from lead_model.data.access import FileAccess
    from lead_model.errors import LeadModelError

    try:
        hosted = FileAccess.from_env().hosted
    except LeadModelError:
        hosted = True  # a bad setting is reported on the Data page; keep people's work apart meanwhile
    if not hosted:
        return ""
    token = ss.get(BROWSER_TOKEN)
    if token is None:
        token = _cookie_token()
        if token is None:
            given = st.query_params.get(BROWSER_PARAM, "")
            token = given if _TOKEN_RE.match(given) else secrets.token_urlsafe(12)
            ss[BROWSER_IN_URL] = True
        ss[BROWSER_TOKEN] = token
    if ss.get(BROWSER_IN_URL) and st.query_params.get(BROWSER_PARAM) != token:
        st.query_params[BROWSER_PARAM] = token
    return token


def _cookie_token() -> str | None:
    """A hash of the browser's XSRF token (tornado's cookie "2|mask|masked token|time": the token is masked anew when the
    cookie is written, so the unmasked token is what stays); None without the cookie."""
    import hashlib

    try:
        raw = (st.context.cookies or {}).get(XSRF_COOKIE)
    except Exception:  # noqa: BLE001 - no request context (a bare script run): no cookie
        return None
    if not raw:
        return None
    parts = raw.split("|")
    secret = raw.encode()
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            secret = bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked))
        except ValueError:
            pass
    return hashlib.sha256(b"lead-model browser " + secret).hexdigest()[:24]


def workbench() -> Workbench | None:
    return ss.get(WORKBENCH)


def leads() -> LeadSet | None:
    wb = ss.get(WORKBENCH)
    return wb.leads if wb is not None else None


def dataset() -> DatasetSpec | None:
    return ss.get(DATASET)


def history() -> ModelHistory:
    return ss[WORKBENCH].history


def model() -> ScoringModel:
    return ss[WORKBENCH].model


def baseline() -> ScoringModel:
    return ss[WORKBENCH].baseline


def ensure_app() -> None:
    """Make sure the page runs inside app.py's navigation.

    Streamlit runs an app with a ``pages/`` folder in its old multipage mode until the first
    ``st.navigation`` call of the process; a page opened by URL (``/designer``) on a fresh
    server is then run on its own, without app.py's setup. Leave that mode (as
    ``st.navigation`` itself does) and rerun through app.py. AppTest resets the mode before
    every run and runs the page on its own each time; the session was set up by app.py on
    the first run, and a rerun would drop the clicks the test sends, so pages run as they are.
    """
    from streamlit import config
    from streamlit.runtime.pages_manager import PagesManager

    if config.get_option("global.appTest") or _run_by_app():
        return
    # Checked by the call stack, not by the mode flag alone: a run started in the old mode while another
    # session's app.py left it finds the flag already down (and drew "No leads loaded" with no navigation).
    PagesManager.uses_pages_directory = False
    # The rerun carries this file's old-mode page id, which app.py's pages do not know (it would open the
    # default page): app.py switches to the page the URL names instead.
    ss[WANTED_PAGE] = urlparse(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]
    st.rerun()


def _run_by_app() -> bool:
    """Whether this page runs inside app.py (its frame is on the stack), not on its own in the old multipage mode."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.endswith("app.py") and os.path.realpath(name) == _APP_FILE:
            return True
        frame = frame.f_back
    return False


_APP_FILE = os.path.realpath(APP_DIR / "app.py")


def require_workbench() -> Workbench:
    """The session's Workbench, or a pointer to the Data page and a stop."""
    ensure_app()
    wb = workbench()
    if wb is None:
        show_flash()
        st.info("No leads loaded yet: open the Data page to load the sample or upload your leads.")
        st.page_link("pages/data.py", label="Go to the Data page", icon=":material/database:")
        st.stop()
    return wb


def bind(key: str, value) -> None:
    """Write the model's ``value`` into a widget's key before the widget is drawn (only if it differs)."""
    if ss.get(key, _UNSET) != value:
        ss[key] = value


def points_key(attribute: str, value) -> str:
    level = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return f"points::{attribute}::{level}"


def edges_key(attribute: str) -> str:
    return f"edges::{attribute}"


def edges_text(attr) -> str:
    return ", ".join(f"{e:g}" for e in attr.edges)
