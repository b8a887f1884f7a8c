"""Scoring: each lead's fit, engagement and total score, knock-outs, grade and tier, fast enough for every slider move.

The engine packs the codes of several attributes of one group into a single mixed-radix
key per lead (once per model *layout*: which attributes, their groups and bin edges). A
points move then only rebuilds small dense tables (``np.add.outer`` of the attributes'
points vectors) and gathers them: a few ``np.take`` over the leads instead of one per
attribute. See ../shared/PERFORMANCE.md for the measured cost model.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lead_model.errors import LeadModelError
from lead_model.data.leads import MISSING_CODE, LeadSet
from lead_model.model.schema import Attribute, Band, KnockOut, ScoringModel
from lead_model.data.roles import FALSE_WORDS, TRUE_WORDS
from lead_model.model.semantics import MISSING_LABEL, OTHER_LABEL

# Entries per packed table: 1 MiB of int32 stays in cache; a gather from it was measured within
# ~10% of one from 256 KiB, and wider tables pack the same attributes into fewer keys (gathers).
MAX_TABLE = 1 << 18
KNOCKED_OUT_TIER = "knocked out"  # the tier of every knocked-out lead, whatever its score


def layout_signature(model: ScoringModel) -> tuple:
    """What the packed keys depend on: attribute names, kinds, groups and bin edges (not points)."""
    return tuple((a.name, a.kind, a.group, a.edges if a.kind == "numeric" else ()) for a in model.attributes)


def attribute_codes(leads: LeadSet, attr: Attribute) -> tuple[np.ndarray, int]:
    """The lead codes of one model attribute and how many codes there are."""
    enc = leads.attribute(attr.name)
    if attr.kind == "numeric":
        return leads.bin_codes(attr.name, attr.edges), len(attr.bins) + 1
    if enc.kind == "numeric":
        raise_kind_mismatch(attr, enc.kind)
    if attr.kind == "boolean" and enc.kind != "boolean":
        raise_kind_mismatch(attr, enc.kind)
    return enc.codes, enc.n_codes


def raise_kind_mismatch(attr: Attribute, data_kind: str) -> None:
    from lead_model.errors import LeadModelError

    raise LeadModelError(
        f"the model scores '{attr.name}' as {attr.kind} but the data holds it as {data_kind}; "
        f"change the attribute's kind in the model to {data_kind}."
    )


def _used_codes(leads: LeadSet, attr: Attribute) -> tuple[np.ndarray, int]:
    """Codes and a radix covering only the codes present: an unused trailing 'other' code
    would widen every packed table it joins (and can cost a whole extra gather)."""
    codes, n_codes = attribute_codes(leads, attr)
    return codes, min(n_codes, int(codes.max()) + 1) if codes.size else 1


def points_vector(leads: LeadSet, attr: Attribute) -> np.ndarray:
    """int32 points per code of one attribute (code 0 = missing)."""
    if attr.kind == "numeric":
        return np.array([attr.missing.points] + [b.points for b in attr.bins], dtype=np.int32)
    enc = leads.attribute(attr.name)
    by_value = attr.level_points()
    vec = np.empty(enc.n_codes, dtype=np.int32)
    vec[MISSING_CODE] = attr.missing.points
    vec[1:-1] = [by_value.get(level, attr.other.points) for level in enc.levels]
    vec[-1] = attr.other.points
    return vec


@dataclass(frozen=True, eq=False)
class _PackedKey:
    group: str
    attributes: tuple[int, ...]  # indexes into model.attributes
    radices: tuple[int, ...]
    key: np.ndarray  # intp per lead


def _apply_cap(shifted: np.ndarray, lo: int, hi: int, cap: int | None) -> tuple[int, int]:
    """Cap scores held as ``score - lo`` in place; returns the new (lo, hi)."""
    if cap is None or cap >= hi:
        return lo, hi
    if cap <= lo:  # the cap is below every possible score: everyone scores the cap
        shifted.fill(0)
        return cap, cap
    np.minimum(shifted, cap - lo, out=shifted)
    return lo, cap


def _dense_table(parts: list[np.ndarray]) -> np.ndarray:
    """int32 points of every code combination of one packed key (first part = most significant digit).

    Built from the last digit backwards so every ``np.add.outer`` has the long axis inside:
    ~0.04 ms for 200k entries, where a left-to-right reduce spends ~1.5 ms on inner loops of
    a few elements.
    """
    table = parts[-1].astype(np.int32)
    for p in parts[-2::-1]:
        table = np.add.outer(p.astype(np.int32, copy=False), table).ravel()
    return table


@dataclass(frozen=True, eq=False)
class ShiftedScores:
    """Per-lead scores minus their lowest possible value (int32 buffers, reused per call)."""

    total: np.ndarray
    fit: np.ndarray
    engagement: np.ndarray
    low: int
    high: int
    fit_bounds: tuple[int, int]
    engagement_low: int
    knocked_out: np.ndarray


@dataclass(frozen=True, eq=False)
class Scores:
    """Per-lead scores in LeadSet order (converted first), int32."""

    total: np.ndarray
    fit: np.ndarray
    engagement: np.ndarray
    knocked_out: np.ndarray  # bool

    def is_mql(self, threshold: int) -> np.ndarray:
        """bool per lead: the one MQL rule, a score at or above ``threshold`` and not knocked out."""
        return mql_rule(self.total, self.knocked_out, threshold)


def mql_rule(total: np.ndarray, knocked_out: np.ndarray, threshold: int) -> np.ndarray:
    """bool per lead: ``total >= threshold`` and not knocked out (the backtest counts exactly these leads)."""
    return (total >= threshold) & ~np.asarray(knocked_out, dtype=bool)


class ScoringEngine:
    """Scores one LeadSet under models that share a layout; build a new engine when the layout changes."""

    def __init__(self, leads: LeadSet, model: ScoringModel):
        started = time.perf_counter()
        self.leads = leads
        self.signature = layout_signature(model)
        self.model_attributes = model.attributes  # the layout: which codes each attribute has
        n = leads.n_leads
        self._keys: list[_PackedKey] = []
        for group in ("fit", "engagement"):
            members = [(i, *_used_codes(leads, a)) for i, a in enumerate(model.attributes) if a.group == group]
            # Largest radix first packs tighter; each key's dense table stays under MAX_TABLE.
            members.sort(key=lambda m: -m[2])
            bins: list[list[tuple[int, np.ndarray, int]]] = []
            for m in members:
                for b in bins:
                    if np.prod([x[2] for x in b]) * m[2] <= MAX_TABLE:
                        b.append(m)
                        break
                else:
                    bins.append([m])
            for b in bins:
                radices = tuple(x[2] for x in b)
                # intp keys: np.take would otherwise convert smaller index types on every call
                key = np.zeros(n, dtype=np.intp)
                for _, codes, radix in b:
                    key *= radix
                    key += codes
                self._keys.append(_PackedKey(group, tuple(x[0] for x in b), radices, key))
        self._buffers = {g: np.empty(n, dtype=np.int32) for g in ("fit", "engagement", "tmp", "tmp_engagement")}
        # the total is bincounted every move; np.bincount converts any other dtype to intp first
        self._buffers["total"] = np.empty(n, dtype=np.intp)
        self._ko_cache: tuple[tuple, np.ndarray] | None = None
        # Streamlit sessions share one LeadSet's engines across threads: the scratch buffers are
        # used under this lock (``scores`` copies out before releasing it).
        self.lock = threading.RLock()
        # each group's gathers use their own scratch buffer, so two threads can score the two groups at once
        self._group_locks = {"fit": threading.Lock(), "engagement": threading.Lock()}
        if os.environ.get("LEAD_MODEL_TIMINGS"):  # engines built, and on which LeadSet (benchmarks/bench_sessions.py counts them)
            ms = (time.perf_counter() - started) * 1000
            print(f"engine_ms={ms:.1f} leadset={leads.version}:{id(leads):x} leads={n}", file=sys.stderr, flush=True)

    def matches(self, model: ScoringModel) -> bool:
        return layout_signature(model) == self.signature

    def buffer(self, name: str) -> np.ndarray:
        """A per-lead scratch buffer of this engine ("total" is intp; the others int32), reused by the next call."""
        return self._buffers[name]

    # ----- per move ---------------------------------------------------------------
    def group_scores(
        self, model: ScoringModel, out: dict[str, np.ndarray] | None = None, caps: bool = True, vectors: list[np.ndarray] | None = None,
        groups: tuple[str, ...] = ("fit", "engagement"),
    ) -> dict[str, tuple[int, int]]:
        """Fill ``out["fit"]`` and ``out["engagement"]`` (int32 per lead; default: this engine's
        buffers) with each group's score minus its lowest possible value, group caps applied
        unless ``caps`` is False; return each group's (lowest, highest) possible score.
        ``vectors`` are the model's points vectors when the caller has them already; ``groups``
        limits the work to some groups (another thread may score the other group meanwhile,
        into its own ``out``)."""
        if out is None:  # the engine's own buffers: one caller at a time
            with self.lock:
                return self._group_scores(model, self._buffers, caps, vectors, groups)
        return self._group_scores(model, out, caps, vectors, groups)

    def _group_scores(self, model: ScoringModel, out: dict[str, np.ndarray], caps: bool, vectors: list[np.ndarray] | None, groups: tuple[str, ...]) -> dict[str, tuple[int, int]]:
        vectors = vectors if vectors is not None else [points_vector(self.leads, a) for a in model.attributes]
        bufs = self._buffers
        bounds = {}
        for group in groups:
            with self._group_locks[group]:
                bounds[group] = self._score_group(model, group, out[group], bufs["tmp" if group == "fit" else "tmp_engagement"], caps, vectors)
        return bounds

    def _score_group(self, model: ScoringModel, group: str, target: np.ndarray, tmp: np.ndarray, caps: bool, vectors: list[np.ndarray]) -> tuple[int, int]:
        members = [v for v, a in zip(vectors, model.attributes) if a.group == group]
        lo = sum(int(v.min()) for v in members)
        hi = sum(int(v.max()) for v in members)
        keys = [k for k in self._keys if k.group == group]
        if not keys:
            target.fill(0)
        for j, k in enumerate(keys):
            parts = [vectors[i][:radix] for i, radix in zip(k.attributes, k.radices)]
            table = _dense_table(parts)
            if j == 0:
                table -= lo
            # every key is in range by construction; 'wrap' skips take's per-element bounds check
            np.take(table, k.key, out=target if j == 0 else tmp, mode="wrap")
            if j:
                np.add(target, tmp, out=target)
        return _apply_cap(target, lo, hi, getattr(model.caps, group)) if caps else (lo, hi)

    def shifted_scores(self, model: ScoringModel) -> ShiftedScores:
        """Scores minus their lowest possible value (so they index histograms), caps applied.

        The offsets are folded into the first table of each group, so this costs one gather
        per packed key, one add per extra key and one add for the total: no extra passes.
        The arrays are buffers reused by the next call (hold ``self.lock`` while reading them
        when other threads share the engine).
        """
        with self.lock:
            bufs = self._buffers
            bounds = self.group_scores(model)
            total = bufs["total"]
            np.add(bufs["fit"], bufs["engagement"], out=total)
            lo = bounds["fit"][0] + bounds["engagement"][0]
            hi = bounds["fit"][1] + bounds["engagement"][1]
            lo, hi = _apply_cap(total, lo, hi, model.caps.total)
            return ShiftedScores(total, bufs["fit"], bufs["engagement"], lo, hi, bounds["fit"], bounds["engagement"][0], self.knocked_out(model.knockouts))

    def scores(self, model: ScoringModel) -> Scores:
        """Every lead's total, fit and engagement score (new arrays) and knock-out flag."""
        with self.lock:
            s = self.shifted_scores(model)
            return Scores((s.total + s.low).astype(np.int32), s.fit + s.fit_bounds[0], s.engagement + s.engagement_low, s.knocked_out)

    def knocked_out(self, rules: tuple[KnockOut, ...]) -> np.ndarray:
        """bool per lead; cached while the rules stay the same."""
        sig = tuple(r.model_dump_json() for r in rules)
        if self._ko_cache is not None and self._ko_cache[0] == sig:
            return self._ko_cache[1]
        ko = knock_out_mask(self.leads, rules)
        self._ko_cache = (sig, ko)
        return ko


