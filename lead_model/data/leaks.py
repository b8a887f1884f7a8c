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

A column flagged over **one level** (rule 2: a lead-source column whose small 'Sales call'
level is set after contact) need not go as a whole: the room can say that *level* is recorded
after sales contact (``save_level_answer``, stored with the dataset under ``LEVELS_KEY``).
The column is then judged again without that level's leads (``quality.attribute_power``
with ``ignored_levels``), and the suggester gives the level no points of its own (0 points,
fit with a term of its own so its leads do not lift any other level or attribute). Only levels
of categorical columns can be answered this way; '(missing)' is the fill-rate rule's business
and a numeric column's bins are no levels of the file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from lead_model.formatting import count
from lead_model.model.semantics import MISSING_LABEL, OTHER_LABEL

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
LEVELS_KEY = "after_contact_levels"  # dataset settings: column -> [levels recorded after sales contact]
LEVEL_NOTE = "recorded after sales contact (your answer): no points of its own"  # the suggester's note on such a level

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
    ignored_levels: tuple[str, ...] = ()  # levels the room said are recorded after sales contact (judged without them)
    categorical: bool = False  # a categorical column: one of its levels can be answered for alone

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
    def pure_level(self) -> str | None:
        """The level that can be answered for alone ("recorded after sales contact?"): the level of the pure-level rule, in a
        categorical column, when it is one of the file's values (not '(missing)' or '(other)'); None otherwise."""
        level = next((r.level for r in self.reasons if r.rule == "pure level"), None)
        if not self.categorical or level is None or level in (MISSING_LABEL, OTHER_LABEL):
            return None
        return level

    @property
    def level_offer(self) -> str:
        """The choice of answering for the pure level alone: "Ignore level 'Sales call' only"."""
        return f"Ignore level '{self.pure_level}' only" if self.pure_level is not None else ""

    @property
    def level_offer_help(self) -> str:
        """What answering for the pure level alone does, in one sentence."""
        if self.pure_level is None:
            return ""
        return (f"Say '{self.pure_level}' is recorded after sales contact: '{self.column}' is judged again without its leads and "
                f"the level gets no points of its own; the rest of '{self.column}' stays in the suggestions.")

    @property
    def level_question(self) -> str:
        """"If only 'Sales call' is recorded after sales contact, answer for that level alone: ..." ('' without a pure level)."""
        if self.pure_level is None or self.answer is not None:
            return ""
        return (f"If only '{self.pure_level}' is recorded after sales contact, answer for that level alone: the rest of "
                f"'{self.column}' is judged and scored as usual.")

    @property
    def evidence(self) -> str:
        """One sentence: "'deal_size' has a value for ...; '(missing)' (300 leads) converts at 0.0%."."""
        said = {True: " You said it is known before sales contact, so suggestions may use it.",
                False: " You said it is filled in after sales contact, so suggestions leave it out (ignore the column to take it out of the model too)."}.get(self.answer, "")
        levels = f" {ignored_levels_sentence(self.ignored_levels)}" if self.ignored_levels else ""
        if not self.reasons:
            if self.answer is False:
                return (f"'{self.column}' is filled in after sales contact (your answer), so suggestions leave it out "
                        "(ignore the column to take it out of the model too)." + levels)
            without = f" without {_quoted(self.ignored_levels)}" if self.ignored_levels else ""
            return f"'{self.column}' shows no sign of leaking the outcome{without}." + said + levels
        return f"'{self.column}' " + "; ".join(r.clause for r in self.reasons) + "." + said + levels

    @property
    def question(self) -> str:
        """'Is 'lead_status' known before sales contact? Its name (status) suggests it is filled in after.'"""
        why = [f"its name ({self.name_hint}) suggests it is filled in after" if self.name_hint else "",
               "the rules above flag it" if self.reasons else ""]
        return f"Is '{self.column}' known before sales contact? " + (" and ".join(w for w in why if w) + ".").capitalize()


def _quoted(levels) -> str:
    """"'A'", "'A' and 'B'", "'A', 'B' and 'C'"."""
    q = [f"'{lv}'" for lv in levels]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " and " + q[-1]


def ignored_levels_sentence(levels) -> str:
    """"You said 'Sales call' is recorded after sales contact: its leads are left out of the leak check and it gets no points of its own."."""
    levels = tuple(levels)
    if len(levels) == 1:
        return f"You said {_quoted(levels)} is recorded after sales contact: its leads are left out of the leak check and it gets no points of its own."
    return f"You said {_quoted(levels)} are recorded after sales contact: their leads are left out of the leak check and they get no points of their own."


def judge(row, answer: bool | None = None, ignored_levels: tuple[str, ...] = ()) -> LeakVerdict:
    """The verdict for one row of ``quality.attribute_power``'s measures, and the room's answer if any.

    ``ignored_levels`` are the levels the row was measured without (the room said they are recorded after contact)."""
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
    categorical = getattr(row, "kind", None) == "categorical"
    return LeakVerdict(row.column, float(row.auc), tuple(reasons), post_contact_hint(row.column), answer, tuple(ignored_levels), categorical)


