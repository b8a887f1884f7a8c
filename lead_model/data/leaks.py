"""Leak checks: one rule set with structured reasons, so the Data page, Suggestions and the CLI say the same thing.

A column that is filled in *because* the lead converted (an opportunity amount, a close date,
a call duration logged after the sale) makes any model look brilliant on history and useless
on new leads. An attribute is flagged when any of these rules fires (the measures come from
``quality.attribute_power``, computed on all leads of the dataset):

1. **fill rate**: the share of leads with a value differs by at least ``FILL_GAP`` between
   converted and other leads (e.g. present for 100% of converted, 0% of others).
2. **pure level**: a level or bin (missing included) with real support converts at ~100%
   (>= ``PURE_HIGH``, at least ``MIN_SUPPORT`` leads and 1% of leads) or at ~0%: at most
   ``PURE_LOW_FACTOR`` times the base rate with its 95% Wilson interval below a tenth of
   the base rate, with at least ``MIN_SUPPORT`` leads and 5% of leads (so a weak level of a
   rare outcome, students at 0.3% when 2% convert, is not called a leak).
3. **alone**: the attribute on its own ranks leads with AUC > ``AUC_LIMIT``. Real lead
   attributes score 0.5-0.7 alone; call duration on the bank-marketing data scores 0.80
   and also trips rule 2.

Strength alone (a high information value) is never a leak: an honest, strong column (time on
site, a previous campaign's outcome) is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

FILL_GAP = 0.8  # rule 1: difference in the share of leads with a value
PURE_HIGH = 0.95  # rule 2: "converts at ~100%"
PURE_LOW_FACTOR = 1 / 20  # rule 2: "converts at ~0%": at most this times the base rate ...
PURE_LOW_CI_FACTOR = 1 / 10  # ... and its interval's upper end below this times the base rate
MIN_SUPPORT = 30  # leads a level needs before its rate counts as evidence
HIGH_SHARE = 0.01  # a ~100% level needs this share of leads
LOW_SHARE = 0.05  # a ~0% level needs this share of leads
AUC_LIMIT = 0.8  # rule 3

RULES = ("fill rate", "pure level", "alone")
TABLE_COLUMNS = ["column", "auc", "rules", "evidence"]


@dataclass(frozen=True)
class LeakReason:
    """One rule that fired for a column, with the numbers behind it and a clause for people."""

    rule: str  # one of RULES
    clause: str  # "has a value for 100% of converted leads but 0% of the others"
    level: str | None = None  # the level or bin, for "pure level"
    value: float = math.nan  # the measure: fill-rate gap, the level's conversion rate, or the AUC


@dataclass(frozen=True)
class LeakVerdict:
    """Whether one attribute looks like it leaks the outcome, and why."""

    column: str
    auc: float
    reasons: tuple[LeakReason, ...]

    @property
    def leaky(self) -> bool:
        return bool(self.reasons)

    @property
    def rules(self) -> str:
        return ", ".join(r.rule for r in self.reasons)

    @property
    def evidence(self) -> str:
        """One sentence: "'deal_size' has a value for ...; '(missing)' (300 leads) converts at 0.0%."."""
        if not self.reasons:
            return f"'{self.column}' shows no sign of leaking the outcome."
        return f"'{self.column}' " + "; ".join(r.clause for r in self.reasons) + "."


def judge(row) -> LeakVerdict:
    """The verdict for one row of ``quality.attribute_power``'s measures."""
    reasons = []
    if abs(row.present_converted - row.present_not_converted) >= FILL_GAP:
        reasons.append(LeakReason(
            "fill rate", f"has a value for {row.present_converted:.0%} of converted leads but {row.present_not_converted:.0%} of the others",
            value=float(row.present_converted - row.present_not_converted),
        ))
    if row.purest_level is not None and row.purest_level == row.purest_level:
        reasons.append(LeakReason(
            "pure level", f"'{row.purest_level}' ({int(row.purest_leads):,} leads) converts at {row.purest_rate:.1%}",
            level=row.purest_level, value=float(row.purest_rate),
        ))
    if row.auc > AUC_LIMIT:
        reasons.append(LeakReason("alone", f"on its own it ranks leads with AUC {row.auc:.2f}", value=float(row.auc)))
    return LeakVerdict(row.column, float(row.auc), tuple(reasons))


def leak_check(leads, power: pd.DataFrame | None = None) -> dict[str, LeakVerdict]:
    """A verdict per attribute of ``leads``, strongest alone first (pass ``power`` to reuse ``attribute_power``)."""
    from lead_model.data.quality import attribute_power

    power = attribute_power(leads) if power is None else power
    return {v.column: v for v in (judge(r) for r in power.itertuples(index=False))}


def leak_table(verdicts: dict[str, LeakVerdict]) -> pd.DataFrame:
    """The leaky attributes as a table: column, auc, rules, evidence (one sentence)."""
    rows = [{"column": v.column, "auc": v.auc, "rules": v.rules, "evidence": v.evidence} for v in verdicts.values() if v.leaky]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def leaky_columns(verdicts: dict[str, LeakVerdict]) -> list[str]:
    return [c for c, v in verdicts.items() if v.leaky]
