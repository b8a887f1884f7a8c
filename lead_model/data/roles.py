"""Column profiles and inferred roles: outcome, lead id, created date, attribute (and its kind and group), ignored."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from lead_model.data.leaks import name_words  # one home for splitting a column name into words
from lead_model.errors import LeadModelError, did_you_mean
from lead_model.model.semantics import DEFAULT_FALSE_VALUES, DEFAULT_MISSING_VALUES, DEFAULT_TRUE_VALUES, missing_set

Role = Literal["outcome", "id", "created", "attribute", "ignore"]
Kind = Literal["categorical", "numeric", "boolean"]
Group = Literal["fit", "engagement"]  # what a model counts an attribute as (the schema has these two groups)
UNKNOWN_GROUP = "unknown"  # the guess when the name gives no clue; such a column is counted as fit until someone chooses
UNKNOWN_GROUP_LABEL = "unknown — counted as fit until you choose"  # the role picker's words for it

# One home for what a value means: lead_model.model.semantics (these are its defaults).
DEFAULT_PLACEHOLDERS = DEFAULT_MISSING_VALUES
POSITIVE = {"1", "1.0", "true", "t", "yes", "y", "won", "win", "converted", "closed won", "closed-won", "closed_won", "success", "positive", "sql", "opportunity", "customer"}
NEGATIVE = {"0", "0.0", "false", "f", "no", "n", "lost", "lose", "not converted", "not_converted", "unconverted", "closed lost", "closed-lost", "closed_lost", "failure", "negative", "open", "disqualified"}
TRUE_WORDS = frozenset(DEFAULT_TRUE_VALUES)
FALSE_WORDS = frozenset(DEFAULT_FALSE_VALUES)
OUTCOME_NAMES = ("converted", "is_converted", "conversion", "won", "is_won", "closed_won", "outcome", "target", "label", "y", "mql", "sql", "became_customer")
MAX_LEVELS = 200  # more distinct values than this in a text column: free text or an identifier
_ENGAGEMENT_WORDS = re.compile(
    r"visit|view|open|click|download|webinar|demo|page|session|event|attend|request|trial|activity|engag|"
    r"form|chat|call|contact|campaign|previous|pdays|poutcome|duration|last_|days_since|recency|frequency|touch|reply|respon|download|"
    r"time_on|time on|on_site|minutes|seconds|score_behav|behavio",
    re.IGNORECASE,
)
# Words for who a lead is (firmographics, demographics, the person's job): fit. Matched as whole words of the
# name ('job_level' -> job, level), so 'age' does not match 'page' and 'state' does not match 'statement'.
FIT_WORDS = frozenset({
    "title", "job", "role", "seniority", "department", "dept", "function", "persona", "position",
    "industry", "sector", "vertical", "segment", "company", "employer", "organisation", "organization", "org", "business", "firm",
    "size", "employees", "employee", "headcount", "staff", "revenue", "turnover", "arr", "budget", "income", "salary",
    "country", "region", "state", "city", "location", "geo", "territory", "zip", "postcode", "postal", "continent", "timezone", "language",
    "age", "gender", "marital", "education", "degree", "personal", "domain",
    "balance", "loan", "housing", "mortgage", "credit", "default",
})
_ID_NAME = re.compile(r"(^|[_\s])(id|uuid|guid|key|lead ?id|record ?id)$|^id$", re.IGNORECASE)
# The money a converted lead brought: pipeline figures, never a score (it is known only after the deal).
_AMOUNT_NAME = re.compile(
    r"(^|[_\s.-])(amount|deal[_\s]?(value|size)|opportunity[_\s]?value|pipeline([_\s]?value)?|acv|bookings|won[_\s]?value)($|[_\s.-])",
    re.IGNORECASE,
)
_EMAIL_LIKE = re.compile(r"e-?mail|phone|name$|^name|address|url|website", re.IGNORECASE)


@dataclass(frozen=True)
class ColumnProfile:
    """What one column holds, measured once at load."""

    name: str
    dtype: str  # 'text', 'integer', 'float', 'boolean', 'date'
    rows: int
    n_null: int
    n_placeholder: int  # non-null values that are placeholders
    placeholder_values: dict[str, int]
    n_distinct: int  # distinct non-missing values
    numeric_share: float  # text columns: share of non-missing values that parse as numbers
    top_values: tuple[tuple[str, int], ...]  # most common non-missing values with counts
    low: float = math.nan  # numbers: the smallest and largest value
    high: float = math.nan

    @property
    def n_missing(self) -> int:
        return self.n_null + self.n_placeholder

    @property
    def lowered_values(self) -> set[str]:
        return {v.strip().lower() for v, _ in self.top_values}


@dataclass(frozen=True)
class ColumnRole:
    """The role a column plays; ``kind``/``group`` matter for attributes only."""

    name: str
    role: Role
    kind: Kind | None = None
    group: Group | None = None  # what the model counts the attribute as: fit or engagement
    reason: str = ""
    group_known: bool = True  # False: the name gave no clue ('unknown'), so it is counted as fit until someone chooses

    @property
    def shown_group(self) -> str | None:
        """The group as people should read it: 'fit', 'engagement', 'unknown' (counted as fit) or None (not an attribute)."""
        return UNKNOWN_GROUP if self.group is not None and not self.group_known else self.group


@dataclass(frozen=True)
class RoleOverride:
    role: Role | None = None
    kind: Kind | None = None
    group: Literal["fit", "engagement"] | None = None


def infer_roles(
    profiles: dict[str, ColumnProfile],
    outcome: str | None = None,
    exclude: tuple[str, ...] = (),
    overrides: dict[str, RoleOverride] | None = None,
    require_outcome: bool = True,
) -> dict[str, ColumnRole]:
    """Decide every column's role; ``outcome``, ``exclude`` and ``overrides`` win over inference.

    With ``require_outcome=False`` (scoring new leads) a dataset may have no outcome column.
    """
    names = list(profiles)
    for col in list(exclude) + list(overrides or {}):
        if col not in profiles:
            raise LeadModelError(f"the data has no column '{col}'{did_you_mean(col, names)}; check the spelling.")
    if outcome is None and not require_outcome:
        try:
            outcome = _guess_outcome(profiles)
        except LeadModelError:
            outcome = None
    else:
        outcome = outcome or _guess_outcome(profiles)
    if outcome is not None and outcome not in profiles:
        if not require_outcome:
            outcome = None
        else:
            raise LeadModelError(f"the data has no column '{outcome}'{did_you_mean(outcome, names)}; pass the outcome with --outcome.")
    if outcome is not None:
        check_outcome(profiles[outcome])

    roles: dict[str, ColumnRole] = {}
    have_id = have_created = False
    for name, prof in profiles.items():
        if name == outcome:
            role = ColumnRole(name, "outcome", reason="the converted yes/no outcome")
        elif name in exclude:
            role = ColumnRole(name, "ignore", reason="excluded by you")
        else:
            role = _infer_one(prof, allow_id=True, allow_created=not have_created)
            have_id |= role.role == "id"
            have_created |= role.role == "created"
        roles[name] = role
    overrides = overrides or {}
    for name, ov in overrides.items():
        roles[name] = _apply_override(roles[name], ov, profiles[name])
    for one in ("created", "id"):  # a column chosen as the created date (or the id) replaces the one inferred
        chosen = next((n for n, ov in overrides.items() if roles[n].role == one), None)
        if chosen is not None:
            for name, role in roles.items():
                if role.role == one and name != chosen and name not in overrides:
                    roles[name] = ColumnRole(name, "ignore", reason=f"another {'date' if one == 'created' else 'id'} column ('{chosen}' was chosen)")
    return roles


def _apply_override(role: ColumnRole, ov: RoleOverride, prof: ColumnProfile) -> ColumnRole:
    new_role = ov.role or role.role
    kind = ov.kind or role.kind
    group = ov.group or role.group
    # chosen by someone, or guessed from the name (an 'unknown' guess stays unknown until a group is chosen)
    known = True if ov.group else role.group_known if role.group else group_guess(prof.name)[0] != UNKNOWN_GROUP
    if new_role == "attribute":
        kind = kind or default_kind(prof)
        group = group or default_group(prof.name)
        if kind == "numeric" and prof.dtype == "text" and prof.numeric_share < 0.5:
            raise LeadModelError(f"column '{prof.name}' holds text, not numbers, so it cannot be numeric; make it categorical.")
        # booleans are read ignoring case ("Yes" and "yes" are one value), so count values that way
        distinct = len(prof.lowered_values) if prof.n_distinct <= MAX_LEVELS else prof.n_distinct
        if kind == "boolean" and distinct > 2:
            raise LeadModelError(f"column '{prof.name}' has {distinct} values, so it cannot be boolean; make it categorical.")
    else:
        kind = group = None
        known = True
    return ColumnRole(prof.name, new_role, kind, group, "set by you", known)


def check_outcome(prof: ColumnProfile) -> None:
    """The outcome must hold exactly two values."""
    if prof.n_distinct != 2:
        shown = ", ".join(f"'{v}'" for v, _ in prof.top_values[:5])
        raise LeadModelError(
            f"outcome column '{prof.name}' has {prof.n_distinct} distinct values ({shown}), not two; "
            "choose a converted yes/no column or map it to two values first."
        )


def positive_value(prof: ColumnProfile) -> str:
    """Which of the outcome's two values means converted."""
    values = [v for v, _ in prof.top_values[:2]]
    pos = [v for v in values if v.strip().lower() in POSITIVE]
    neg = [v for v in values if v.strip().lower() in NEGATIVE]
    if len(pos) == 1 and len(neg) == 1:
        return pos[0]
    if len(pos) == 1:
        return pos[0]
    if len(neg) == 1:
        return next(v for v in values if v != neg[0])
    # No vocabulary match: conversions are the rarer outcome in every lead export we know.
    return min(prof.top_values[:2], key=lambda vc: (vc[1], vc[0]))[0]


