"""Data quality of a LeadSet: what each column holds, what each level converts at, and which columns leak the outcome.

Every function returns a tidy DataFrame (or a small frozen dataclass) that the app shows,
the CLI can print and the tests assert on.

The leak rules that judge ``attribute_power``'s measures live in ``lead_model.data.leaks``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lead_model.suggest.binning import quantile_edges
from lead_model.data.leads import MISSING_CODE, LeadSet
from lead_model.model.schema import Attribute
from lead_model.model.semantics import MISSING_LABEL, OTHER_LABEL, edge_labels
from lead_model.data.leaks import HIGH_SHARE, LOW_SHARE, MIN_SUPPORT, PURE_HIGH, PURE_LOW_CI_FACTOR, PURE_LOW_FACTOR
from lead_model.engine.intervals import wilson_interval
from lead_model.engine.metrics import roc_auc

HIGH_CARDINALITY = 50  # distinct values above which a text column is hard to score level by level
AUC_BINS = 10  # quantile bins for a numeric attribute's single-attribute AUC


@dataclass(frozen=True)
class Overview:
    """The dataset in numbers: rows read, leads scored, conversions and the history's span."""

    rows: int
    leads: int
    converted: int
    conversion_rate: float  # fraction of leads
    dropped_no_outcome: int  # rows without an outcome value, left out
    duplicate_leads: int | None  # rows repeating a lead id; None without an id column
    id_column: str | None
    created_column: str | None
    first_created: np.datetime64 | None
    last_created: np.datetime64 | None
    attributes: int

    def table(self) -> pd.DataFrame:
        """The same numbers as a two-column table (measure, value) of display strings."""
        span = "no created date column"
        if self.first_created is not None:
            span = f"{self.first_created} to {self.last_created}"
        dup = "no lead id column" if self.duplicate_leads is None else f"{self.duplicate_leads:,}"
        return pd.DataFrame(
            {
                "measure": ["rows", "leads scored", "converted", "conversion rate", "rows without outcome", "duplicate leads", "created", "attributes"],
                "value": [
                    f"{self.rows:,}", f"{self.leads:,}", f"{self.converted:,}", f"{self.conversion_rate:.1%}",
                    f"{self.dropped_no_outcome:,}", dup, span, f"{self.attributes}",
                ],
            }
        )


def overview(leads: LeadSet) -> Overview:
    """Rows, leads, conversion rate, date range and duplicates of ``leads``."""
    first = last = None
    if leads.created is not None:
        valid = leads.created[~np.isnat(leads.created)]
        if valid.size:
            first, last = valid.min(), valid.max()
    s = leads.summary
    return Overview(
        rows=s.rows,
        leads=leads.n_leads,
        converted=leads.n_converted,
        conversion_rate=leads.base_rate,
        dropped_no_outcome=s.dropped_no_outcome,
        duplicate_leads=s.duplicate_ids if leads.lead_id_column else None,
        id_column=leads.lead_id_column,
        created_column=leads.created_column,
        first_created=first,
        last_created=last,
        attributes=len(leads.attributes),
    )


