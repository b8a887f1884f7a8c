"""Strings from a data file render literally in a real browser: no Markdown, no LaTeX, no HTML, no remote fetch.

Column names and level values come from the user's CSV and the model file; Streamlit renders
Markdown (with its ``:red[...]`` colours and ``$...$`` LaTeX) in nearly every text it draws, so
each such string must pass through ``lead_model.formatting.markdown_escape`` first. This test
writes a CSV (``hostile_leads``) whose attribute names and levels are Markdown, LaTeX and HTML
that would do harm if rendered (links and images to evil.example, a script, a level that
forges the Designer's "leads · conversion" note), with real signal in those levels so the
Suggestions page fits points to them, and a model file (``hostile_model``, through the core's
ScoringModel) giving them points, a knock-out and a hostile model name.

One browser session at 1280 x 800 loads the model on the Export page, then visits the Data,
Designer (sidebar sliders and notes, tiles, captions, the lead explorer with a lead found),
Suggestions (an attribute's points opened), Review (a version saved, every tab) and Export
pages, and on each checks (``Visit.check``):

- no request to evil.example, during the whole session (``page.on("request")``);
- no ``<a href>`` to evil.example, no ``<img>`` with a remote src, no ``.katex`` element, no
  Streamlit colour span (what ``:red[...]``/``:green[...]`` become) holding a hostile string,
  no element that data HTML made (``<b>`` holding "html", a ``<script>`` with our payload),
  ``window.__pwned`` undefined;
- the page's innerText holds the literal strings the page is expected to show (asterisks,
  brackets, dollars included): a slider note ``**VP** · ...``, the forged level as text, the
  attribute names in expander labels, the model name in captions.

Text in Streamlit's dataframes is drawn on a canvas (glide-data-grid), so it is literal by
nature and cannot be read from the DOM; an init script records every canvas ``fillText`` so
the test can still see that, e.g., the Suggestions page's per-level "why" notes name
``**VP**`` as it is.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

import browser_support as bs

pytestmark = bs.browser_marks()

WIDTH, HEIGHT = 1280, 800
EVIL = "evil.example"

# ----- the hostile data ----------------------------------------------------------------------
JOB = "Job **Title**"
REGION = f"[Region](http://{EVIL}/c)"
SIZE = "Size $x^2$"
SOURCE = "Source :red[x]"
QUOTED = '"quoted", name.with.dots'
HTML = "<b>html</b>"
VISITS = "web visits `n`"  # an engagement count (its name says visits), binned by the starter model

VP = "**VP**"
FAKE = "VP** · 9,999 leads · :green[**95.0%**] **"
BELOW = ":red[below]"
LINK = f"[click](http://{EVIL}/l)"
IMAGE = f"![img](http://{EVIL}/i.png)"
MATH = "$x^2$"
SCRIPT = "<script>window.__pwned=1</script>"
IMG_TAG = f"<img src=http://{EVIL}/x.png>"
HEADING = "# Heading"
STRIKE = "~~struck~~"
BOLD_TAG = "<b>bold</b>"
DOTS = "a.b_c_"

# attribute -> {level: log-odds effect}: every hostile level moves conversion, so the fit gives it points.
LEVELS: dict[str, dict[str, float]] = {
    JOB: {VP: 1.6, FAKE: 0.9, "Manager": 0.0, BELOW: -1.4},
    REGION: {LINK: 1.1, IMAGE: -1.0, "North": 0.0},
    SIZE: {MATH: 1.0, "small": -0.9, "large": 0.2},
    SOURCE: {SCRIPT: 1.0, IMG_TAG: -1.0, "web": 0.0},
    QUOTED: {HEADING: 0.8, STRIKE: -0.8, DOTS: 0.0},
    HTML: {BOLD_TAG: 0.9, "plain": -0.5},
}
MODEL_NAME = f"Model **m** [x](http://{EVIL}/m) $y$"
KNOCKOUT_REASON = ":red[no] **ko**"
ROWS = 3000


def hostile_leads(path: Path, rows: int = ROWS, seed: int = 7) -> Path:
    """A CSV of ``rows`` leads: lead_id, created (a year of dates), converted (yes/no) and the hostile attributes of LEVELS."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    logit = np.full(rows, -3.0)
    columns: dict[str, list] = {
        "lead_id": [f"L{i:05d}" for i in range(rows)],
        "created": [date(2024, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 365, rows)],
    }
    for name, effects in LEVELS.items():
        levels = list(effects)
        codes = rng.integers(0, len(levels), rows)  # even shares: every level has hundreds of leads
        logit += np.array([effects[lv] for lv in levels])[codes]
        columns[name] = [levels[c] for c in codes]
    visits = rng.poisson(3.0, rows)
    logit += 0.25 * np.minimum(visits, 8)
    columns[VISITS] = visits.tolist()
    converted = rng.random(rows) < 1 / (1 + np.exp(-logit))
    columns["converted"] = np.where(converted, "yes", "no").tolist()
    pacsv.write_csv(pa.table(columns), str(path))
    return path