def default_kind(prof: ColumnProfile) -> Kind:
    if prof.n_distinct <= 2 and _is_boolean_values(prof):
        return "boolean"
    if prof.dtype in ("integer", "float") or (prof.dtype == "text" and prof.numeric_share >= 0.98):
        return "numeric" if prof.n_distinct > 2 else "categorical"
    return "categorical"


def counted_as_fit(role: ColumnRole | None, group: str) -> bool:
    """True when a model's attribute is fit only because its column's group is unknown (the Designer marks it)."""
    return role is not None and group == "fit" and role.shown_group == UNKNOWN_GROUP


def default_group(name: str) -> Group:
    """The group a model counts column ``name`` as: the guess, with 'unknown' counted as fit."""
    guess = group_guess(name)[0]
    return "fit" if guess == UNKNOWN_GROUP else guess


def group_guess(name: str) -> tuple[Literal["fit", "engagement", "unknown"], str]:
    """Fit, engagement or unknown for a column, and why, in words the room can check.

    Engagement when the name speaks of an action ('visits', 'opens', 'downloads', 'webinar'...);
    fit when it names who the lead is (``FIT_WORDS``: title, industry, size, country...);
    otherwise unknown rather than a coin toss (a model counts it as fit until someone chooses).
    """
    hit = _ENGAGEMENT_WORDS.search(name)
    if hit:
        return "engagement", f"engagement: '{hit.group(0).lower()}' in the name is something a lead did"
    word = next((w for w in name_words(name) if w in FIT_WORDS), None)
    if word:
        return "fit", f"fit: '{word}' in the name says who the lead is"
    return UNKNOWN_GROUP, "unknown: no clue in the name; choose fit or engagement (counted as fit until you do)"


