"""Shared helpers for the real-browser tests and benchmarks.

Start/stop the Streamlit app on a free loopback port, launch Debian's chromium through
Playwright, and a few page helpers (sliders, metric tiles, waiting for a rerun to settle).

Never downloads a browser: chromium must be at ``CHROMIUM`` (``make browser`` installs it).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
SAMPLE_CSV = ROOT / "sample_data" / "leads.csv"
SAMPLE_MODEL = ROOT / "sample_data" / "sample_model.yaml"
CHROMIUM = os.environ.get("LEAD_MODEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (install Debian's chromium: `make browser`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def in_ci() -> bool:
    """CI=true: a real-browser test that cannot run fails instead of being skipped."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def browser_marks() -> list:
    """A real-browser test module's ``pytestmark``: marked ``browser``, and skipped when chromium is missing, except under CI."""
    import pytest

    missing = chromium_missing_reason()
    return [pytest.mark.browser, pytest.mark.skipif(missing is not None and not in_ci(), reason=f"real-browser tests need chromium: {missing}")]


def require_browser() -> None:
    """In a module fixture: fail (CI=true, the only way to get here without chromium) when the browser tests cannot run."""
    import pytest

    missing = chromium_missing_reason()
    if missing:
        pytest.fail(f"CI=true but the real-browser tests cannot run: {missing}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class StreamlitServer:
    """A running ``streamlit run app.py`` on 127.0.0.1; ``url`` is its root."""

    process: subprocess.Popen
    port: int
    log_path: Path
    _log_file: object = field(repr=False, default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server (SIGTERM, then SIGKILL) - only the process we started."""
        p = self.process
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def start_server(
    data: str | Path = SAMPLE_CSV,
    store: str | Path | None = None,
    *,
    timeout: float = 60.0,
    extra_env: dict[str, str] | None = None,
    log_dir: str | Path | None = None,
    app: str | Path = APP,
    port: int | None = None,
) -> StreamlitServer:
    """Start the app on a free loopback port (``port`` first, when given: a restart) and wait until its health endpoint answers.

    ``store`` (a DuckDB file path) becomes LEAD_MODEL_STORE (a file in a fresh temp dir when None). Raises RuntimeError
    with the server's log when it dies or does not answer within ``timeout`` seconds.
    """
    if store is None:
        store = Path(tempfile.mkdtemp(prefix="lead_model_store_")) / "lead_store.duckdb"
    log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="lead_model_server_"))
    log_path = log_dir / "streamlit.log"
    env = {**os.environ, "LEAD_MODEL_STORE": str(store), "LEAD_MODEL_DATA": str(data)}
    env.update(extra_env or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    last_error: Exception | None = None
    wanted = port
    for attempt in range(3):  # a free port can be taken between bind() and streamlit's listen()
        port = wanted if attempt == 0 and wanted is not None else free_port()
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(app),
            "--server.address", "127.0.0.1",
            "--server.port", str(port),
            "--server.headless", "true",
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
            "--", "--data", str(data),
        ]  # fmt: skip
        log_file = open(log_path, "a")  # a restarted server's log follows the first one's
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        server = StreamlitServer(proc, port, log_path, log_file)
        try:
            _wait_healthy(server, timeout)
            return server
        except RuntimeError as exc:
            last_error = exc
            server.stop()
            if "address already in use" not in server.log().lower():
                break
    raise last_error  # type: ignore[misc]


def _wait_healthy(server: StreamlitServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"streamlit did not answer within {timeout:.0f} s:\n{server.log()}")


@contextlib.contextmanager
def running_server(*args, **kwargs):
    server = start_server(*args, **kwargs)
    try:
        yield server
    finally:
        server.stop()


def served(tmp_path_factory, label: str, data: str | Path = SAMPLE_CSV, timeout: float = 90.0):
    """A server on ``data`` with a fresh store in a temporary folder named ``label``, for a module fixture to yield."""
    tmp = tmp_path_factory.mktemp(label)
    return running_server(data, tmp / "lead_store.duckdb", timeout=timeout, log_dir=tmp)


def launch_chromium(playwright, **kwargs):
    """Debian's chromium, headless, through Playwright (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **kwargs)


# ----- page helpers ------------------------------------------------------------------
METRIC = '[data-testid="stMetric"]'

# Installed before any page script (``open_page`` does it with page.add_init_script): records
# when the server starts a script run (ForwardMsg.new_session, field 4, sent for full and
# fragment runs alike) and finishes one (ForwardMsg.script_finished, field 6), and the time of
# the last DOM mutation anywhere in the app, sidebar included.
#
# Why not Streamlit's status widget alone: it shows "Running..." only after a run has lasted
# 500 ms, and the browser draws the sidebar after the main area (on the Designer 200-400 ms
# after the first tile, even after script_finished has arrived), so "tiles there and no busy
# flag for 250 ms" can be true while the sidebar's sliders are not on the page yet.
RUN_TRACKER_JS = r"""
(() => {
  if (window.__stRuns) return;
  const R = window.__stRuns = {started: 0, finished: 0, lastStart: 0, lastFinish: 0, lastMsg: 0, lastMutation: 0};
  // Top-level field numbers of a ForwardMsg (protobuf wire format; hash and metadata are skipped).
  const fields = buf => {
    const b = new Uint8Array(buf), out = [];
    let i = 0;
    const varint = () => { let x = 0, s = 0, c; do { c = b[i++]; x += (c & 0x7f) * 2 ** s; s += 7; } while ((c & 0x80) && i < b.length); return x; };
    while (i < b.length) {
      const tag = varint(), wire = tag & 7;
      out.push(Math.floor(tag / 8));
      if (wire === 0) varint(); else if (wire === 2) { const n = varint(); i += n; } else if (wire === 1) i += 8; else if (wire === 5) i += 4; else break;
    }
    return out;
  };
  const OrigWS = window.WebSocket;
  window.WebSocket = class extends OrigWS {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', e => {
        const t = performance.now();
        R.lastMsg = t;
        if (!(e.data instanceof ArrayBuffer)) return;
        const f = fields(e.data);
        if (f.includes(4)) { R.started++; R.lastStart = t; }
        if (f.includes(6)) { R.finished++; R.lastFinish = t; }
      });
    }
  };
  const watch = () => new MutationObserver(() => { R.lastMutation = performance.now(); })
    .observe(document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true});
  if (document.documentElement) watch(); else document.addEventListener('DOMContentLoaded', watch);
})();
"""

# Busy: a run started and not finished (tracker), Streamlit's running indicator, or stale elements.
_STATE_JS = """() => {
  const w = document.querySelector('[data-testid="stStatusWidget"]');
  const running = w !== null && /running|stop/i.test(w.innerText || '');
  const stale = document.querySelector('[data-stale="true"]') !== null;
  const R = window.__stRuns;
  const now = performance.now();
  if (!R) return {tracked: false, busy: running || stale, quietMs: 0};
  return {tracked: true, busy: running || stale || R.lastStart > R.lastFinish || R.started === 0,
          quietMs: now - Math.max(R.lastMutation, R.lastMsg)};
}"""


def open_page(browser, url: str | None = None, *, width: int = 1600, height: int = 1800):
    """A new page with the run tracker installed (so ``wait_idle`` knows when a run is drawn), at ``url`` if given."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.add_init_script(RUN_TRACKER_JS)
    if url is not None:
        page.goto(url)
    return page


def wait_app_ready(page, timeout: float = 60.0, *, selector: str | None = None) -> None:
    """Wait for the first full render: metric tiles (or ``selector``) present and the app idle.

    Fails fast, with the page's text, when the app shows an exception.
    """
    want = selector or METRIC
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.locator(want).count():
            wait_idle(page, timeout=max(1.0, deadline - time.monotonic()))
            return
        if page.locator('[data-testid="stException"]').count():
            break
        time.sleep(0.1)
    body = page.locator("body").inner_text()[:2000]
    raise TimeoutError(f"no {want} on {page.url} after {timeout:.0f} s; the page says:\n{body}")


def wait_idle(page, timeout: float = 30.0, quiet_ms: int = 250) -> None:
    """Wait until no run is going on and the page has had ``quiet_ms`` without changes.

    With the run tracker (``open_page``) that means: every run the server started has
    finished and nothing in the DOM changed (nor a message came) for ``quiet_ms``. Without it,
    only Streamlit's own busy signs are seen (which miss runs shorter than 500 ms).
    """
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        s = page.evaluate(_STATE_JS)
        if s["busy"]:
            quiet_since = None
        elif s["tracked"]:
            if s["quietMs"] >= quiet_ms:
                return
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            return
        time.sleep(0.03)
    raise TimeoutError("the app did not settle")


def metric_texts(page) -> dict[str, str]:
    """{label: displayed value} of every st.metric tile on the page."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-testid="stMetric"]')].map(m => [
            (m.querySelector('[data-testid="stMetricLabel"]')?.innerText || '').trim(),
            (m.querySelector('[data-testid="stMetricValue"]')?.innerText || '').trim()]))"""
    )


def metric_text(page, label: str) -> str:
    texts = metric_texts(page)
    if label not in texts:
        raise KeyError(f"no metric {label!r}; tiles: {sorted(texts)}")
    return texts[label]


def wait_metrics_change(page, before: dict[str, str], labels=None, timeout: float = 30.0) -> dict[str, str]:
    """Poll the tiles until one of ``labels`` (default: any) differs from ``before``, then settle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = metric_texts(page)
        keys = labels or now.keys()
        if any(now.get(k) != before.get(k) for k in keys):
            wait_idle(page, timeout=max(1.0, deadline - time.monotonic()))
            return metric_texts(page)
        time.sleep(0.03)
    raise TimeoutError(f"metrics {labels or 'any'} did not change from {before}")