def column_quality(leads: LeadSet) -> pd.DataFrame:
    """One row per column of the file: its role and how complete and varied it is.

    Columns: column, role, kind, group, dtype, missing (nulls + placeholders, rows),
    missing_share, placeholder_share (fractions of rows), placeholders (the values seen,
    as text), distinct, high_cardinality (text with more than HIGH_CARDINALITY values),
    reason (why the role was chosen).
    """
    rows = []
    for name, prof in leads.profiles.items():
        role = leads.roles[name]
        shown = ", ".join(f"{v!r} ({c:,})" for v, c in sorted(prof.placeholder_values.items(), key=lambda kv: -kv[1])[:4])
        rows.append(
            {
                "column": name,
                "role": role.role,
                "kind": role.kind,
                "group": role.shown_group,  # 'unknown' when the name gave no clue (counted as fit)
                "dtype": prof.dtype,
                "missing": prof.n_missing,
                "missing_share": prof.n_missing / prof.rows if prof.rows else math.nan,
                "placeholder_share": prof.n_placeholder / prof.rows if prof.rows else math.nan,
                "placeholders": shown,
                "distinct": prof.n_distinct,
                "high_cardinality": prof.dtype == "text" and prof.n_distinct > HIGH_CARDINALITY,
                "reason": role.reason,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["column", "role", "kind", "group", "dtype", "missing", "missing_share", "placeholder_share", "placeholders", "distinct", "high_cardinality", "reason"],
    )


# ----- levels -------------------------------------------------------------------------
def _counts(codes: np.ndarray, n_codes: int, n_converted: int) -> tuple[np.ndarray, np.ndarray]:
    """Leads and converted leads per code (converted leads come first in a LeadSet)."""
    leads = np.bincount(codes, minlength=n_codes)
    conv = np.bincount(codes[:n_converted], minlength=n_codes)
    return leads, conv


def level_table(leads: LeadSet, attribute: Attribute, max_unlisted: int = 30) -> pd.DataFrame:
    """The data behind each slider of one model attribute: its points, leads and conversion rate.

    One row per level the model lists (in model order), then up to ``max_unlisted`` values
    the data holds but the model does not list (they score 'other' until given points),
    then 'other' (categorical only) and 'missing'. Numeric attributes get one row per bin.

    Columns: value (what ``ScoringModel.with_points`` takes: a level value, ``"bin:<i>"``,
    ``"__other__"`` or ``"__missing__"``), label (for people), listed (False for the unlisted
    data values), points, leads, converted (leads), conversion_rate (fraction; NaN with no leads).
    """
    from lead_model.engine.scoring import attribute_codes

    codes, n_codes = attribute_codes(leads, attribute)
    n_leads, n_conv = _counts(codes, n_codes, leads.n_converted)
    rows: list[tuple] = []
    if attribute.kind == "numeric":
        for i, b in enumerate(attribute.bins):
            rows.append((f"bin:{i}", attribute.bin_label(i), True, b.points, int(n_leads[i + 1]), int(n_conv[i + 1])))
    else:
        enc = leads.attribute(attribute.name)
        code_of = {level: i for i, level in enumerate(enc.levels, start=1)}
        listed = set()
        other_leads = int(n_leads[-1])
        other_conv = int(n_conv[-1])
        for lv in attribute.levels:
            key = ("true" if lv.value else "false") if isinstance(lv.value, bool) else lv.value
            listed.add(key)
            code = code_of.get(key)
            count = (int(n_leads[code]), int(n_conv[code])) if code is not None else (0, 0)
            rows.append((lv.value, key, True, lv.points, *count))
        unlisted = [(level, code) for level, code in code_of.items() if level not in listed]
        for level, code in unlisted:
            other_leads += int(n_leads[code])
            other_conv += int(n_conv[code])
        for level, code in unlisted[:max_unlisted]:
            value: str | bool = (level == "true") if attribute.kind == "boolean" else level
            rows.append((value, level, False, attribute.other.points, int(n_leads[code]), int(n_conv[code])))
        if attribute.kind == "categorical":
            rows.append(("__other__", OTHER_LABEL, True, attribute.other.points, other_leads, other_conv))
    rows.append(("__missing__", MISSING_LABEL, True, attribute.missing.points, int(n_leads[MISSING_CODE]), int(n_conv[MISSING_CODE])))
    out = pd.DataFrame(rows, columns=["value", "label", "listed", "points", "leads", "converted"])
    out["value"] = out["value"].astype(object)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["conversion_rate"] = np.where(out["leads"] > 0, out["converted"] / out["leads"].clip(lower=1), np.nan)
    return out


def _analysis_codes(leads: LeadSet, name: str) -> tuple[np.ndarray, int, list[str]]:
    """Codes for judging one attribute: its levels, or AUC_BINS quantile bins for numbers."""
    enc = leads.attributes[name]
    if enc.kind == "numeric":
        edges = quantile_edges(enc.values, AUC_BINS)
        labels = [MISSING_LABEL, *edge_labels(edges)]
        return leads.bin_codes(name, edges), len(edges) + 2, labels
    labels = [MISSING_LABEL, *enc.levels, OTHER_LABEL]
    if enc.kind == "boolean":
        labels = [MISSING_LABEL, *enc.labels]
    return enc.codes, enc.n_codes, labels


def _auc_by_rate(n_leads: np.ndarray, n_conv: np.ndarray) -> float:
    """AUC of ranking leads by their level's conversion rate (ties within a level count half)."""
    rate = np.divide(n_conv, n_leads, out=np.zeros(n_leads.shape, dtype=np.float64), where=n_leads > 0)
    order = np.argsort(rate, kind="stable")
    return roc_auc(n_leads[order], n_conv[order])


def attribute_power(leads: LeadSet, ignored_levels: dict[str, tuple[str, ...]] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """How well each attribute separates converted leads on its own, and the evidence for a leak.

    Columns: column, kind, group, auc (single-attribute AUC, see module docstring),
    present_converted, present_not_converted (fractions with a value), purest_level,
    purest_leads, purest_rate (the best-supported level converting nearest 0% or 100%),
    the measures ``lead_model.data.leaks`` judges.

    ``ignored_levels`` (column -> levels of a categorical attribute) measures those columns
    without the leads at those levels (the room said they are recorded after sales contact):
    every measure, the base rate and the shares are taken over the column's other leads.
    ``columns`` limits the table to some attributes.
    """
    rows = []
    ignored_levels = ignored_levels or {}
    for name, enc in leads.attributes.items():
        if columns is not None and name not in columns:
            continue
        codes, n_codes, labels = _analysis_codes(leads, name)
        n_leads, n_conv = _counts(codes, n_codes, leads.n_converted)
        dropped = [i for i, label in enumerate(labels) if enc.kind == "categorical" and 0 < i <= len(enc.levels) and label in ignored_levels.get(name, ())]
        n_leads[dropped] = 0
        n_conv[dropped] = 0
        total, n_pos = int(n_leads.sum()), int(n_conv.sum())
        base = n_pos / total if total else math.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            present_pos = 1 - n_conv[MISSING_CODE] / n_pos
            present_neg = 1 - (n_leads[MISSING_CODE] - n_conv[MISSING_CODE]) / (total - n_pos)
        # pool rare levels so that a handful of leads cannot make a level look pure
        rare = (n_leads < MIN_SUPPORT) & (n_leads > 0)
        pooled_leads = np.append(np.where(rare, 0, n_leads), n_leads[rare].sum())
        pooled_conv = np.append(np.where(rare, 0, n_conv), n_conv[rare].sum())
        auc = _auc_by_rate(pooled_leads, pooled_conv)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = n_conv / n_leads
        _, upper = wilson_interval(n_conv, n_leads)
        high_ok = (n_leads >= max(MIN_SUPPORT, HIGH_SHARE * total)) & (rate >= PURE_HIGH)
        low_ok = (n_leads >= max(MIN_SUPPORT, LOW_SHARE * total)) & (rate <= base * PURE_LOW_FACTOR) & (upper < base * PURE_LOW_CI_FACTOR)
        pure = high_ok | low_ok
        purest = None
        if pure.any():
            cand = np.flatnonzero(pure)
            purest = int(cand[np.argmax(n_leads[cand])])
        rows.append(
            {
                "column": name,
                "kind": enc.kind,
                "group": leads.roles[name].shown_group if name in leads.roles else enc.group,
                "auc": auc,
                "present_converted": float(present_pos),
                "present_not_converted": float(present_neg),
                "purest_level": labels[purest] if purest is not None and purest < len(labels) else None,
                "purest_leads": int(n_leads[purest]) if purest is not None else None,
                "purest_rate": float(rate[purest]) if purest is not None else math.nan,
            }
        )
    columns = ["column", "kind", "group", "auc", "present_converted", "present_not_converted", "purest_level", "purest_leads", "purest_rate"]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("auc", ascending=False, kind="stable").reset_index(drop=True)
