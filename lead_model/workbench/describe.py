"""What the Designer says about a backtest, in words and formatted numbers: KPI tiles, knock-outs, capacity."""

from __future__ import annotations

import math
from dataclasses import dataclass

from lead_model.engine.backtest import BacktestResult
from lead_model.engine.thresholds import ThresholdChoice, for_capacity
import numpy as np
import pandas as pd

from lead_model.formatting import DASH, count, lift, money, pct, score, signed
from lead_model.model.diff import knockout_text
from lead_model.model.semantics import MISSING_LABEL, OTHER_LABEL, level_key


@dataclass(frozen=True)
class Tile:
    """One KPI tile: label, value, delta against the baseline (None when it rounds to zero) and its colour rule."""

    label: str
    value: str
    delta: str | None
    delta_color: str  # "normal" (up is good) or "off" (neutral)


def kpi_tiles(r: BacktestResult, b: BacktestResult | None) -> list[Tile]:
    """The five KPI tiles: Precision, Recall, MQLs, Lift, AUC.

    Values: Precision and Recall as percentages with one decimal ("25.3%"), MQLs as
    "1,240 (12.4%)" (count and share of leads), Lift as "2.93x" (lift at the threshold),
    AUC with three decimals; "–" when undefined (no MQLs). Deltas are against the baseline
    model at its own threshold, and omitted when they round to zero or either side is undefined.
    """

    def delta(field: str, scale: float, fmt: str, unit: str = "") -> str | None:
        if b is None:
            return None
        now, then = getattr(r, field) * scale, getattr(b, field) * scale
        if math.isnan(now) or math.isnan(then):
            return None
        return signed(now - then, fmt, unit)

    return [
        Tile("Precision", pct(r.precision), delta("precision", 100, "+.1f", " pts"), "normal"),
        Tile("Recall", pct(r.recall), delta("recall", 100, "+.1f", " pts"), "normal"),
        Tile("MQLs", f"{r.mql:,} ({pct(r.mql_rate)})", delta("mql", 1, "+,"), "off"),
        Tile("Lift", lift(r.lift_at_threshold), delta("lift_at_threshold", 1, "+.2f", "x"), "normal"),
        Tile("AUC", score(r.auc), delta("auc", 1, "+.3f"), "normal"),
    ]


def pipeline_tile(now, then) -> Tile | None:
    """The Pipeline tile: the amount MQLs captured and its share of all pipeline ("12.3M (64%)"), None without an amount column.

    ``now``/``then`` are ``engine.revenue.Pipeline`` of the current model and the baseline; the
    delta is the change in captured share, in points.
    """
    if now is None:
        return None
    delta = None
    if then is not None and is_number_pair(now.captured_share, then.captured_share):
        text = format((now.captured_share - then.captured_share) * 100, "+.1f")
        delta = None if float(text) == 0 else text + " pts"
    return Tile("Pipeline", f"{money(now.captured)} ({pct(now.captured_share, 0)})", delta, "normal")


def is_number_pair(a: float, b: float) -> bool:
    return not (math.isnan(a) or math.isnan(b))


@dataclass(frozen=True)
class LeadStory:
    """Why one lead got its score: a sentence for the room and the points behind it."""

    sentence: str
    breakdown: pd.DataFrame  # attribute, group, value, points: non-zero rows, most points first


def lead_story(leads, model, position: int, scores) -> LeadStory:
    """The lead at ``position`` (LeadSet order) under ``model``, given the engine's ``scores`` of every lead.

    Says its score and parts, whether it is an MQL and how far it is from the threshold, its
    tier and grade, which cap took points off, and whether it converted.
    """
    from lead_model.engine.scoring import band_names, points_breakdown

    total, fit, eng = int(scores.total[position]), int(scores.fit[position]), int(scores.engagement[position])
    knocked = bool(scores.knocked_out[position])
    parts = points_breakdown(leads, model, position)
    raw = {g: int(parts.loc[parts["group"] == g, "points"].sum()) for g in ("fit", "engagement")}
    capped = [f"the {g} cap ({getattr(model.caps, g)}) took {raw[g] - got} points off" for g, got in (("fit", fit), ("engagement", eng)) if raw[g] > got]
    if fit + eng > total:
        capped.append(f"the total cap ({model.caps.total}) took {fit + eng - total} points off")
    threshold = model.mql_threshold
    if knocked:
        verdict = "knocked out, so never an MQL"
    elif total >= threshold:
        verdict = f"an MQL, {count(total - threshold, 'point')} above the threshold {threshold}" if total > threshold else f"an MQL, exactly at the threshold {threshold}"
    else:
        verdict = f"not an MQL, {count(threshold - total, 'point')} below the threshold {threshold}"
    tier = "knocked out" if knocked else band_names(np.array([total]), model.tiers)[0]
    grade = band_names(np.array([fit]), model.grades)[0]
    outcome = "converted" if leads.converted[position] else "did not convert"
    sentence = (f"Score {total} (fit {fit} + engagement {eng}): {verdict}; tier {tier}, grade {grade}. "
                + (f"{_sentence_case('; '.join(capped))}. " if capped else "") + f"This lead {outcome}.")
    shown = parts[parts["points"] != 0].sort_values("points", ascending=False, kind="stable").reset_index(drop=True)
    return LeadStory(sentence, shown)