def slider(page, label: str):
    """The range input of the st.slider labelled exactly ``label``.

    Streamlit 1.67's slider is a react-aria ``<input type="range" aria-label=LABEL>`` whose
    accessible name repeats the label ("MQL threshold MQL threshold"), so an exact
    ``get_by_role("slider", name=...)`` misses it and a substring match can hit another
    slider; match the aria-label attribute exactly instead.
    """
    return page.locator(f'input[type="range"][aria-label={json.dumps(aria_label(label))}]')


def aria_label(label: str) -> str:
    """The aria-label of the slider a reader sees as ``label``: a points slider's "attribute: level" is escaped Markdown
    (pages/designer.py: a collapsed label is still rendered, so its images would be fetched), the MQL threshold's is not."""
    from lead_model.formatting import markdown_escape

    attribute, sep, level = label.partition(": ")
    return f"{markdown_escape(attribute)}: {markdown_escape(level)}" if sep else label


def _seen(aria: str | None) -> str | None:
    """What a reader sees of an aria-label ``aria_label`` made (the inverse)."""
    import re

    from lead_model.formatting import WORD_JOINER

    return None if aria is None else re.sub(r"\\(.)", r"\1", aria).replace(WORD_JOINER, "")


def reveal_slider(page, label: str, timeout: float = 20.0):
    """The slider labelled ``label``, scrolled into existence first if need be.

    Streamlit renders the elements of a fixed-height scrolling container (``st.container(height=...)``)
    lazily, only near the visible part, so a slider far down the Designer's points list is
    not in the DOM until its container is scrolled to it.
    """
    loc = slider(page, label)
    if loc.count() == 0 and ": " in label:
        # The Designer keeps one attribute per group open; open this attribute's expander.
        attr = label.split(": ", 1)[0]
        summary = page.locator('[data-testid="stExpander"] summary').filter(has_text=f"{attr} ·")
        if summary.count() == 1:
            summary.scroll_into_view_if_needed()
            try:
                if summary.evaluate("s => !s.parentElement.open"):
                    summary.click(timeout=5000)
                loc.first.wait_for(state="attached", timeout=timeout * 1000)
            except Exception:  # reported below, with the sliders that are there
                pass
            wait_idle(page, timeout=timeout)
    deadline = time.monotonic() + timeout
    while loc.count() == 0:
        if time.monotonic() > deadline:
            raise LookupError(f"no slider labelled {label!r}; sliders on the page: {slider_labels(page)}")
        at_end = page.evaluate(
            """() => {
              const boxes = [...document.querySelectorAll('[data-testid="stMain"] *')].filter(e => {
                const s = getComputedStyle(e);
                return /(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 4;
              });
              let moved = false;
              for (const b of boxes) {
                if (b.scrollTop + b.clientHeight < b.scrollHeight - 2) { b.scrollTop += Math.max(50, b.clientHeight / 2); moved = true; }
              }
              return !moved;
            }"""
        )
        time.sleep(0.15)
        if at_end and loc.count() == 0:
            raise LookupError(f"no slider labelled {label!r} even when scrolled to the end; sliders: {slider_labels(page)}")
    loc.scroll_into_view_if_needed()
    return loc


