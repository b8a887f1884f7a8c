"""Leak checks: one rule set with structured reasons, so the Data page, Suggestions and the CLI say the same thing.

A column that is filled in *because* the lead converted (an opportunity amount, a close date,
a call duration logged after the sale) makes any model look brilliant on history and useless
on new leads. An attribute is flagged when any of these rules fires (the measures come from
``quality.attribute_power``, computed on all leads of the dataset):

1. **fill rate**: the share of leads with a value differs by at least ``FILL_GAP`` between
   converted and other leads (present for 100% of converted, 0% of others), or the column is
   filled far more often for converted leads: at least ``FILL_ASYMMETRY_GAP`` more and
   ``FILL_ASYMMETRY_RATIO`` times as often (a quality rating sales fills in after contact:
   70% of converted leads, 35% of the rest).
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

A column *named* like data filled in after sales contact (status, stage, tags, quality, last
activity, owner, reason, closed, won, lost, call duration) is a **question**, not a verdict:
the room answers "known before sales contact?" per column, the answer is stored with the
dataset (``save_answer``) and wins over the rules: known in time keeps a flagged column,
filled in after contact leaves it out of suggestions whatever the rules say.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from lead_model.formatting import count

FILL_GAP = 0.8  # rule 1: difference in the share of leads with a value
FILL_ASYMMETRY_GAP = 0.25  # rule 1: filled this much more often for converted leads ...
FILL_ASYMMETRY_RATIO = 1.5  # ... and this many times as often
PURE_HIGH = 0.95  # rule 2: "converts at ~100%"
PURE_LOW_FACTOR = 1 / 20  # rule 2: "converts at ~0%": at most this times the base rate ...
PURE_LOW_CI_FACTOR = 1 / 10  # ... and its interval's upper end below this times the base rate
MIN_SUPPORT = 30  # leads a level needs before its rate counts as evidence
HIGH_SHARE = 0.01  # a ~100% level needs this share of leads
LOW_SHARE = 0.05  # a ~0% level needs this share of leads
AUC_LIMIT = 0.8  # rule 3

RULES = ("fill rate", "pure level", "alone")
TABLE_COLUMNS = ["column", "auc", "rules", "evidence"]
ANSWERS_KEY = "known_before_contact"  # dataset settings: column -> True (known in time) / False (filled in after contact)

# Words in a column name that suggest it is filled in after sales contact (a question, never a verdict).
POST_CONTACT_WORDS = ("status", "stage", "tag", "tags", "quality", "owner", "reason", "closed", "close", "won", "lost", "duration", "disposition", "outcome")
POST_CONTACT_PHRASES = (("last", "activity"), ("call", "duration"), ("last", "contact"), ("last", "touch"))


def name_words(name: str) -> list[str]:
    """A column name as lower-case words: 'LastActivity_Date' -> ['last', 'activity', 'date']."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def post_contact_hint(name: str) -> str | None:
    """The words of ``name`` that suggest post-contact data ('last activity'), or None."""
    words = name_words(name)
    for a, b in POST_CONTACT_PHRASES:
        if any(x == a and y == b for x, y in zip(words, words[1:])):
            return f"{a} {b}"
    hit = next((w for w in words if w in POST_CONTACT_WORDS), None)
    return hit


@dataclass(frozen=True)
class LeakReason:
    """One rule that fired for a column, with the numbers behind it and a clause for people."""

    rule: str  # one of RULES
    clause: str  # "has a value for 100% of converted leads but 0% of the others"
    level: str | None = None  # the level or bin, for "pure level"
    value: float = math.nan  # the measure: fill-rate gap, the level's conversion rate, or the AUC


@dataclass(frozen=True)
class LeakVerdict:
    """Whether one attribute looks like it leaks the outcome, and why.

    ``answer`` is the room's "known before sales contact?" (None: not asked or not answered);
    it wins over the rules. ``name_hint`` is set when the name suggests post-contact data.
    """

    column: str
    auc: float
    reasons: tuple[LeakReason, ...]
    name_hint: str | None = None
    answer: bool | None = None

    @property
    def leaky(self) -> bool:
        """Left out of suggestions: the room said it is filled in after contact, or a rule fired and nobody said otherwise."""
        return self.answer is False or (self.answer is None and bool(self.reasons))

    @property
    def rules(self) -> str:
        return ", ".join(r.rule for r in self.reasons)

    @property
    def needs_answer(self) -> bool:
        """Worth asking the room: a rule fired or the name suggests post-contact data, and nobody answered yet."""
        return self.answer is None and (bool(self.reasons) or self.name_hint is not None)

    @property
    def evidence(self) -> str:
        """One sentence: "'deal_size' has a value for ...; '(missing)' (300 leads) converts at 0.0%."."""
        said = {True: " You said it is known before sales contact, so it is kept.",
                False: " You said it is filled in after sales contact, so it is left out."}.get(self.answer, "")
        if not self.reasons:
            if self.answer is False:
                return f"'{self.column}' is filled in after sales contact (your answer), so it is left out."
            return f"'{self.column}' shows no sign of leaking the outcome." + said
        return f"'{self.column}' " + "; ".join(r.clause for r in self.reasons) + "." + said

    @property
    def question(self) -> str:
        """'Is 'lead_status' known before sales contact? Its name (status) suggests it is filled in after.'"""
        why = [f"its name ({self.name_hint}) suggests it is filled in after" if self.name_hint else "",
               "the rules above flag it" if self.reasons else ""]
        return f"Is '{self.column}' known before sales contact? " + (" and ".join(w for w in why if w) + ".").capitalize()


