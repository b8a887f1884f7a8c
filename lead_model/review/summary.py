"""The review in sentences a person can paste into meeting notes: volume, conversion, precision and recall, drift.

Sentences are plain text (no Markdown); a page escapes them before showing them. A rate is
said to rise or fall only when the change is beyond chance: a two-proportion z-test at 95%
(|z| >= 1.96); otherwise the sentence says it held steady.
"""

from __future__ import annotations

import math

import pandas as pd

from lead_model.formatting import count, is_number
from lead_model.review.drift import WATCH_FROM, AttributeDrift, ScoreDrift, share

Z_95 = 1.96


def changed(p1: float, n1: int, p2: float, n2: int) -> int:
    """+1 if rate ``p2`` (of ``n2`` leads) is above ``p1`` (of ``n1``) beyond chance, -1 if below, 0 otherwise (or undefined)."""
    if not (is_number(p1) and is_number(p2)) or n1 <= 0 or n2 <= 0:
        return 0
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0 if p1 == p2 else (1 if p2 > p1 else -1)
    z = (p2 - p1) / se
    return 1 if z >= Z_95 else -1 if z <= -Z_95 else 0


def rate_sentence(what: str, p1: float, n1: int, p2: float, n2: int, reference: str, recent: str, why_undefined: str) -> str:
    """'Conversion rose from 7.6% in 2024-Q1 to 10% in 2025-Q4.' / '... held steady (29% in 2024-Q1, 30% in 2025-Q4).'"""
    if not (is_number(p1) and is_number(p2)):
        where = reference if not is_number(p1) else recent
        return f"{what} is not defined in {where} ({why_undefined})."
    way = changed(p1, n1, p2, n2)
    if way == 0:
        return f"{what} held steady ({share(p1)} in {reference}, {share(p2)} in {recent}; the difference is within chance)."
    return f"{what} {'rose' if way > 0 else 'fell'} from {share(p1)} to {share(p2)} between {reference} and {recent}."


def volume_sentence(by: str, n1: int, n2: int, reference: str, recent: str) -> str:
    """'Leads per quarter rose from 5,279 in 2024-Q1 to 7,194 in 2025-Q4 (+36%).'"""
    if n1 == n2:
        return f"Leads per {by} stayed at {n1:,} ({reference} and {recent})."
    change = f" ({(n2 - n1) / n1:+.0%})" if n1 else ""
    return f"Leads per {by} {'rose' if n2 > n1 else 'fell'} from {n1:,} in {reference} to {n2:,} in {recent}{change}."


def drift_sentence(d: AttributeDrift) -> str:
    """'company_size drift PSI 0.31 (act), driven by 1 to < 11 rising from 12% to 30% of leads.'"""
    phrase = d.moved_phrase()
    driven = f", driven by {phrase} of leads" if phrase else ""
    return f"{d.attribute} drift PSI {d.psi:.2f} ({d.verdict}){driven}."


def summary_sentences(
    table: pd.DataFrame, by: str, reference: str, recent: str, score: ScoreDrift, attributes: list[AttributeDrift],
    model_label: str = "the model", undated: int = 0, undated_sentence: str | None = None,
) -> list[str]:
    """The review's summary: volume, conversion, the model's precision, recall and MQL rate, score and attribute drift.

    ``table`` is the cohorts table (lead_model.review.cohorts.cohorts); ``reference`` and
    ``recent`` are two of its periods. Attributes with a verdict of watch or act get a sentence
    each (largest PSI first); when none has, one sentence names the largest.
    """
    rows = table.set_index("period")
    a, b = rows.loc[reference], rows.loc[recent]
    out: list[str] = []
    if reference == recent:
        out.append(f"The reference and recent periods are both {reference}; pick two different periods to see what changed.")
    n1, n2 = int(a["leads"]), int(b["leads"])
    out.append(volume_sentence(by, n1, n2, reference, recent))
    out.append(rate_sentence("Conversion", a["conversion"], n1, b["conversion"], n2, reference, recent, "no leads"))
    out.append(rate_sentence(f"Precision of {model_label}", a["precision"], int(a["mql"]), b["precision"], int(b["mql"]), reference, recent, "no MQLs"))
    out.append(rate_sentence(f"Recall of {model_label}", a["recall"], int(a["converted"]), b["recall"], int(b["converted"]), reference, recent, "no conversions"))
    out.append(rate_sentence("The share of leads that are MQLs", a["mql_rate"], n1, b["mql_rate"], n2, reference, recent, "no leads"))
    out.append(f"Score distribution PSI {score.psi:.2f} ({score.verdict}) between {reference} and {recent}.")
    moving = [d for d in attributes if d.verdict != "stable"]
    out += [drift_sentence(d) for d in moving]
    if not moving and attributes:
        top = attributes[0]
        out.append(f"No attribute drifted: every PSI is below {WATCH_FROM:.2f} (largest: {top.attribute} {top.psi:.2f}).")
    if undated:
        out.append(undated_sentence or f"{count(undated)} without a created date are in no period.")
    return out
