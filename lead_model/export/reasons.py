"""Why each lead scored what it did: its points per attribute and its top reasons in words, vectorised for millions of leads.

A reason reads "job_level is VP: +20": the attribute's name, the level or bin as the Designer
labels it (``Attribute.bin_label``, ``MISSING_LABEL``, ``OTHER_LABEL``) and its points from the
engine (``points_vector``: one home for what a code scores). A lead's reasons are its
attributes with non-zero points, largest absolute points first (ties in model order), the
``top`` of them, joined by "; "; before them the knock-out that disqualified it ("knocked out:
job_level is 'Student' (...)", ``knockout_text``), after them every cap that took points off
("capped: engagement cap 50 took 10 off"). The same sentences read the report's points table.

Reasons start with an attribute's name, never with '+' or '-', so a spreadsheet does not take
them for formulas (a name that itself starts with one is neutralised like any file cell, see
lead_model.export.scored).

Speed: the text depends on only a few numbers per lead (the top reasons' attribute codes, the
points each cap took, which knock-out hit), so those are packed into one integer key per
lead, the sentences are written once per distinct key, and the leads take theirs by index.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lead_model.data.leads import LeadSet
from lead_model.engine.scoring import ScoringEngine, attribute_codes, knock_out_mask, points_vector
from lead_model.errors import LeadModelError
from lead_model.model.diff import knockout_text
from lead_model.model.schema import Attribute, ScoringModel
from lead_model.model.semantics import MISSING_LABEL, OTHER_LABEL

SEPARATOR = "; "
DEFAULT_TOP = 3
_PACK_LIMIT = 1 << 62  # a packed key stays an int64


# ----- the words: one home for "job_level is VP: +20" -------------------------------------------
def points_text(points: int) -> str:
    """'+15', '-5', '0'."""
    return f"{points:+d}" if points else "0"


def level_phrase(attr: Attribute, value: str) -> str:
    """'job_level is VP' (booleans: 'personal_email is true')."""
    return f"{attr.name} is {value}"


def bin_phrase(attr: Attribute, i: int) -> str:
    """'company_size 50 to < 200', 'pricing_page_views >= 3' (a single bin: 'x (any value)')."""
    label = attr.bin_label(i)
    return f"{attr.name} {'(any value)' if label == 'any' else label}"


def missing_phrase(attr: Attribute) -> str:
    return f"{attr.name} {MISSING_LABEL}"


def other_phrase(attr: Attribute) -> str:
    return f"{attr.name} {OTHER_LABEL}"


def reason_text(phrase: str, points: int) -> str:
    """'job_level is VP: +20'."""
    return f"{phrase}: {points_text(points)}"


def cap_text(group: str, cap: int, taken: int) -> str:
    """'capped: engagement cap 50 took 10 off'."""
    return f"capped: {group} cap {cap} took {taken} off"


def knocked_out_text(rule) -> str:
    """"knocked out: job_level is 'Student' (Students do not buy)"."""
    return f"knocked out: {knockout_text(rule)}"


def code_phrases(leads: LeadSet, attr: Attribute) -> list[str]:
    """The phrase of every code the engine gives ``attr`` on ``leads`` (code 0 = missing), in code order.

    Levels the data holds but the model does not list score 'other'; they read
    'industry is Aerospace (other)'. Codes past the encoded levels read 'industry (other)'.
    """
    if attr.kind == "numeric":
        return [missing_phrase(attr)] + [bin_phrase(attr, i) for i in range(len(attr.bins))]
    enc = leads.attribute(attr.name)
    listed = attr.level_points()
    phrases = [missing_phrase(attr)]
    for level in enc.levels:
        phrases.append(level_phrase(attr, level) if level in listed else f"{level_phrase(attr, level)} {OTHER_LABEL}")
    phrases.append(other_phrase(attr))
    return phrases


def model_points(model: ScoringModel) -> pd.DataFrame:
    """Every points value of ``model`` in words: attribute, group, phrase ('industry is Software'), points, text ('industry is Software: +15').

    The rows of ``workbench.describe.points_table`` (levels, other, missing; bins), worded as the reasons are.
    """
    rows = []
    for attr in model.attributes:
        if attr.kind == "numeric":
            places = [(bin_phrase(attr, i), b.points) for i, b in enumerate(attr.bins)]
        else:
            places = [(level_phrase(attr, key), points) for key, points in attr.level_points().items()]
            if attr.kind == "categorical":
                places.append((other_phrase(attr), attr.other.points))
        places.append((missing_phrase(attr), attr.missing.points))
        rows += [(attr.name, attr.group, phrase, int(points), reason_text(phrase, points)) for phrase, points in places]
    return pd.DataFrame(rows, columns=["attribute", "group", "phrase", "points", "text"])


# ----- per lead --------------------------------------------------------------------------------
def points_columns(model: ScoringModel) -> list[str]:
    """'points_<attribute>' for every attribute of ``model``, in model order."""
    return [f"points_{a.name}" for a in model.attributes]


def lead_reasons(leads: LeadSet, model: ScoringModel, top: int | None = DEFAULT_TOP, engine: ScoringEngine | None = None) -> pd.DataFrame:
    """Every lead in file order: row, points_<attribute> (int32, one per attribute) and reasons (text).

    ``top``: at most this many attribute reasons per lead (None: every non-zero one); the
    knock-out and the caps are always said. Points come from the engine, so each lead's
    points add up to its uncapped fit and engagement scores.
    """
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise LeadModelError(f"the number of reasons per lead must be a whole number of 1 or more, not {top!r}.")
    engine = engine if engine is not None and engine.leads is leads and engine.matches(model) else leads.engine(model)
    scores = engine.scores(model)
    n, attrs = leads.n_leads, model.attributes
    points = np.zeros((n, len(attrs)), dtype=np.int32)
    ids = np.zeros((n, len(attrs)), dtype=np.int32)  # a global phrase id per lead and attribute
    phrases: list[str] = []
    phrase_points: list[int] = []
    for j, attr in enumerate(attrs):
        codes, _ = attribute_codes(leads, attr)
        vec = points_vector(leads, attr)
        names = code_phrases(leads, attr)
        points[:, j] = vec[codes]
        ids[:, j] = codes.astype(np.int32) + len(phrases)
        phrases += names
        phrase_points += [int(p) for p in vec[: len(names)]]

    # the top reasons: largest |points| first, ties in model order (a stable sort); zero points say nothing
    k = len(attrs) if top is None else min(top, len(attrs))
    order = np.argsort(-np.abs(points), axis=1, kind="stable")[:, :k]
    top_ids = np.take_along_axis(ids, order, axis=1)
    top_ids[np.take_along_axis(points, order, axis=1) == 0] = -1

    fit_cols = [j for j, a in enumerate(attrs) if a.group == "fit"]
    eng_cols = [j for j, a in enumerate(attrs) if a.group == "engagement"]
    raw_fit = points[:, fit_cols].sum(axis=1, dtype=np.int64)
    raw_eng = points[:, eng_cols].sum(axis=1, dtype=np.int64)
    taken = {
        "fit": raw_fit - scores.fit,
        "engagement": raw_eng - scores.engagement,
        "total": scores.fit.astype(np.int64) + scores.engagement - scores.total,
    }
    knocked = np.zeros(n, dtype=np.int64)  # 1 + the first rule that disqualifies the lead, 0 for none
    for i in range(len(model.knockouts) - 1, -1, -1):
        knocked[knock_out_mask(leads, (model.knockouts[i],))] = i + 1

    columns = [top_ids[:, c] for c in range(k)] + [taken["fit"], taken["engagement"], taken["total"], knocked]
    key = _pack(columns, n)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    texts = [
        _sentence(top_ids[i], phrases, phrase_points, {g: int(t[i]) for g, t in taken.items()}, int(knocked[i]), model)
        for i in first.tolist()
    ]
    # distinct keys can still read the same (a level literally named '(other)'): categories must be unique
    categories, remap = np.unique(np.array(texts, dtype=object), return_inverse=True)
    reasons = pd.Categorical.from_codes(remap[inverse.ravel()], categories=categories)

    file_order = np.argsort(leads.row_index, kind="stable")
    out = {"row": leads.row_index[file_order]}
    for j, name in enumerate(points_columns(model)):
        out[name] = points[file_order, j]
    out["reasons"] = reasons[file_order]
    return pd.DataFrame(out)


def _pack(columns: list[np.ndarray], n: int) -> np.ndarray:
    """One int64 per lead that is equal exactly when every column is (mixed radix; compressed when it would overflow)."""
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for col in columns:
        col = np.asarray(col, dtype=np.int64)
        lo = int(col.min()) if n else 0
        radix = (int(col.max()) - lo + 1) if n else 1
        if span * radix >= _PACK_LIMIT:
            uniq, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64).ravel()
            span = max(int(uniq.size), 1)
        key = key * radix + (col - lo)
        span *= radix
    return key


def _sentence(top_ids: np.ndarray, phrases: list[str], phrase_points: list[int], taken: dict[str, int], knocked: int,
              model: ScoringModel) -> str:
    parts = [knocked_out_text(model.knockouts[knocked - 1])] if knocked else []
    parts += [reason_text(phrases[i], phrase_points[i]) for i in top_ids.tolist() if i >= 0]
    parts += [cap_text(g, getattr(model.caps, g), t) for g, t in taken.items() if t > 0]
    return SEPARATOR.join(parts)


__all__ = ["DEFAULT_TOP", "SEPARATOR", "bin_phrase", "cap_text", "code_phrases", "knocked_out_text", "lead_reasons", "level_phrase", "model_points",
           "missing_phrase", "other_phrase", "points_columns", "points_text", "reason_text"]