def slider_value(page, label: str) -> float:
    loc = reveal_slider(page, label)
    v = loc.get_attribute("aria-valuenow")
    if v is None:
        v = loc.input_value()
    return float(v)


THRESHOLD = "MQL threshold"
DESIGNER_PATH = "/designer"


def slider_labels(page) -> list[str]:
    """aria-labels of every slider on the page, in page order."""
    labels = page.evaluate("""() => [...document.querySelectorAll('input[type="range"]')].map(i => i.getAttribute('aria-label'))""")
    return [_seen(label) for label in labels]


POINTS_SLIDERS = '[data-testid="stSidebar"] input[type="range"]'


def wait_points_sliders(page, timeout: float = 30.0) -> list[str]:
    """Labels of every slider once the Designer's sidebar shows its points sliders ('<attribute>: <level>').

    The sidebar is drawn after the main area (it comes last in pages/designer.py and the
    browser paints it later still), so the tiles being there says nothing about it. Raises
    LookupError with what the sidebar shows when no points slider comes within ``timeout``.
    """
    try:
        page.locator(POINTS_SLIDERS).first.wait_for(state="attached", timeout=timeout * 1000)
    except Exception:  # playwright's TimeoutError: reported below, with what is there
        pass
    labels = slider_labels(page)
    if not any(lb and lb != THRESHOLD and ": " in lb for lb in labels):
        side = page.locator('[data-testid="stSidebar"]')
        shown = side.first.inner_text()[:600] if side.count() else "(no sidebar on the page)"
        raise LookupError(f"no points slider ('<attribute>: <level>') after {timeout:.0f} s among {labels}; the sidebar shows:\n{shown}")
    wait_idle(page, timeout=timeout)
    return slider_labels(page)