def _is_boolean_values(prof: ColumnProfile) -> bool:
    """Two values, one a 'true' word and one a 'false' word (yes/no, 1/0, true/false, y/n)."""
    if prof.dtype == "boolean":
        return True
    values = prof.lowered_values
    return len(values) == 2 and bool(values & TRUE_WORDS) and bool(values & FALSE_WORDS)


def _guess_outcome(profiles: dict[str, ColumnProfile]) -> str:
    by_lower = {n.strip().lower(): n for n in profiles}
    for candidate in OUTCOME_NAMES:
        name = by_lower.get(candidate)
        if name and profiles[name].n_distinct == 2:
            return name
    two_valued = [n for n, p in profiles.items() if p.n_distinct == 2 and p.lowered_values <= POSITIVE | NEGATIVE]
    if len(two_valued) == 1:
        return two_valued[0]
    hint = f" (two-valued columns: {', '.join(two_valued[:6])})" if two_valued else ""
    raise LeadModelError(f"cannot tell which column is the converted outcome{hint}; pass it with --outcome COLUMN.")


def guess_amount_column(profiles: dict[str, ColumnProfile], roles: dict[str, ColumnRole]) -> str | None:
    """The column holding each lead's deal amount (for pipeline figures), or None.

    A numeric column named like an amount ('opportunity_amount', 'deal value', 'pipeline',
    'ACV'), not the outcome, id or created date. A company's annual revenue is a fit
    attribute, not a deal amount, so 'revenue' alone does not count.
    """
    for name, prof in profiles.items():
        if roles[name].role in ("outcome", "id", "created") or not _AMOUNT_NAME.search(name):
            continue
        if prof.dtype in ("integer", "float") or (prof.dtype == "text" and prof.numeric_share >= 0.95):
            return name
    return None


