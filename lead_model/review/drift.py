"""Drift between a reference period and a recent one: the population stability index (PSI) of the score and of each attribute.

PSI = sum over levels of (recent share - reference share) x ln(recent share / reference share),
where a share is a level's leads over all leads of its period, and a share of 0 counts as
0.0001 (so a level that appears or vanishes adds a large but finite term). Verdicts: below
0.10 ``stable``, 0.10 up to 0.25 ``watch``, 0.25 and above ``act``.

An attribute's levels are the places the model scores (each listed level or bin, then
(other) and (missing)), labelled as the Designer labels its sliders: a value not listed in the
model counts as (other), however common it is in the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lead_model.data.leads import MISSING_CODE, LeadSet
from lead_model.engine.scoring import attribute_codes
from lead_model.errors import LeadModelError
from lead_model.formatting import pct
from lead_model.model.schema import Attribute, ScoringModel
from lead_model.model.semantics import MISSING_LABEL, OTHER_LABEL, edge_labels, level_key

ZERO_SHARE = 0.0001  # a share of 0 counts as this (the definition)
WATCH_FROM = 0.10
ACT_FROM = 0.25
SCORE_BINS = 10
KNOCKED_OUT_LABEL = "knocked out"


def psi(reference_counts, recent_counts) -> float:
    """The PSI of two distributions over the same levels, from lead counts per level (any non-negative numbers).

    Shares are counts over their total; a share of 0 counts as 0.0001. Both totals must be positive.
    """
    ref = np.asarray(reference_counts, dtype=np.float64)
    rec = np.asarray(recent_counts, dtype=np.float64)
    if ref.shape != rec.shape or ref.ndim != 1:
        raise LeadModelError(f"PSI compares counts over the same levels, but got {ref.size} and {rec.size} levels; count both periods over one list of levels.")
    if (ref < 0).any() or (rec < 0).any() or not (np.isfinite(ref).all() and np.isfinite(rec).all()):
        raise LeadModelError("PSI takes lead counts, which cannot be negative or missing; pass counts per level.")
    if ref.sum() <= 0 or rec.sum() <= 0:
        raise LeadModelError("PSI needs leads in both periods, but one has none; pick periods that hold leads.")
    r = ref / ref.sum()
    q = rec / rec.sum()
    r = np.where(r == 0, ZERO_SHARE, r)
    q = np.where(q == 0, ZERO_SHARE, q)
    return float(np.sum((q - r) * np.log(q / r)))


def verdict(value: float) -> str:
    """'stable' below 0.10, 'watch' from 0.10 to below 0.25, 'act' from 0.25."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise LeadModelError("a PSI of NaN has no verdict; compute it on periods that both hold leads.")
    if value >= ACT_FROM:
        return "act"
    if value >= WATCH_FROM:
        return "watch"
    return "stable"


@dataclass(frozen=True)
class LevelShift:
    """One level's share of leads in the reference and the recent period (shares are fractions of each period's leads)."""

    level: str
    reference_share: float
    recent_share: float
    reference_leads: int
    recent_leads: int

    @property
    def change(self) -> float:
        return self.recent_share - self.reference_share