def default_points_slider(labels: list[str]) -> str:
    """A points slider to move: job_level: VP if present (open by default), else the first one."""
    points = [lb for lb in labels if lb and lb != THRESHOLD and ": " in lb]
    if not points:
        raise LookupError(f"no points slider ('<attribute>: <level>') among {labels}")
    return "job_level: VP" if "job_level: VP" in points else points[0]



CHARTS = '[data-testid="stVegaLiteChart"]'


def wait_charts_drawn(page, at_least: int = 1, timeout: float = 30.0) -> int:
    """Wait until ``at_least`` charts are on the page and every one has its canvas/svg; return how many are drawn."""
    charts = page.locator(CHARTS)
    charts.first.wait_for(timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    drawn = 0
    while time.monotonic() < deadline:
        drawn = page.evaluate(
            """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
                     .filter(c => c.querySelector('svg.marks, canvas.marks, svg, canvas')).length"""
        )
        if charts.count() >= at_least and drawn == charts.count():
            break
        time.sleep(0.1)
    return drawn


def screenshot_designer(page, path: str | Path, *, width: int, full_height: bool = True, max_height: int = 4000) -> Path:
    """A PNG of the Designer as drawn at ``width`` px: the tiles, the controls and every chart.

    With ``full_height`` the viewport grows (same width, so the same layout) to the page's
    content, at most ``max_height`` px, so every chart is in the picture; otherwise the
    viewport as it is. Waits for the charts and for the app to be idle first.
    """
    wait_charts_drawn(page, at_least=6)
    wait_idle(page)
    page.wait_for_timeout(300)  # let the charts' enter transitions finish
    if full_height:
        bottom = page.evaluate(
            """() => Math.max(
                 ...[...document.querySelectorAll('[data-testid="stMain"] [data-testid="stElementContainer"], [data-testid="stMain"] [data-testid="stExpander"]')]
                    .map(e => e.getBoundingClientRect().bottom + window.scrollY),
                 document.querySelector('[data-testid="stMain"]')?.scrollHeight || 0)"""
        )
        height = int(min(max(bottom + 32, page.viewport_size["height"]), max_height))
        if height != page.viewport_size["height"]:
            page.set_viewport_size({"width": width, "height": height})
            wait_idle(page)
            page.wait_for_timeout(300)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path


def press_slider(page, label: str, key: str, times: int = 1, timeout: float = 30.0) -> float:
    """Press ``key`` on the slider labelled ``label`` ``times`` times at a person's pace; return its value after.

    Each press waits for the slider to show its new value and the app to go idle (not for a
    tile to change: a one-point move often changes no tile at the shown precision).
    """
    loc = reveal_slider(page, label)
    step = 1 if key in ("ArrowRight", "ArrowUp") else -1
    for _ in range(times):
        if not loc.evaluate("el => document.activeElement === el"):
            loc.focus()
        target = slider_value(page, label) + step
        page.keyboard.press(key)
        deadline = time.monotonic() + timeout
        while slider_value(page, label) != target and time.monotonic() < deadline:
            time.sleep(0.05)
        wait_idle(page, timeout=timeout)
    return slider_value(page, label)


def goto_page(page, title: str, timeout: float = 60.0, *, selector: str | None = None) -> None:
    """Click ``title`` in the top navigation (same session, a full run of that page) and wait until it is drawn and idle.

    Waits for the page's own title (its h1) first: the page left may have tiles too, and they would pass for the new page's."""
    page.locator('[data-testid="stTopNavLink"]').filter(has_text=title).first.click()
    _wait_title(page, title, timeout)
    wait_app_ready(page, timeout=timeout, selector=selector)


def _wait_title(page, title: str, timeout: float = 90.0) -> None:
    page.wait_for_function(
        "t => [...document.querySelectorAll('[data-testid=\"stMain\"] h1')].some(h => h.innerText.trim() === t)", arg=title, timeout=timeout * 1000
    )


def settle(page, paint_ms: int = 400) -> None:
    """Idle, a pause for the first paint of charts and grids (they paint after the last message), idle again."""
    wait_idle(page, timeout=60)
    page.wait_for_timeout(paint_ms)
    wait_idle(page, timeout=60)


def goto_titled(page, title: str, paint_ms: int = 400) -> None:
    """Click ``title`` in the top navigation and wait until the page's own title (its h1) is drawn and it has settled.

    For pages without metric tiles (``goto_page`` waits for tiles)."""
    page.locator('[data-testid="stTopNavLink"]').filter(has_text=title).first.click()
    _wait_title(page, title)
    settle(page, paint_ms)
