"""The workshop report (lead_model.export.report): every section, numbers from an independent count, hostile names escaped, nothing fetched."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from conftest import TINY_HEADER, TINY_ROWS, write_csv

from lead_model import LeadModelError, ScoringModel, load_leads, score_leads
from lead_model.data.store import LeadStore
from lead_model.export.config import Signoff
from lead_model.export.report import SECTIONS, vega_bundle, workshop_report, write_report

XSS = "<script>alert(1)</script>"
ATTR_XSS = '"><img src=x onerror=alert(1)>'
MARKDOWN = "**bold** [link](http://example.com/x) `code` _it_"
SIGNED = Signoff(sales="Priya <b>Shah</b>", marketing=ATTR_XSS, date="2025-06-30", notes=MARKDOWN)


class Page(HTMLParser):
    """Every tag with its attributes, the text of <style> blocks and the <script> blocks (type, text)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.styles: list[str] = []
        self.scripts: list[tuple[str | None, str]] = []
        self.text: list[str] = []
        self._in: tuple[str, dict] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = (tag, dict(attrs))

    def handle_endtag(self, tag):
        self._in = None if tag in ("script", "style") else self._in

    def handle_data(self, data):
        if self._in is None:
            self.text.append(data)
        elif self._in[0] == "style":
            self.styles.append(data)
        else:
            self.scripts.append((self._in[1].get("type"), data))


@pytest.fixture(scope="module")
def previous(sample_model) -> ScoringModel:
    return sample_model.with_points("job_level", "VP", 30).replace(mql_threshold=55)


@pytest.fixture(scope="module")
def report(sample_leads, sample_model, previous) -> str:
    return workshop_report(sample_leads, sample_model, previous=previous, signed=SIGNED, previous_label="version 3 'Q2 model'")


@pytest.fixture(scope="module")
def plain(sample_leads, sample_model) -> str:
    return workshop_report(sample_leads, sample_model)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile_report")
    levels = [XSS, ATTR_XSS, MARKDOWN, "plain"]
    rows = [[levels[i % 4], i % 50, "yes" if i % 3 == 0 else "no"] for i in range(400)]
    path = write_csv(folder / "h.csv", [XSS, ATTR_XSS, "converted"], rows)
    leads = load_leads(path, "converted", store=folder / "s.duckdb")
    model = ScoringModel.from_dict({
        "metadata": {"name": f"Model {XSS}", "author": ATTR_XSS, "notes": MARKDOWN},
        "attributes": [
            {"name": XSS, "kind": "categorical", "group": "fit", "levels": [{"value": v, "points": 10 * (i + 1)} for i, v in enumerate(levels[:3])]},
            {"name": ATTR_XSS, "kind": "numeric", "group": "engagement", "bins": [{"min": None, "points": 0}, {"min": 25, "points": 15}]},
        ],
        "knockouts": [{"attribute": XSS, "values": ["plain"], "reason": XSS}],
        "mql_threshold": 30,
        "tiers": [{"name": XSS, "min_score": 30}, {"name": ATTR_XSS, "min_score": None}],
        "grades": [{"name": MARKDOWN, "min_score": 20}, {"name": "</script><script>alert(2)</script>", "min_score": None}],
    })
    return workshop_report(leads, model, previous=model.with_points(XSS, XSS, -5), signed=SIGNED, previous_label=XSS)


def pct(x: float) -> str:
    return f"{x:.1%}"


# ----- content ----------------------------------------------------------------------------------
def test_every_section_is_there(report, plain):
    for section in SECTIONS:
        assert f'<section id="{section}">' in report, section
    assert '<section id="comparison">' not in plain  # only with an earlier model
    assert [s for s in SECTIONS if f'<section id="{s}">' in plain] == [s for s in SECTIONS if s != "comparison"]


def test_the_points_caps_knock_outs_and_threshold_in_words(report, sample_model):
    text = html.unescape(" ".join(Page(report).text))
    for sentence in ("job_level is VP: +20", "industry is Software: +15", "company_size 50 to < 200: +5", "personal_email is true: -10",
                     "pricing_page_views >= 3: +15", "lead_source (missing): 0", "industry (other): 0"):
        assert sentence in text, sentence
    assert "engagement cap: 50 points at most" in text and "fit cap: none" in text
    assert "job_level is 'Student' (Students do not buy; route them to the education programme instead.)" in text
    assert "A lead is an MQL when its score is 60 or more" in text
    assert "hot score 75 or more" in text and "cold score below 60" in text and "A fit score 50 or more" in text


def test_kpis_and_bands_match_a_direct_count(report, sample_leads, sample_model):
    s = score_leads(sample_leads, sample_model)
    mql, conv = s["is_mql"].to_numpy(), s["converted"].to_numpy()
    text = " ".join(Page(report).text)
    assert pct((mql & conv).sum() / mql.sum()) in text  # precision
    assert pct((mql & conv).sum() / conv.sum()) in text  # recall
    assert f"{int(mql.sum()):,} ({mql.mean():.1%})" in text  # MQLs
    for tier in ("hot", "warm", "cold", "knocked out"):
        part = s["tier"] == tier
        assert f"<td>{tier}</td>" in report
        assert f"<td class=num>{int(part.sum()):,}</td>" in report, tier
        assert f"<td class=num>{pct(conv[part.to_numpy()].mean())}</td>" in report, tier