def hostile_model(data: Path, path: Path) -> Path:
    """A model file over ``data`` giving points to every level of LEVELS (the levels' effects x 10), with a hostile name and knock-out."""
    import lead_model
    from lead_model.model.schema import Attribute, KnockOut, Level, Metadata, ScoringModel
    from lead_model.model.starter import starter_model

    attrs = [
        Attribute(name=name, kind="categorical", group="fit", levels=tuple(Level(value=lv, points=int(round(10 * e)) or 3) for lv, e in effects.items()))
        for name, effects in LEVELS.items()
    ]
    leads = lead_model.load_leads(data, store=path.parent / "model_store.duckdb")  # the starter's bins for the count
    visits = next(a for a in starter_model(leads).attributes if a.name == VISITS)
    attrs.append(visits.model_copy(update={"bins": tuple(b.model_copy(update={"points": 4 * i}) for i, b in enumerate(visits.bins))}))
    model = ScoringModel(
        metadata=Metadata(name=MODEL_NAME, outcome="converted"),
        attributes=tuple(attrs),
        knockouts=(KnockOut(attribute=SIZE, values=("small",), reason=KNOCKOUT_REASON),),
        mql_threshold=20,
    )
    path.write_text(model.to_yaml())
    return path


# Every string the data or the model file brings, and the bare text Markdown, LaTeX or HTML would
# leave of it (bold's inside, a heading's words, ...): an element of the matching kind holding
# that bare text means the string was rendered.
HOSTILE = [*LEVELS, *(lv for effects in LEVELS.values() for lv in effects), VISITS, MODEL_NAME, KNOCKOUT_REASON]
RENDERED_TEXT = {  # element selector -> texts it must never hold exactly
    "strong, b, em, i": ["Title", "VP", "m", "ko", "html", "bold", "95.0%"],
    "del, s": ["struck"],
    "h1, h2, h3, h4, h5, h6": ["Heading"],
    "code": ["n"],
    '[class*="stMarkdownColored"]': ["below", "x", "no", "95.0%", "**95.0%**"],  # what :red[...] / :green[...] become
}

# Records every text drawn on a canvas (dataframes, Vega charts): their text is literal by nature
# and never in the DOM, so this is the only way to see which level names they show.
CANVAS_TEXT_JS = r"""
(() => {
  if (window.__canvasText) return;
  const T = window.__canvasText = new Set();
  const fill = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    T.add(String(text));
    return fill.call(this, text, ...rest);
  };
})();
"""

# What data strings made of the DOM, if they were rendered: links, remote images, LaTeX, scripts,
# rendered text. Each finding says whether it comes from one of the two causes outside the pages'
# escapes (``KNOWN``): a hidden widget label, or a GFM autolink literal.
RENDERED_JS = r"""([evil, rendered]) => {
  const out = [];
  const where = e => (e.closest('[data-testid]')?.getAttribute('data-testid') || '?') + ': ' + (e.innerText || e.outerHTML || '').trim().slice(0, 80);
  const cause = e => {
    const label = e.closest('[data-testid="stWidgetLabel"]');
    if (label && !label.getClientRects().length) return 'hidden label';
    if (e.tagName === 'A') {
      const bare = u => decodeURI(u).replace(/^(https?:\/\/|mailto:)/, '').replace(/\/$/, '');
      if (bare(e.href) === bare((e.innerText || '').trim())) return 'autolink';
    }
    return null;
  };
  const add = (e, what) => out.push({cause: cause(e), text: `${what} (${where(e)})`, src: e.tagName === 'IMG' ? e.src : null});
  for (const a of document.querySelectorAll('a[href]')) if (a.href.includes(evil)) add(a, `a link to ${a.href}`);
  for (const img of document.querySelectorAll('img[src]'))
    if (!/^(data:|blob:|https?:\/\/127\.0\.0\.1[:/])/.test(img.src)) add(img, `an <img> from ${img.src}`);
  for (const k of document.querySelectorAll('.katex')) add(k, 'LaTeX typeset');
  for (const s of document.querySelectorAll('script')) if ((s.textContent || '').includes('__pwned')) add(s, 'a <script> from the data is in the page');
  if (window.__pwned !== undefined) out.push({cause: null, text: 'window.__pwned is set: a script from the data ran'});
  for (const [selector, texts] of Object.entries(rendered))
    for (const e of document.querySelectorAll(selector))
      if (texts.includes((e.textContent || '').trim())) add(e, `<${e.tagName.toLowerCase()}> holds ${JSON.stringify(e.textContent.trim())}: Markdown from the data`);
  return out;
}"""