def leak_check(
    leads, power: pd.DataFrame | None = None, answers: dict[str, bool] | None = None, levels: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, LeakVerdict]:
    """A verdict per attribute of ``leads``, strongest alone first.

    Pass ``power`` to reuse ``attribute_power`` (measured with every level); ``answers``
    (column -> known before contact) and ``levels`` (column -> levels recorded after contact)
    default to those stored with the dataset (``stored_answers``, ``stored_levels``). A column
    with such levels is measured again without their leads.
    """
    from lead_model.data.quality import attribute_power

    power = attribute_power(leads) if power is None else power
    if answers is None or levels is None:
        stored_known, stored_after = stored_leak_answers(leads)
        answers = stored_known if answers is None else answers
        levels = stored_after if levels is None else levels
    levels = usable_levels(leads, levels)
    if levels:
        again = {r["column"]: r for r in attribute_power(leads, ignored_levels=levels, columns=list(levels)).to_dict("records")}
        power = pd.DataFrame([again.get(r["column"], r) for r in power.to_dict("records")], columns=power.columns)
    return {v.column: v for v in (judge(r, answers.get(r.column), levels.get(r.column, ())) for r in power.itertuples(index=False))}


def usable_levels(leads, levels: dict[str, tuple[str, ...]] | None) -> dict[str, tuple[str, ...]]:
    """The stored levels that still are levels of a categorical attribute of ``leads`` (roles or the file may have changed since)."""
    out = {}
    for column, values in (levels or {}).items():
        enc = leads.attributes.get(column)
        if enc is None or enc.kind != "categorical":
            continue
        kept = tuple(v for v in values if v in enc.levels)
        if kept:
            out[column] = kept
    return out


def _settings(leads) -> dict:
    from lead_model.data.store import LeadStore

    path = getattr(leads, "store_path", None)
    if path is None or not path.exists():
        return {}
    try:
        info = LeadStore(path).info(leads.name)
    except Exception:  # noqa: BLE001 - an in-memory or unlisted LeadSet has no stored answers
        return {}
    return info.settings or {}


def stored_leak_answers(leads) -> tuple[dict[str, bool], dict[str, tuple[str, ...]]]:
    """Both kinds of answers stored with the dataset of ``leads``, read at once: (``stored_answers``, ``stored_levels``)."""
    settings = _settings(leads)
    known = {c: bool(v) for c, v in settings.get(ANSWERS_KEY, {}).items()}
    after = {c: tuple(str(v) for v in vs) for c, vs in settings.get(LEVELS_KEY, {}).items() if vs}
    return known, after


def stored_answers(leads) -> dict[str, bool]:
    """The room's "known before sales contact?" answers stored with the dataset of ``leads`` ({} when none or no store)."""
    return stored_leak_answers(leads)[0]


def stored_levels(leads) -> dict[str, tuple[str, ...]]:
    """The levels the room said are recorded after sales contact, per column, stored with the dataset of ``leads``."""
    return stored_leak_answers(leads)[1]


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


def save_level_answer(leads, column: str, level: str, after: bool | None) -> dict[str, tuple[str, ...]]:
    """Store "level ``level`` of ``column`` is recorded after sales contact" with the dataset (``after`` True), or forget it
    (False or None); returns every column's levels. Only a level of a categorical attribute can be answered for."""
    from lead_model.data.store import LeadStore
    from lead_model.errors import LeadModelError, did_you_mean

    if column not in leads.profiles:
        raise LeadModelError(f"the data has no column '{column}'{did_you_mean(column, list(leads.profiles))}; answer for one of the dataset's columns.")
    enc = leads.attributes.get(column)
    if after and enc is None:
        raise LeadModelError(f"'{column}' is not scored (its role is {leads.roles[column].role}); answer for a level of an attribute.")
    if after and enc.kind != "categorical":
        raise LeadModelError(f"'{column}' is {enc.kind}, so it has no levels to answer for alone; answer for the whole column instead.")
    if after and level not in enc.levels:
        raise LeadModelError(f"'{column}' has no level '{level}'{did_you_mean(level, list(enc.levels))}; name one of its values.")
    store = LeadStore(leads.store_path)
    settings = dict(store.info(leads.name).settings or {})
    levels = {c: list(v) for c, v in settings.get(LEVELS_KEY, {}).items()}
    mine = [v for v in levels.get(column, []) if v != level]
    if after:
        mine.append(level)
    if mine:
        levels[column] = mine
    else:
        levels.pop(column, None)
    settings[LEVELS_KEY] = levels
    store.update_settings(leads.name, settings)
    return {c: tuple(v) for c, v in levels.items()}


def split_column_level(leads, text: str) -> tuple[str, str]:
    """'lead_source=Sales call' as (column, level): the first '=' after which the left part is a column of ``leads``
    (column names and levels may hold '=' themselves)."""
    from lead_model.errors import LeadModelError

    for i, ch in enumerate(text):
        if ch == "=" and text[:i] in leads.profiles:
            return text[:i], text[i + 1:]
    raise LeadModelError(f"'{text}' is not COLUMN=LEVEL with one of the dataset's columns; write e.g. lead_source=Partner.")


def leak_table(verdicts: dict[str, LeakVerdict]) -> pd.DataFrame:
    """The leaky attributes as a table: column, auc, rules, evidence (one sentence)."""
    rows = [{"column": v.column, "auc": v.auc, "rules": v.rules, "evidence": v.evidence} for v in verdicts.values() if v.leaky]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def leaky_columns(verdicts: dict[str, LeakVerdict]) -> list[str]:
    return [c for c, v in verdicts.items() if v.leaky]