def judge(row, answer: bool | None = None) -> LeakVerdict:
    """The verdict for one row of ``quality.attribute_power``'s measures, and the room's answer if any."""
    reasons = []
    gap = row.present_converted - row.present_not_converted
    asymmetric = gap >= FILL_ASYMMETRY_GAP and row.present_converted >= FILL_ASYMMETRY_RATIO * row.present_not_converted
    if abs(gap) >= FILL_GAP or asymmetric:
        reasons.append(LeakReason(
            "fill rate", f"has a value for {row.present_converted:.0%} of converted leads but {row.present_not_converted:.0%} of the others",
            value=float(row.present_converted - row.present_not_converted),
        ))
    if row.purest_level is not None and row.purest_level == row.purest_level:
        reasons.append(LeakReason(
            "pure level", f"'{row.purest_level}' ({count(int(row.purest_leads))}) converts at {row.purest_rate:.1%}",
            level=row.purest_level, value=float(row.purest_rate),
        ))
    if row.auc > AUC_LIMIT:
        reasons.append(LeakReason("alone", f"on its own it ranks leads with AUC {row.auc:.2f}", value=float(row.auc)))
    return LeakVerdict(row.column, float(row.auc), tuple(reasons), post_contact_hint(row.column), answer)


def leak_check(leads, power: pd.DataFrame | None = None, answers: dict[str, bool] | None = None) -> dict[str, LeakVerdict]:
    """A verdict per attribute of ``leads``, strongest alone first.

    Pass ``power`` to reuse ``attribute_power``; ``answers`` (column -> known before contact)
    default to those stored with the dataset (``stored_answers``).
    """
    from lead_model.data.quality import attribute_power

    power = attribute_power(leads) if power is None else power
    answers = stored_answers(leads) if answers is None else answers
    return {v.column: v for v in (judge(r, answers.get(r.column)) for r in power.itertuples(index=False))}


def stored_answers(leads) -> dict[str, bool]:
    """The room's "known before sales contact?" answers stored with the dataset of ``leads`` ({} when none or no store)."""
    from lead_model.data.store import LeadStore

    path = getattr(leads, "store_path", None)
    if path is None or not path.exists():
        return {}
    try:
        info = LeadStore(path).info(leads.name)
    except Exception:  # noqa: BLE001 - an in-memory or unlisted LeadSet has no stored answers
        return {}
    return {c: bool(v) for c, v in (info.settings or {}).get(ANSWERS_KEY, {}).items()}


def save_answer(leads, column: str, known: bool | None) -> dict[str, bool]:
    """Store "is ``column`` known before sales contact?" with the dataset (None forgets the answer); returns every answer."""
    from lead_model.data.store import LeadStore
    from lead_model.errors import LeadModelError

    if column not in leads.profiles:
        raise LeadModelError(f"the data has no column '{column}'; answer for one of the dataset's columns.")
    store = LeadStore(leads.store_path)
    info = store.info(leads.name)
    settings = dict(info.settings or {})
    answers = dict(settings.get(ANSWERS_KEY, {}))
    if known is None:
        answers.pop(column, None)
    else:
        answers[column] = bool(known)
    settings[ANSWERS_KEY] = answers
    store.update_settings(leads.name, settings)
    return answers


def leak_table(verdicts: dict[str, LeakVerdict]) -> pd.DataFrame:
    """The leaky attributes as a table: column, auc, rules, evidence (one sentence)."""
    rows = [{"column": v.column, "auc": v.auc, "rules": v.rules, "evidence": v.evidence} for v in verdicts.values() if v.leaky]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def leaky_columns(verdicts: dict[str, LeakVerdict]) -> list[str]:
    return [c for c, v in verdicts.items() if v.leaky]