# Two causes a page's visible escapes did not cover, each named in the failure it makes: Streamlit
# renders a collapsed widget label as Markdown in a hidden element (its images are still fetched;
# the points sliders' labels are escaped since), and remark-gfm turns any "http://..." / "www..."
# text into a link after backslash escapes are read (markdown_escape puts a word joiner in it since).
KNOWN = ("hidden label", "autolink")


class Visit:
    """One browser session at 1280 x 800; ``check`` looks at the page as it is and collects what it finds."""

    def __init__(self, browser, server, shots: Path):
        self.server, self.shots = server, shots
        self.problems: list[tuple[str | None, str]] = []  # (cause, what): cause None is a page's missing escape
        self.evil_requests: list[str] = []
        self.hidden_srcs: set[str] = set()  # remote images inside hidden widget labels
        self.page = bs.open_page(browser, None, width=WIDTH, height=HEIGHT)
        self.page.add_init_script(CANVAS_TEXT_JS)
        self.page.on("request", self._request)

    def _request(self, request) -> None:
        if EVIL in request.url:
            self.evil_requests.append(request.url)

    def settle(self) -> None:
        bs.settle(self.page, paint_ms=300)

    def goto(self, title: str) -> None:
        bs.goto_titled(self.page, title, paint_ms=300)

    def open_expander(self, label: str, where=None) -> None:
        """Open the expander whose label holds ``label`` (as it is: a label rendered as Markdown is not found)."""
        as_shown = re.compile("\u2060?".join(map(re.escape, label)))  # a word joiner may break an autolink in it
        summary = (where or self.page).locator('[data-testid="stExpander"] summary').filter(has_text=as_shown).first
        summary.scroll_into_view_if_needed()
        if summary.evaluate("s => !s.parentElement.open"):
            summary.click()
        self.settle()

    def check(self, where: str, shown: list[str] = (), drawn: list[str] = ()) -> None:
        """Nothing rendered from the data here; every string of ``shown`` is in the page's text and every one of ``drawn`` was drawn on a canvas."""
        page = self.page
        page.screenshot(path=str(self.shots / f"{where}.png"), full_page=True)
        for p in page.evaluate(RENDERED_JS, [EVIL, RENDERED_TEXT]):
            self.problems.append((p["cause"], f"{where}: {p['text']}"))
            if p["cause"] == "hidden label" and p["src"]:
                self.hidden_srcs.add(p["src"])
        text = page.locator("body").inner_text().replace("\u2060", "")  # a word joiner that breaks an autolink is invisible
        self.problems += [(None, f"{where}: {s!r} is not in the page's text as it is (rendered as Markdown?)") for s in shown if s not in text]
        canvas = set(page.evaluate("() => [...(window.__canvasText || [])]"))
        self.problems += [(None, f"{where}: {s!r} was not drawn in a table or chart") for s in drawn if not any(s in t for t in canvas)]

    def report(self) -> list[tuple[str | None, str]]:
        requests = [("hidden label" if u in self.hidden_srcs else None, f"a request to {u}") for u in dict.fromkeys(self.evil_requests)]
        return list(dict.fromkeys(self.problems)) + requests


# ----- fixtures ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("literal_data")
    data = hostile_leads(tmp / "hostile.csv")
    return data, hostile_model(data, tmp / "hostile_model.yaml")


@pytest.fixture(scope="module")
def server(tmp_path_factory, hostile_files):
    bs.require_browser()
    with bs.served(tmp_path_factory, "literal_store", hostile_files[0], timeout=120) as srv:
        yield srv


def note(level: str) -> str:
    """The Designer's note above a level's slider starts '<level> · <n> leads · <rate>'."""
    return f"{level} · "


