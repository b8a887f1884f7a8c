"""Grade and tier bands: which ones the caps put out of reach, bands placed on a model's own score scale, and edits checked by the schema's rule.

Grades are bands of the fit score (capped by the fit cap); tiers are bands of the total score
(capped by the total cap, and by the fit and engagement caps together).

Suggested bands (``suggest_bands``), the rule:

- Grades from the fit scores of the leads given (the training leads): with four grades the top
  one starts at the score the top 20% of leads reach, the next at the top 50%, the next at the
  top 80% (A top 20%, B next 30%, C next 30%, D the rest); with another number of grades, equal
  shares. Each lower bound is rounded to a multiple of 5 when the fit scores span 50 points or
  more (a whole number otherwise): of the multiples either side, the one whose share of leads is
  nearer the target. Each is kept at least one step below the band above.
- Tiers from the total score: the last tier but one starts at the MQL threshold (warm = an MQL),
  the ones above split the MQLs (the leads at or above the threshold, not knocked out) into
  equal shares by score, rounded the same way and kept above the threshold (with three tiers:
  hot = the top half of the MQLs); the last tier is everyone else.
- The names and number of bands are the model's own. When every lead has the same fit score
  (or there are no MQLs) the model's bands stay as they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from pydantic import ValidationError

from lead_model.errors import LeadModelError
from lead_model.model.schema import Band, ScoringModel, _check_bands

KINDS = ("grades", "tiers")
BAND_TABLE_COLUMNS = ["kind", "band", "min_score", "leads", "share", "conversion_rate"]
GRADE_SHARES = {4: (0.2, 0.5, 0.8)}  # cumulative top shares by number of grades; others: equal shares


def unreachable_bands(model: ScoringModel) -> list[str]:
    """One sentence per grade or tier (and the MQL threshold) no lead can reach because of the caps; [] when all are reachable.

    Grades need a fit score, so the fit cap bounds them; tiers and the threshold need a total
    score, bounded by the total cap and by the fit and engagement caps added together. Names
    come from the model as they are (escape them before Markdown renders them).
    """
    caps = model.caps
    out = []
    if caps.fit is not None:
        for b in model.grades[:-1]:
            if b.min_score > caps.fit:
                out.append(f"Grade {b.name} is out of reach: it needs a fit score of at least {b.min_score}, but the fit cap is {caps.fit}; "
                           f"lower the grade or raise the cap.")
    limits = []
    if caps.total is not None:
        limits.append((caps.total, f"the total cap is {caps.total}"))
    if caps.fit is not None and caps.engagement is not None:
        both = caps.fit + caps.engagement
        limits.append((both, f"the fit and engagement caps add up to {both}"))
    if limits:
        top, why = min(limits, key=lambda x: x[0])
        for b in model.tiers[:-1]:
            if b.min_score > top:
                out.append(f"Tier {b.name} is out of reach: it needs a total score of at least {b.min_score}, but {why}; lower the tier or raise the cap.")
        if model.mql_threshold > top:
            out.append(f"No lead can become an MQL: the MQL threshold is {model.mql_threshold}, but {why}; lower the threshold or raise the cap.")
    return out


def parse_bands(kind: str, bands: Iterable) -> tuple[Band, ...]:
    """Bands given as Band, (name, min_score) pairs or {"name", "min_score"} dicts, highest first, checked by the schema's
    rule (the last band has no minimum); LeadModelError in one sentence otherwise. A minimum may be None, NaN, a whole number
    or its text ('' for none)."""
    if kind not in KINDS:
        raise LeadModelError(f"'{kind}' is not a kind of band; use 'grades' or 'tiers'.")
    what = kind[:-1]
    out = []
    for i, b in enumerate(bands):
        if isinstance(b, Band):
            out.append(b)
            continue
        name, low = (b.get("name"), b.get("min_score")) if isinstance(b, dict) else b
        name = "" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name).strip()
        if not name:
            raise LeadModelError(f"{what} {i + 1} has no name; give every {what} a name (e.g. A, hot).")
        if isinstance(low, str):  # typed in a table: "40", " 40 ", or empty for no minimum
            low = low.strip() or None
        if low is not None and not (isinstance(low, float) and math.isnan(low)):
            try:
                number = float(low)
            except (TypeError, ValueError):
                raise LeadModelError(f"the minimum score of {what} '{name}' must be a whole number, not {low!r}.") from None
            if not number.is_integer():
                raise LeadModelError(f"the minimum score of {what} '{name}' must be a whole number, not {low}.")
            low = int(number)
        else:
            low = None
        try:
            out.append(Band(name=name, min_score=low))
        except ValidationError:
            raise LeadModelError(f"{what} '{name}' is not a valid band; give it a name and a whole-number minimum score.") from None
    try:
        return _check_bands(tuple(out), kind)
    except ValueError as exc:
        raise LeadModelError(f"{exc}.") from None


def _step(scores: np.ndarray) -> int:
    return 5 if scores.size and int(scores.max()) - int(scores.min()) >= 50 else 1


def _at_top_shares(scores: np.ndarray, shares: Iterable[float], step: int, floor: int | None = None) -> list[int]:
    """The score each top share of ``scores`` reaches, rounded to ``step``, strictly decreasing (and above ``floor``)."""
    mins: list[int] = []
    for share in shares:
        # of the two multiples of step around the quantile, the one whose top share is nearer the target
        q = float(np.quantile(scores, 1 - share))
        value = min((step * math.floor(q / step), step * math.ceil(q / step)), key=lambda v: abs(float((scores >= v).mean()) - share))
        value = int(value)
        if mins:
            value = min(value, mins[-1] - step)
        mins.append(value)
    if floor is not None:  # from the bottom up: each stays above the one below, the lowest above the floor
        for i in range(len(mins) - 1, -1, -1):
            below = floor if i == len(mins) - 1 else mins[i + 1]
            mins[i] = max(mins[i], below + step)
    return mins


def suggest_bands(model: ScoringModel, fit: np.ndarray, total: np.ndarray, knocked_out: np.ndarray) -> tuple[tuple[Band, ...], tuple[Band, ...]]:
    """Grades and tiers for ``model``'s scale from per-lead fit and total scores (points) and knock-out flags; the rule is in the module docstring."""
    fit = np.asarray(fit)
    total = np.asarray(total)
    grades = model.grades
    if len(grades) > 1 and fit.size and np.ptp(fit) > 0:
        k = len(grades)
        shares = GRADE_SHARES.get(k, tuple(i / k for i in range(1, k)))
        mins = _at_top_shares(fit, shares, _step(fit))
        grades = tuple(Band(name=b.name, min_score=m) for b, m in zip(grades, mins)) + (grades[-1],)
    tiers = model.tiers
    from lead_model.engine.scoring import mql_rule

    mql = total[mql_rule(total, knocked_out, model.mql_threshold)]
    if len(tiers) > 1 and mql.size:
        above = len(tiers) - 2  # tiers above the one starting at the threshold
        shares = tuple(i / (above + 1) for i in range(1, above + 1))
        mins = _at_top_shares(mql, shares, _step(total), floor=model.mql_threshold) if above else []
        tiers = tuple(Band(name=b.name, min_score=m) for b, m in zip(tiers, [*mins, model.mql_threshold])) + (tiers[-1],)
    return grades, tiers


