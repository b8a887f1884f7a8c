"""Attribute statistics: conversion by level or bin, weight of evidence, information value, tests and leak flags."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, pointbiserialr

from lead_model.suggest.binning import supervised_edges
from lead_model.errors import LeadModelError
from lead_model.engine.intervals import wilson_interval
from lead_model.data.leads import LeadSet
from lead_model.data.leaks import LeakVerdict, ignored_levels_sentence, leak_check
from lead_model.model.semantics import MISSING_LABEL, OTHER_LABEL, edge_labels

WOE_SMOOTHING = 0.5  # leads added to each level's converted and unconverted counts before WoE
WEAK_IV = 0.02
STRONG_IV = 0.5  # above this an attribute is called suspiciously strong and its verdict says to check it


ATTRIBUTE_COLUMNS = [
    "attribute", "kind", "group", "rank", "information_value", "chi2", "p_value", "cramers_v", "point_biserial",
    "levels", "missing_share", "strength", "leaky", "leak_evidence", "verdict",
]
LEVEL_COLUMNS = [
    "attribute", "code", "level", "min", "leads", "share", "converted", "conversion_rate", "ci_low", "ci_high", "lift", "woe", "iv",
]


@dataclass(frozen=True, eq=False)
class AttributeStats:
    """Statistics of every candidate attribute of a LeadSet.

    ``attributes``: one row per attribute, strongest (highest information value) first.
    ``levels``: one row per level or bin with leads > 0 (``code`` is the lead code; for
    numeric attributes ``min`` is the bin's lower bound, NaN for the first bin and missing).
    ``edges``: the bin edges used for each numeric attribute. Rates are fractions; lift is
    a ratio to the base rate; WoE is ln(share of converted / share of unconverted).
    """

    attributes: pd.DataFrame
    levels: pd.DataFrame
    edges: dict[str, tuple[float, ...]]
    base_rate: float
    n_leads: int
    # levels the room said are recorded after sales contact (leaks.LEVELS_KEY), per attribute: the attribute's
    # information value leaves them out, and the suggester gives them no points of their own
    ignored_levels: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def leaky(self) -> list[str]:
        return self.attributes.loc[self.attributes["leaky"], "attribute"].tolist()

    def level_table(self, name: str) -> pd.DataFrame:
        return self.levels[self.levels["attribute"] == name].reset_index(drop=True)


def level_codes(leads: LeadSet, name: str, edges: tuple[float, ...] | None = None) -> tuple[np.ndarray, list[str], list[float]]:
    """Lead codes of one attribute, a label per code and each code's bin lower bound (NaN if none).

    categorical: 0 missing, 1..K levels, K+1 other. boolean: 0 missing, 1 false, 2 true.
    numeric: 0 missing, 1 + number of ``edges`` <= value.
    """
    enc = leads.attribute(name)
    if enc.kind == "numeric":
        if edges is None:
            raise LeadModelError(f"numeric attribute '{name}' needs bin edges; compute them with attribute_statistics first.")
        codes = leads.bin_codes(name, tuple(edges))
        bounds = [math.nan, math.nan, *edges]
        labels = [MISSING_LABEL, *edge_labels(edges)]
        return codes, labels, bounds
    if enc.kind == "boolean":
        return enc.codes, [MISSING_LABEL, "false", "true"], [math.nan] * 3
    return enc.codes, [MISSING_LABEL, *enc.levels, OTHER_LABEL], [math.nan] * (len(enc.levels) + 2)


def woe_iv(leads_per_level: np.ndarray, converted_per_level: np.ndarray, smoothing: float = WOE_SMOOTHING) -> tuple[np.ndarray, np.ndarray]:
    """Weight of evidence and IV contribution per level (levels with leads > 0).

    WoE_i = ln(((c_i + a) / (C + a m)) / ((u_i + a) / (U + a m))) with c converted,
    u unconverted, m levels and a = ``smoothing`` leads, so an empty cell gives a large
    but finite WoE instead of infinity. IV_i = (c_i/C - u_i/U) * WoE_i (unsmoothed shares).
    """
    n = np.asarray(leads_per_level, dtype=np.float64)
    c = np.asarray(converted_per_level, dtype=np.float64)
    u = n - c
    m = n.size
    C, U = c.sum(), u.sum()
    woe = np.log(((c + smoothing) / (C + smoothing * m)) / ((u + smoothing) / (U + smoothing * m)))
    iv = (c / C - u / U) * woe
    return woe, iv


def attribute_statistics(
    leads: LeadSet,
    names: list[str] | tuple[str, ...] | None = None,
    *,
    edges: dict[str, tuple[float, ...]] | None = None,
    n_quantiles: int = 10,
    min_share: float = 0.05,
    monotonic: bool = False,
    smoothing: float = WOE_SMOOTHING,
    leaks: dict[str, LeakVerdict] | None = None,
) -> AttributeStats:
    """Statistics of each attribute of ``leads`` (default: every attribute column).

    Numeric attributes are binned with ``binning.supervised_edges`` unless ``edges`` gives
    their cut points; missing is its own level. Per attribute: information value (IV),
    chi-square p-value and Cramer's V (2 x levels table, no continuity correction), and for
    numeric ones the point-biserial correlation on non-missing values. Verdicts: weak
    (IV < 0.02), useful (< 0.1), strong, suspicious (IV > 0.5: check it is known before sales
    contact). ``leaky`` (left out of suggestions) is the verdict of ``lead_model.data.leaks``:
    pass ``leaks`` (``leak_check`` of the whole dataset) so a training part is judged as the
    Data page judged the dataset; by default the verdicts are made on ``leads``. Strength alone
    never makes a column leaky: real but strong signals (a previous campaign's outcome) are kept.
    Levels a verdict was judged without (``LeakVerdict.ignored_levels``: recorded after sales
    contact) stay in the level table but not in their attribute's information value.
    """
    if not leads.has_outcome:
        raise LeadModelError("attribute statistics need an outcome column; load the leads with --outcome.")
    names = list(leads.attributes) if names is None else list(names)
    if not names:
        raise LeadModelError("the data has no attribute columns to analyse; check the roles or the excludes.")
    given = dict(edges or {})
    if leaks is None:
        leaks = leak_check(leads)
    npos, n = leads.n_converted, leads.n_leads
    base = leads.base_rate
    attr_rows, level_frames, used_edges = [], [], {}
    for name in names:
        enc = leads.attribute(name)
        e = None
        if enc.kind == "numeric":
            e = tuple(given[name]) if name in given else supervised_edges(enc.values, leads.converted, n_quantiles, min_share, monotonic)
            used_edges[name] = e
        codes, labels, bounds = level_codes(leads, name, e)
        k = len(labels)
        count = np.bincount(codes, minlength=k)[:k]
        conv = np.bincount(codes[:npos], minlength=k)[:k]
        keep = np.flatnonzero(count > 0)
        cnt, cv = count[keep], conv[keep]
        woe, iv = woe_iv(cnt, cv, smoothing)
        rate = cv / cnt
        low, high = wilson_interval(cv, cnt)
        level_frames.append(pd.DataFrame({
            "attribute": name, "code": keep, "level": [labels[i] for i in keep], "min": [bounds[i] for i in keep],
            "leads": cnt, "share": cnt / n, "converted": cv, "conversion_rate": rate, "ci_low": low, "ci_high": high,
            "lift": rate / base, "woe": woe, "iv": iv,
        }))
        chi2, p, v = _chi_square(cnt, cv)
        pb = math.nan
        if enc.kind == "numeric":
            ok = ~np.isnan(enc.values)
            y = leads.converted[ok]
            if ok.sum() > 2 and 0 < y.sum() < y.size and np.ptp(enc.values[ok]) > 0:
                pb = float(pointbiserialr(y, enc.values[ok]).statistic)
        leak = leaks.get(name)
        ignored = tuple(leak.ignored_levels) if leak is not None else ()
        if ignored:  # the information value of the levels known in time
            known = np.array([not (0 < i < len(labels) - 1 and labels[i] in ignored) for i in keep])
            total_iv = float(woe_iv(cnt[known], cv[known], smoothing)[1].sum()) if known.any() else 0.0
        else:
            total_iv = float(iv.sum())
        strength = "weak" if total_iv < WEAK_IV else "useful" if total_iv < 0.1 else "strong"
        if leak is not None and leak.leaky:
            verdict = f"looks leaky, left out: {leak.evidence.rstrip('.')}; is it filled in after sales contact? then it leaks the outcome"
        elif total_iv > STRONG_IV:
            verdict = f"suspiciously strong, kept: information value {total_iv:.2f} > {STRONG_IV}; check it is known before sales contact"
        elif strength == "weak":
            verdict = f"weak: information value {total_iv:.3f} < {WEAK_IV}, little to score on"
        else:
            verdict = f"{strength}: information value {total_iv:.3f}"
        if ignored and not (leak is not None and leak.leaky):
            verdict += f" ({ignored_levels_sentence(ignored).rstrip('.')})"
        leaky = leak is not None and leak.leaky
        attr_rows.append({
            "attribute": name, "kind": enc.kind, "group": enc.group, "information_value": total_iv, "chi2": chi2,
            "p_value": p, "cramers_v": v, "point_biserial": pb, "levels": int(keep.size),
            "missing_share": float(count[0] / n), "strength": "suspicious" if leaky or total_iv > STRONG_IV else strength,
            "leaky": leaky, "leak_evidence": leak.evidence if leaky else "", "verdict": verdict,
        })
    attributes = pd.DataFrame(attr_rows).sort_values("information_value", ascending=False, kind="stable").reset_index(drop=True)
    attributes.insert(3, "rank", np.arange(1, len(attributes) + 1))
    levels = pd.concat(level_frames, ignore_index=True)[LEVEL_COLUMNS]
    ignored_levels = {a: tuple(v.ignored_levels) for a, v in leaks.items() if v.ignored_levels and a in names}
    return AttributeStats(attributes[ATTRIBUTE_COLUMNS], levels, used_edges, base, n, ignored_levels)


def _chi_square(count: np.ndarray, conv: np.ndarray) -> tuple[float, float, float]:
    """Chi-square statistic, p-value and Cramer's V of the converted x level table."""
    table = np.vstack([conv, count - conv]).astype(np.float64)
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0, 0.0
    res = chi2_contingency(table, correction=False)
    chi2 = float(res.statistic)
    # Cramer's V = sqrt(chi2 / (n * (min(rows, cols) - 1))); with two rows that is sqrt(chi2 / n).
    return chi2, float(res.pvalue), math.sqrt(chi2 / table.sum())


def stats_report(stats: AttributeStats, scope: str = "leads") -> str:
    """The attribute table as text for the command line; ``scope`` names the leads it was computed on (e.g. "training leads")."""
    lines = [
        f"{stats.n_leads:,} {scope}, base conversion rate {stats.base_rate:.2%}. Attributes by information value (IV);"
        " r_pb is the point-biserial correlation of a numeric attribute with converting:",
        f"{'rank':>4} {'attribute':26} {'kind':11} {'group':10} {'IV':>7} {'Cramer V':>8} {'p-value':>9} {'r_pb':>6}  verdict",
    ]
    for r in stats.attributes.itertuples():
        pb = "" if r.point_biserial != r.point_biserial else f"{r.point_biserial:+.3f}"
        lines.append(f"{r.rank:>4} {r.attribute[:26]:26} {r.kind:11} {r.group:10} {r.information_value:>7.3f} {r.cramers_v:>8.3f} "
                     f"{_pvalue(r.p_value):>9} {pb:>6}  {r.verdict}")
    leaky = stats.leaky()
    if leaky:
        lines += ["", "Suspicious (left out of suggestions unless you opt in): " + ", ".join(leaky)
                  + ". Exclude columns filled in after sales contact with --exclude COL."]
    return "\n".join(lines)


def _pvalue(p: float) -> str:
    """p-values below what a float can tell from 0 read '< 1e-300', not '0'."""
    return "< 1e-300" if p < 1e-300 else f"{p:.2g}"