def test_the_comparison_in_words_with_deltas_and_crossers(report, sample_leads, sample_model, previous):
    text = html.unescape(" ".join(Page(report).text))
    assert "Compared with version 3 'Q2 model'" in text
    assert "job_level: VP 30 -> 20" in text and "MQL threshold 55 -> 60" in text
    before = score_leads(sample_leads, previous)["is_mql"].to_numpy()
    after = score_leads(sample_leads, sample_model)["is_mql"].to_numpy()
    conv = score_leads(sample_leads, sample_model)["converted"].to_numpy()
    entered, left = after & ~before, before & ~after
    assert f"{int(entered.sum()):,} leads become MQLs ({int((entered & conv).sum()):,} of them converted)" in text
    assert f"{int(left.sum()):,} leads stop being MQLs ({int((left & conv).sum()):,} converted)" in text
    assert entered.sum() == 0 and left.sum() > 0  # a higher threshold and fewer VP points only take MQLs away
    assert "<td>MQL threshold</td><td class=num>55</td><td class=num>60</td><td class=num>+5</td>" in report


def test_the_sign_off_and_the_dataset_fingerprint(report, plain, sample_leads):
    assert "<td>Sales</td><td>Priya &lt;b&gt;Shah&lt;/b&gt;</td>" in report
    assert "<td>Date</td><td>2025-06-30</td>" in report
    fp = LeadStore(sample_leads.store_path).fingerprint(sample_leads.name)
    assert f"<td>{fp.hash}</td>" in report and "<td>50,000</td>" in report
    assert "Not signed off yet" in plain and "Not signed off yet" not in report


def test_six_charts_with_their_data_inline(report):
    page = Page(report)
    boxes = [a for t, a in page.tags if t == "div" and a.get("class") == "vega"]
    assert [b["data-chart"] for b in boxes] == ["threshold", "lift", "gains", "distribution", "tiers", "grades"]
    specs = [json.loads(body) for kind, body in page.scripts if kind == "application/json"]
    assert len(specs) == 6
    for spec in specs:
        assert spec["datasets"] and all(len(rows) for rows in spec["datasets"].values())
        assert "$schema" not in spec
    tiers = specs[4]  # the charts in box order
    rows = next(iter(tiers["datasets"].values()))
    assert [r["band"] for r in rows] == ["hot", "warm", "cold", "knocked out"]
    gains = specs[2]["datasets"]
    assert any(r["model"] == "baseline" for rows in gains.values() for r in rows)  # the earlier model drawn as the baseline


# ----- nothing fetched --------------------------------------------------------------------------------
URL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


@pytest.mark.parametrize("which", ["report", "plain", "hostile"])
def test_the_page_fetches_nothing(request, which):
    text = request.getfixturevalue(which)
    page = Page(text)
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "poster", "data", "srcset", "background"):
            value = attrs.get(name)
            assert value is None or (not URL.match(value) and not value.strip().lower().startswith(("http", "ftp"))), (tag, name, value)
        assert tag not in ("link", "img", "iframe", "object", "embed", "base"), tag
        assert not (tag == "script" and "src" in attrs)
    styles = " ".join(page.styles).lower()
    assert "url(" not in styles and "@import" not in styles
    for kind, body in page.scripts:
        if kind == "application/json":
            assert '"url"' not in body  # Vega-Lite data by URL would be fetched
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "connect-src" not in csp


# ----- hostile names ------------------------------------------------------------------------------------
def test_hostile_names_and_levels_are_text_not_html(hostile):
    page = Page(hostile)
    ours = hostile.replace(vega_bundle(), "")  # the bundle's own code builds tooltips with tags in strings
    assert "<script>alert(1)" not in ours and "alert(2)</script>" not in ours
    assert "<img" not in ours
    assert not any(t == "img" for t, _ in page.tags)
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    # every script block is ours: the bundle, six chart specs and the drawing script
    assert [kind for kind, _ in page.scripts].count("application/json") == 6 and len(page.scripts) == 8
    text = html.unescape(" ".join(page.text))
    assert f"Model {XSS}" in text and f"{XSS} is {ATTR_XSS}: +20" in text and f"{XSS} is {MARKDOWN}: +30" in text
    assert f"{XSS} is 'plain' ({XSS})" in text
    assert f"Compared with {XSS}" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in hostile
    assert "**bold** [link](http://example.com/x) `code` _it_" in text  # Markdown is not rendered either
    assert "<a " not in ours and "<strong>bold</strong>" not in ours
    specs = [json.loads(body) for kind, body in page.scripts if kind == "application/json"]
    names = {r.get("band") for s in specs for rows in s["datasets"].values() for r in rows}
    assert {XSS, ATTR_XSS, MARKDOWN, "</script><script>alert(2)</script>"} <= names  # the data is intact, as JSON


def test_without_an_outcome_the_report_is_one_sentence(tmp_path, tiny_model):
    path = write_csv(tmp_path / "new.csv", TINY_HEADER[:-2], [r[:-2] for r in TINY_ROWS])  # new leads: no yes/no column at all
    leads = load_leads(path, store=tmp_path / "s.duckdb", require_outcome=False)
    assert leads.outcome is None
    with pytest.raises(LeadModelError, match="no outcome column"):
        workshop_report(leads, tiny_model)


def test_write_report_writes_the_page(tmp_path, tiny, tiny_model):
    path = write_report(tmp_path / "r.html", tiny, tiny_model)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "vegaEmbed" in text and len(text) > 500_000
    assert np.char.count(text, '<section id="').item() == len(SECTIONS) - 1