# ----- the walk ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def findings(browser, server, hostile_files, tmp_path_factory) -> list[tuple[str | None, str]]:
    """Walk every page once (screenshots under a kept tmp dir) and return what ``Visit.check`` found, with causes."""
    data, model_file = hostile_files
    visit = Visit(browser, server, tmp_path_factory.mktemp("literal_shots"))
    page = visit.page
    try:
        try:
            page.goto(server.url)
            bs.wait_app_ready(page, timeout=120)  # "/" opens the Designer once the leads are loaded
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n--- server log ---\n{server.log()[-3000:]}") from None

        # The model file: points on every hostile level, a knock-out with a hostile reason, a hostile name.
        visit.goto("Export")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(model_file))
        page.get_by_text("it is now the current model").wait_for(timeout=60_000)
        visit.settle()
        visit.open_expander("The model file (YAML)")
        visit.check("export", shown=[MODEL_NAME, f"{MODEL_NAME}: points at a glance", f"- name: {JOB}", "value: '**VP**'"],
                    drawn=[JOB, VP, FAKE])  # the grid's first rows: the rest is scrolled out of its 420 px

        visit.goto("Data")
        visit.check("data", drawn=[JOB, REGION, SIZE, SOURCE, QUOTED, HTML])

        # A version to compare with later (Review's Compare tab lists what changed since).
        visit.goto("Review")
        page.get_by_role("tab", name="Versions").click()
        page.get_by_label("Version name").fill("Before the move")
        page.get_by_role("button", name="Save version").click()
        page.get_by_text("Saved #1").wait_for(timeout=30_000)
        visit.settle()

        visit.goto("Designer")
        labels = bs.wait_points_sliders(page, timeout=60)
        for level in LEVELS[JOB]:
            assert f"{JOB}: {level}" in labels, f"no slider for {level!r} among {labels}"
        side = page.locator('[data-testid="stSidebar"]')
        for name in (REGION, SOURCE, SIZE, QUOTED, HTML):  # one attribute per group is open: open the rest
            visit.open_expander(f"{name} · categorical", side)
        visit.open_expander("Caps, knock-outs and attributes", side)
        levels = [lv for effects in LEVELS.values() for lv in effects]
        visit.check("designer_sidebar", shown=[
            *(f"{name} · categorical" for name in LEVELS), f"{VISITS} · numeric", *(note(lv) for lv in levels),
            f"{SIZE} is 'small' ({KNOCKOUT_REASON})", f"Model {MODEL_NAME} on hostile",
        ])
        # A move: the undo note names the level; Review's Compare lists it.
        vp = bs.reveal_slider(page, f"{JOB}: {VP}")
        vp.focus()
        page.keyboard.press("ArrowRight")
        page.get_by_text(f"Last change: {JOB}: {VP} 16 → 17").wait_for(timeout=30_000)
        visit.settle()
        visit.open_expander("Lead explorer")
        search = page.get_by_placeholder("lead id (or any text in the row)")
        search.fill("L00001")
        search.press("Enter")
        page.locator('[data-testid="stExpander"] [data-testid="stDataFrame"]').nth(1).wait_for(timeout=60_000)
        visit.settle()
        visit.check("designer_main", shown=[f"Last change: {JOB}: {VP} 16 → 17", f"Model {MODEL_NAME} on hostile"],
                    drawn=[REGION, LINK, SOURCE, IMG_TAG])

        visit.goto("Suggestions")
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=120_000)
        visit.settle()
        visit.open_expander(f"{JOB} · fit")
        visit.check("suggestions", shown=[*(f"{name} · fit" for name in LEVELS), f"Apply '{JOB}'"],
                    drawn=[VP, FAKE, BELOW])
        page.get_by_role("button", name="Apply all to the Designer").click()
        page.get_by_text("Applied all suggested points").wait_for(timeout=30_000)
        visit.settle()
        visit.check("suggestions_applied")

        visit.goto("Review")
        visit.check("review", shown=[f"{MODEL_NAME}, quarter by quarter"])
        for tab in ("Drift", "Compare", "Versions"):
            page.get_by_role("tab", name=tab).click()
            visit.settle()
            visit.check(f"review_{tab.lower()}", shown=[f"{JOB}: {VP}"] if tab == "Compare" else [])
    finally:
        page.close()
    return visit.report()


def test_data_strings_render_literally_on_every_page(findings):
    """Every page escapes what it shows from the data: nothing rendered, every string shown as it is."""
    mine = [what for cause, what in findings if cause not in KNOWN]
    assert not mine, "\n".join(mine)


def test_no_link_or_fetch_from_data_at_all(findings):
    """No link, image, fetch or markup from the data anywhere, hidden widget labels and autolinked text included."""
    known = [f"{cause}: {what}" for cause, what in findings if cause in KNOWN]
    assert not known, "\n".join(known)