def threshold_range(r: BacktestResult, threshold: int, step: int = 50) -> tuple[int, int]:
    """The MQL threshold slider's range: every score the model can give and the threshold, rounded out to ``step``.

    Rounded so it rarely changes: a slider with a new range is a new widget to the browser.
    """
    lo = r.histograms.low
    hi = lo + r.histograms.leads.size - 1
    return step * math.floor(min(lo, threshold, 0) / step), step * math.ceil(max(hi, threshold, step) / step)


@dataclass(frozen=True)
class CapacityAdvice:
    """The threshold that fits sales capacity and what it gives per month (``choice.threshold`` None: nothing fits)."""

    choice: ThresholdChoice
    per_month: float  # leads sales can work per month
    months: float  # months of history the counts cover
    months_known: bool  # from created dates (True) or typed in by the room (False)

    @property
    def mql_per_month(self) -> float:
        return self.choice.mql / self.months

    def sentence(self) -> str:
        span = f"over {self.months:.1f} months of history" if self.months_known else f"over {self.months:g} months"
        if self.choice.threshold is None:
            return f"Even the top score gives more than {self.per_month:,.0f} MQLs a month {span}."
        return (f"Threshold {self.choice.threshold} fits: {self.mql_per_month:,.0f} MQLs a month {span}, "
                f"precision {pct(self.choice.precision)}, recall {pct(self.choice.recall)}.")


def capacity_advice(r: BacktestResult, per_month: float, months: float, months_known: bool) -> CapacityAdvice:
    """The lowest threshold whose MQLs per month fit ``per_month`` over ``months`` of history."""
    return CapacityAdvice(for_capacity(r, per_month, months), per_month, months, months_known)


def points_table(model) -> pd.DataFrame:
    """Every points value of ``model`` as rows: attribute, group, level (as every table labels it), points."""
    rows = []
    for attr in model.attributes:
        if attr.kind == "numeric":
            rows += [(attr.name, attr.group, attr.bin_label(i), b.points) for i, b in enumerate(attr.bins)]
        else:
            rows += [(attr.name, attr.group, level_key(lv.value), lv.points) for lv in attr.levels]
            if attr.kind == "categorical":
                rows.append((attr.name, attr.group, OTHER_LABEL, attr.other.points))
        rows.append((attr.name, attr.group, MISSING_LABEL, attr.missing.points))
    return pd.DataFrame(rows, columns=["attribute", "group", "level", "points"])


def caps_text(model) -> str:
    """'MQL threshold 60 · caps: fit none, engagement 50, total none · 2 knock-out rules'."""
    caps = ", ".join(f"{g} {'none' if getattr(model.caps, g) is None else getattr(model.caps, g)}" for g in ("fit", "engagement", "total"))
    return f"MQL threshold {model.mql_threshold} · caps: {caps} · {count(len(model.knockouts), 'knock-out rule')}"


def slider_limit(points: int, step: int = 50) -> int:
    """A points slider's range is -limit..limit: 50, or the points rounded up to a multiple of 50."""
    return max(step, step * math.ceil(abs(points) / step))


def level_caption(label: str, leads: int, rate: float, base_rate: float) -> tuple[str, str, str]:
    """(label, "1,240 leads", rate) for a slider's caption, and how the rate compares: "above", "below" or "near" the base rate."""
    if math.isnan(rate):
        return count(leads), "no leads", "near"
    tone = "above" if rate >= 1.2 * base_rate else "below" if rate <= 0.8 * base_rate else "near"
    return count(leads), pct(rate), tone


__all__ = ["DASH", "CapacityAdvice", "Tile", "capacity_advice", "caps_text", "knockout_text", "kpi_tiles", "level_caption", "points_table",
           "slider_limit", "threshold_range"]


def _sentence_case(text: str) -> str:
    """The first letter in upper case, the rest as written (column names keep their spelling)."""
    return text[:1].upper() + text[1:]