def knock_out_mask(leads: LeadSet, rules: tuple[KnockOut, ...]) -> np.ndarray:
    """bool per lead: True where any rule disqualifies the lead."""
    ko = np.zeros(leads.n_leads, dtype=bool)
    for rule in rules:
        enc = leads.attribute(rule.attribute)
        if enc.kind == "numeric":
            values = enc.values
            with np.errstate(invalid="ignore"):
                if rule.below is not None:
                    ko |= values < rule.below
                if rule.at_least is not None:
                    ko |= values >= rule.at_least
                if rule.values is not None:
                    ko |= np.isin(values, [_knock_out_number(rule, v) for v in rule.values if not isinstance(v, bool)])
            if rule.when_missing:
                ko |= np.isnan(values)
            continue
        hit = np.zeros(enc.n_codes, dtype=bool)
        wanted = {("true" if v else "false") if isinstance(v, bool) else str(v) for v in (rule.values or ())}
        if enc.kind == "boolean":
            # any yes/no spelling counts, not only the file's own ("N" knocks out leads whose cell says "no")
            wanted = {"true" if w.strip().lower() in TRUE_WORDS | {enc.labels[1].lower()} else "false" if w.strip().lower() in FALSE_WORDS | {enc.labels[0].lower()} else w for w in wanted}
        for i, level in enumerate(enc.levels, start=1):
            hit[i] = level in wanted
        hit[MISSING_CODE] = rule.when_missing
        ko |= hit[enc.codes]
    return ko