def _is_sequential(prof: ColumnProfile, non_missing: int) -> bool:
    """Whole numbers, one per lead, nearly consecutive (a row number or an auto-increment key)."""
    if prof.dtype != "integer" or prof.n_distinct != non_missing or prof.n_distinct < 20 or math.isnan(prof.low):
        return False
    return prof.high - prof.low + 1 <= 1.1 * prof.n_distinct


def _infer_one(prof: ColumnProfile, allow_id: bool, allow_created: bool) -> ColumnRole:
    name = prof.name
    non_missing = prof.rows - prof.n_missing
    if non_missing == 0:
        return ColumnRole(name, "ignore", reason="always empty")
    if prof.n_distinct <= 1:
        return ColumnRole(name, "ignore", reason="a single value: it cannot separate leads")
    unique_share = prof.n_distinct / max(non_missing, 1)
    if allow_id and _ID_NAME.search(name) and unique_share > 0.9:
        return ColumnRole(name, "id", reason="named like an identifier and (nearly) unique")
    if prof.dtype == "date":
        if allow_created:
            return ColumnRole(name, "created", reason="the first date column")
        return ColumnRole(name, "ignore", reason="another date column")
    kind = default_kind(prof)
    if kind == "categorical" and prof.dtype == "text" and (prof.n_distinct > MAX_LEVELS or (unique_share > 0.5 and prof.n_distinct > 20)):
        why = "free text or contact details" if _EMAIL_LIKE.search(name) else "too many distinct values to score"
        return ColumnRole(name, "ignore", reason=f"{prof.n_distinct:,} distinct values: {why}")
    if allow_id and _is_sequential(prof, non_missing):
        return ColumnRole(name, "id", reason="a unique, sequential number per lead: an id, not an attribute")
    if allow_id and unique_share >= 0.999 and prof.dtype in ("text", "integer") and prof.n_distinct > 1000:
        return ColumnRole(name, "id", reason="a unique value per lead")
    group, why = group_guess(name)
    known = group != UNKNOWN_GROUP
    return ColumnRole(name, "attribute", kind, group if known else "fit", reason=f"{kind} with {prof.n_distinct:,} values; {why}", group_known=known)


def with_role(roles: dict[str, ColumnRole], profiles: dict[str, ColumnProfile], name: str, ov: RoleOverride) -> dict[str, ColumnRole]:
    """A copy of ``roles`` with one column changed (used by the app's role editor)."""
    out = dict(roles)
    out[name] = _apply_override(roles[name], ov, profiles[name])
    return out


placeholder_set = missing_set  # trimmed, lower-cased: how placeholders are compared