@dataclass(frozen=True)
class AttributeDrift:
    """The PSI of one attribute between two periods, with every level's shares (model order)."""

    attribute: str
    psi: float
    verdict: str
    levels: tuple[LevelShift, ...]

    def moved_most(self, n: int = 1) -> list[LevelShift]:
        """The ``n`` levels whose share changed most (either way), largest change first."""
        return sorted(self.levels, key=lambda lv: -abs(lv.change))[:n]

    def moved_phrase(self) -> str:
        """'1 to < 11 rising from 12% to 30%' (the level that moved most; '' when no level moved)."""
        if not self.levels:
            return ""
        lv = self.moved_most(1)[0]
        if lv.change == 0:
            return ""
        way = "rising" if lv.change > 0 else "falling"
        return f"{lv.level} {way} from {share(lv.reference_share)} to {share(lv.recent_share)}"

    def sentence(self) -> str:
        """'company_size: 1 to < 11 rose from 12% to 30% of leads' (the level that moved most)."""
        if not self.moved_phrase():
            return f"{self.attribute}: no level changed its share of leads"
        lv = self.moved_most(1)[0]
        way = "rose" if lv.change > 0 else "fell"
        return f"{self.attribute}: {lv.level} {way} from {share(lv.reference_share)} to {share(lv.recent_share)} of leads"

    def table(self) -> pd.DataFrame:
        """level, reference_share, recent_share, reference_leads, recent_leads, change (model order)."""
        out = pd.DataFrame([vars(lv) for lv in self.levels], columns=["level", "reference_share", "recent_share", "reference_leads", "recent_leads"])
        out["change"] = out["recent_share"] - out["reference_share"]
        return out

    def to_dict(self) -> dict:
        return {
            "attribute": self.attribute, "psi": self.psi, "verdict": self.verdict,
            "levels": [
                {"level": lv.level, "reference_share": lv.reference_share, "recent_share": lv.recent_share,
                 "reference_leads": lv.reference_leads, "recent_leads": lv.recent_leads}
                for lv in self.levels
            ],
        }


def share(x: float) -> str:
    """A share of leads in a drift sentence: whole percent ('12%'), one decimal below 10% ('3.5%')."""
    return pct(x, 1 if abs(x) < 0.0995 else 0)  # 0.0999 reads 10%, not 10.0%


def model_levels(leads: LeadSet, attr: Attribute) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The engine's codes of ``attr`` (``attribute_codes``), a lookup from each code to the model's level it scores, and those levels' labels.

    Levels in the Designer's order and wording: numeric, each bin ('5 to < 20') then (missing);
    categorical, each listed level then (other) (every value the model does not list) and
    (missing); boolean, false and true (listed or not) then (missing).
    """
    codes, n_codes = attribute_codes(leads, attr)
    if attr.kind == "numeric":
        labels = [*edge_labels(attr.edges), MISSING_LABEL]
        lookup = np.arange(-1, n_codes - 1)  # code i (bin i - 1) -> row i - 1
        lookup[MISSING_CODE] = len(labels) - 1
        return codes, lookup, labels
    enc = leads.attribute(attr.name)
    if attr.kind == "boolean":
        labels = ["false", "true", MISSING_LABEL]
        lookup = np.array([2, 0, 1], dtype=np.int64)[: enc.n_codes]
        if enc.n_codes > 3:
            lookup = np.concatenate((lookup, np.full(enc.n_codes - 3, 2)))
        return codes, lookup, labels
    listed = [level_key(lv.value) for lv in attr.levels]
    labels = [*listed, OTHER_LABEL, MISSING_LABEL]
    row_of = {key: i for i, key in enumerate(listed)}
    other = len(listed)
    lookup = np.full(n_codes, other, dtype=np.int64)
    lookup[MISSING_CODE] = other + 1
    for code, level in enumerate(enc.levels, start=1):
        lookup[code] = row_of.get(level, other)
    return codes, lookup, labels


def _check_masks(leads: LeadSet, reference_mask: np.ndarray, recent_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref, rec = np.asarray(reference_mask, dtype=bool), np.asarray(recent_mask, dtype=bool)
    for what, mask in (("reference", ref), ("recent", rec)):
        if mask.shape != (leads.n_leads,):
            raise LeadModelError(f"the {what} mask has {mask.size:,} entries but the data has {leads.n_leads:,} leads; build it from the same LeadSet.")
        if not mask.any():
            raise LeadModelError(f"the {what} period holds no leads, so nothing can be compared; pick a period with leads.")
    return ref, rec


def _shifts(labels: list[str], ref_counts: np.ndarray, rec_counts: np.ndarray) -> tuple[LevelShift, ...]:
    r_total, q_total = ref_counts.sum(), rec_counts.sum()
    return tuple(
        LevelShift(label, float(r / r_total), float(q / q_total), int(r), int(q)) for label, r, q in zip(labels, ref_counts, rec_counts)
    )


def attribute_drift(leads: LeadSet, model: ScoringModel, reference_mask: np.ndarray, recent_mask: np.ndarray) -> list[AttributeDrift]:
    """The PSI of every model attribute between the leads of ``reference_mask`` and of ``recent_mask`` (bool per lead), largest first.

    Levels are the model's (``model_levels``); ties in PSI keep the model's attribute order.
    """
    ref, rec = _check_masks(leads, reference_mask, recent_mask)
    out = []
    for attr in model.attributes:
        codes, lookup, labels = model_levels(leads, attr)
        n_codes = lookup.size
        # counts per code first (one pass over each period's leads), then per model level
        by_code_ref = np.bincount(codes[ref], minlength=n_codes)
        by_code_rec = np.bincount(codes[rec], minlength=n_codes)
        ref_counts = np.bincount(lookup, weights=by_code_ref, minlength=len(labels)).astype(np.int64)
        rec_counts = np.bincount(lookup, weights=by_code_rec, minlength=len(labels)).astype(np.int64)
        value = psi(ref_counts, rec_counts)
        out.append(AttributeDrift(attr.name, value, verdict(value), _shifts(labels, ref_counts, rec_counts)))
    return sorted(out, key=lambda d: -d.psi)  # sorted is stable: equal PSIs keep the model's order


@dataclass(frozen=True)
class ScoreDrift:
    """The PSI of the total score between two periods, over SCORE_BINS bins cut at the reference period's deciles."""

    psi: float
    verdict: str
    edges: tuple[float, ...]  # score bin lower bounds after the first (lead_model.model.semantics bin rule)
    levels: tuple[LevelShift, ...]  # one per score bin (labelled '40 to < 55'), then 'knocked out' when any lead is

    def table(self) -> pd.DataFrame:
        return AttributeDrift("score", self.psi, self.verdict, self.levels).table()


