"""A model made to fit a dataset, and role edits merged into a dataset's settings.

When the room changes a column's role (ignore a leaky column, make a number categorical),
the dataset is encoded again and the model follows: columns that stop being attributes
leave it, new attributes join at 0 points, a changed kind restarts that attribute, a changed
group moves it, and knock-outs on columns that left go too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lead_model.data.leads import LeadSet
from lead_model.data.roles import UNKNOWN_GROUP, UNKNOWN_GROUP_LABEL
from lead_model.engine.scoring import fits
from lead_model.errors import LeadModelError
from lead_model.formatting import count
from lead_model.model.schema import ScoringModel
from lead_model.model.starter import starter_attribute, starter_model

ROLE_OPTIONS = ("attribute", "ignore", "outcome", "id", "created")
KIND_OPTIONS = ("categorical", "numeric", "boolean")
GROUP_OPTIONS = ("fit", "engagement", UNKNOWN_GROUP_LABEL)  # the role picker's choices; unknown is counted as fit

Override = tuple[str, str | None, str | None, str | None]  # (column, role, kind, group)


def reconcile(m: ScoringModel, leads: LeadSet, added: Iterable[str] = ()) -> ScoringModel:
    """``m`` made to fit ``leads``: attributes the data no longer has leave, kind changes restart, groups follow.

    ``added`` names columns that just became attributes: they join at 0 points.
    """
    attrs = []
    for a in m.attributes:
        enc = leads.attributes.get(a.name)
        if enc is None:
            continue
        if enc.kind != a.kind and not (a.kind == "categorical" and enc.kind == "boolean"):
            attrs.append(starter_attribute(leads, a.name))
        elif enc.group != a.group:
            attrs.append(a.model_copy(update={"group": enc.group}))
        else:
            attrs.append(a)
    names = {a.name for a in attrs}
    attrs += [starter_attribute(leads, n) for n in added if n not in names]
    knockouts = [k for k in m.knockouts if k.attribute in leads.attributes]
    return m.replace(attributes=tuple(attrs), knockouts=tuple(knockouts))


@dataclass(frozen=True)
class ModelChoice:
    """The model a newly opened dataset starts with, and why (one sentence for the room)."""

    model: ScoringModel
    kept: bool  # the model being edited fits the new data and stays
    message: str


def choose_model(leads: LeadSet, current: ScoringModel | None, sample_model: ScoringModel | None = None) -> ModelChoice:
    """The sample model for the sample, else the current model if it fits, else a starter model."""
    if sample_model is not None and fits(leads, sample_model):
        return ModelChoice(sample_model, False, f"Loaded the sample model '{sample_model.metadata.name}' as the baseline.")
    if current is not None and current.attributes and fits(leads, current):
        left = [name for name in leads.attributes if name not in current.attribute_names]
        if not left:
            return ModelChoice(current, True, "Kept the current model: it fits this data.")
        shown = ", ".join(f"'{n}'" for n in left[:MISSING_SHOWN]) + (f" and {len(left) - MISSING_SHOWN:,} more" if len(left) > MISSING_SHOWN else "")
        return ModelChoice(current, True, f"Kept the current model: it fits this data, but {count(len(left), 'attribute')} of the data "
                                          f"{'is' if len(left) == 1 else 'are'} not in it ({shown}); add them on the Designer or apply a suggestion.")
    return ModelChoice(starter_model(leads), False, "Started a new model with every attribute at 0 points: give points on the Designer.")


MISSING_SHOWN = 3  # attributes a "kept the current model" message names before "and N more"


@dataclass(frozen=True)
class RoleEdit:
    """Settings to open a dataset with after the room edited its roles."""

    outcome: str
    exclude: tuple[str, ...]
    overrides: tuple[Override, ...]


def _clean(value) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "" or str(value) in ("<NA>", "nan", "None"):
        return None
    return str(value)


def merge_role_edits(leads: LeadSet, exclude: Iterable[str], overrides: Iterable[Override], edited: Iterable[Mapping]) -> RoleEdit:
    """Merge edited role rows (``column``, ``role``, ``kind``, ``group``) into a dataset's exclude list and overrides.

    The outcome is the one row marked outcome (marking a second row moves the outcome there
    and ignores the old outcome column); 'ignore' excludes a column. Raises LeadModelError
    (nothing changes) for an impossible setting.
    """
    edits = [{k: (_clean(v) if k != "column" else v) for k, v in r.items()} for r in edited]
    unknown = [r["column"] for r in edits if r["column"] not in leads.roles]
    if unknown:
        raise LeadModelError(f"the data has no column '{unknown[0]}'; edit the roles of this dataset's columns only.")
    # Columns the edit does not list keep their roles.
    by_column = {c: {"column": c, "role": r.role, "kind": r.kind, "group": r.group if r.group_known else None} for c, r in leads.roles.items()}
    for r in edits:
        by_column[r["column"]] = {**by_column[r["column"]], **{k: v for k, v in r.items() if k in ("role", "kind", "group")}}
    rows = list(by_column.values())
    old_outcome = leads.outcome
    outcomes = [r["column"] for r in rows if r["role"] == "outcome"]
    if len(outcomes) == 2 and old_outcome in outcomes:
        outcomes.remove(old_outcome)
        by_column[old_outcome]["role"] = "ignore"
    if len(outcomes) != 1:
        raise LeadModelError(f"mark exactly one column as the outcome (the converted yes/no column); {len(outcomes)} are marked.")
    created = [r["column"] for r in rows if r["role"] == "created"]
    if len(created) > 1:  # two id columns can exist (a CRM id and a row number); two created dates cannot
        raise LeadModelError(f"mark at most one column as created; {', '.join(created)} are.")
    for r in rows:
        if r["role"] is not None and r["role"] not in ROLE_OPTIONS:
            raise LeadModelError(f"'{r['role']}' is not a role; use one of {', '.join(ROLE_OPTIONS)}.")
    outcome = outcomes[0]
    excluded = set(exclude)
    merged = {c: (r, k, g) for c, r, k, g in overrides}
    for col, row in by_column.items():
        cur = leads.roles[col]
        role = row["role"] or "ignore"
        kind = row.get("kind") if role == "attribute" else None
        group = row.get("group") if role == "attribute" else None
        if group in (UNKNOWN_GROUP, UNKNOWN_GROUP_LABEL):
            group = None  # not chosen: the guess stands (an unknown column is counted as fit)
        cur_group = cur.group if cur.group_known else None
        if role == "attribute" and cur.role == "attribute":
            kind, group = kind or cur.kind, group or cur_group
        if (role, kind, group) == (cur.role, cur.kind, cur_group):
            continue
        if col == outcome:
            excluded.discard(col)
            merged.pop(col, None)
        elif role == "ignore":
            excluded.add(col)
            merged.pop(col, None)
        else:
            excluded.discard(col)
            merged[col] = (role, kind, group)
    excluded.discard(outcome)
    merged.pop(outcome, None)
    return RoleEdit(outcome, tuple(sorted(excluded)), tuple(sorted((c, r, k, g) for c, (r, k, g) in merged.items())))