def _knock_out_number(rule: KnockOut, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise LeadModelError(
            f"the knock-out on '{rule.attribute}' lists '{value}', but '{rule.attribute}' is numeric; list numbers or use below / at_least."
        ) from None


def band_names(scores: np.ndarray, bands: tuple[Band, ...]) -> np.ndarray:
    """The band (grade or tier) name of each score; bands are listed highest first."""
    names = np.array([b.name for b in bands], dtype=object)
    mins = np.array([b.min_score for b in bands[:-1]], dtype=np.int64)
    # index of the first band whose min_score <= score; the last band catches the rest
    idx = (scores[:, None] < mins[None, :]).sum(axis=1) if mins.size else np.zeros(scores.shape, dtype=int)
    return names[idx]


def score_leads(leads: LeadSet, model: ScoringModel, engine: ScoringEngine | None = None) -> pd.DataFrame:
    """Every lead's scores in file order: row, score, fit_score, engagement_score, grade, tier, knocked_out, is_mql, converted."""
    engine = engine if engine is not None and engine.leads is leads and engine.matches(model) else leads.engine(model)
    s = engine.scores(model)
    order = np.argsort(leads.row_index, kind="stable")
    ko = s.knocked_out[order]
    total = s.total[order]
    tier = band_names(total, model.tiers)
    tier[ko] = KNOCKED_OUT_TIER
    return pd.DataFrame(
        {
            "row": leads.row_index[order],
            "score": total,
            "fit_score": s.fit[order],
            "engagement_score": s.engagement[order],
            "grade": band_names(s.fit[order], model.grades),
            "tier": tier,
            "knocked_out": ko,
            "is_mql": mql_rule(total, ko, model.mql_threshold),
            "converted": leads.converted[order],
        }
    )


def points_breakdown(leads: LeadSet, model: ScoringModel, position: int) -> pd.DataFrame:
    """One lead's points per attribute: attribute, group, value (bin or level), points."""
    rows = []
    for attr in model.attributes:
        enc = leads.attribute(attr.name)
        vec = points_vector(leads, attr)
        if attr.kind == "numeric":
            value = enc.values[position]
            code = int(leads.bin_codes(attr.name, attr.edges)[position])
            shown = MISSING_LABEL if code == MISSING_CODE else f"{value:g} ({attr.bin_label(code - 1)})"
        else:
            code = int(enc.codes[position])
            shown = MISSING_LABEL if code == MISSING_CODE else (enc.levels[code - 1] if code <= len(enc.levels) else OTHER_LABEL)
            if enc.kind == "boolean" and code != MISSING_CODE:
                shown = enc.labels[code - 1]
        rows.append({"attribute": attr.name, "group": attr.group, "value": shown, "points": int(vec[code])})
    return pd.DataFrame(rows, columns=["attribute", "group", "value", "points"])


def check_fits(leads: LeadSet, model: ScoringModel) -> None:
    """Raise LeadModelError (one sentence naming the column) unless ``model`` can score ``leads``.

    The one "can this engine score this model" rule: every attribute is a column of the data
    with a compatible kind, and every knock-out names an attribute column with usable values.
    """
    for attr in model.attributes:
        attribute_codes(leads, attr)
    knock_out_mask(leads, model.knockouts)


def fits(leads: LeadSet, model: ScoringModel) -> bool:
    """``check_fits`` as a yes/no."""
    try:
        check_fits(leads, model)
    except LeadModelError:
        return False
    return True