def score_drift(leads: LeadSet, model: ScoringModel, reference_mask: np.ndarray, recent_mask: np.ndarray, scores=None) -> ScoreDrift:
    """The PSI of ``model``'s total score between the leads of ``reference_mask`` and of ``recent_mask``.

    Bins: ten bins cut at the deciles of the reference leads' scores (knocked-out leads left
    out), rounded and de-duplicated by ``lead_model.suggest.binning.quantile_edges`` (a score
    that at least 5% of the reference leads hold gets a bin of its own; tied deciles give fewer
    bins); a score belongs to the last bin whose lower bound it reaches. Knocked-out leads
    (in either period) form one more bin of their own. ``scores``: the leads' scores under ``model``, when the caller has them.
    """
    from lead_model.suggest.binning import quantile_edges

    ref, rec = _check_masks(leads, reference_mask, recent_mask)
    s = scores if scores is not None else leads.engine(model).scores(model)
    ko = s.knocked_out
    live_ref = ref & ~ko
    edges = quantile_edges(s.total[live_ref].astype(np.float64), SCORE_BINS) if live_ref.any() else ()
    labels = edge_labels(edges)
    bins = np.searchsorted(np.asarray(edges, dtype=np.float64), s.total, side="right")
    n = len(labels)
    if ko.any():
        bins = np.where(ko, n, bins)
        labels = [*labels, KNOCKED_OUT_LABEL]
    ref_counts = np.bincount(bins[ref], minlength=len(labels))
    rec_counts = np.bincount(bins[rec], minlength=len(labels))
    value = psi(ref_counts, rec_counts)
    return ScoreDrift(value, verdict(value), tuple(edges), _shifts(labels, ref_counts, rec_counts))