def band_table(model: ScoringModel, fit: np.ndarray, total: np.ndarray, converted: np.ndarray) -> pd.DataFrame:
    """Per grade (fit score) and tier (total score) of ``model``: its minimum score, the leads in it, their share and conversion rate."""
    rows = []
    for kind, bands, scores in (("grade", model.grades, np.asarray(fit)), ("tier", model.tiers, np.asarray(total))):
        upper = math.inf
        for b in bands:
            low = -math.inf if b.min_score is None else b.min_score
            inside = (scores >= low) & (scores < upper)
            n = int(inside.sum())
            rows.append({"kind": kind, "band": b.name, "min_score": b.min_score, "leads": n, "share": n / scores.size if scores.size else math.nan,
                         "conversion_rate": float(converted[inside].mean()) if n else math.nan})
            upper = low
    table = pd.DataFrame(rows, columns=BAND_TABLE_COLUMNS)
    table["min_score"] = table["min_score"].astype("Int64")  # whole points; <NA> for the last band
    return table


def bands_text(bands: tuple[Band, ...]) -> str:
    """'A >= 40, B >= 25, C >= 10, D below'."""
    return ", ".join(f"{b.name} >= {b.min_score}" if b.min_score is not None else f"{b.name} below" for b in bands)


__all__ = ["KINDS", "band_table", "bands_text", "parse_bands", "suggest_bands", "unreachable_bands"]
