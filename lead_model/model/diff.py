"""What changed between two models, in words a room can read: "job_level: VP 20 -> 25", "MQL threshold 60 -> 55".

The one home for a model diff: the autosave's offer, the Designer's undo button and the
review's version comparison all describe changes with these sentences.
"""

from __future__ import annotations

from lead_model.model.schema import Attribute, KnockOut, ScoringModel
from lead_model.model.semantics import MISSING_LABEL, OTHER_LABEL


def knockout_text(rule: KnockOut) -> str:
    """"country is 'XX' or 'YY' or is missing (not served)": a knock-out rule in words (plain text, not Markdown)."""
    parts = []
    if rule.values is not None:
        parts.append("is " + " or ".join(f"'{v}'" for v in rule.values))
    if rule.at_least is not None:
        parts.append(f"is at or above {rule.at_least:g}")
    if rule.below is not None:
        parts.append(f"is below {rule.below:g}")
    if rule.when_missing:
        parts.append("is missing")
    why = f" ({rule.reason})" if rule.reason else ""
    return f"{rule.attribute} {' or '.join(parts)}{why}"


def describe_changes(before: ScoringModel, after: ScoringModel) -> list[str]:
    """What differs from ``before`` to ``after``, in words, one item per attribute level, cap, rule or setting.

    Items look like the Designer's labels: "job_level: VP 20 -> 25", "website_visits: 3 to < 6
    0 -> 5", "MQL threshold 60 -> 55", "Fit cap none -> 40", "added country". Empty when
    the models are equal.
    """
    out: list[str] = []
    old_attrs = {a.name: a for a in before.attributes}
    new_names = set(after.attribute_names)
    for attr in after.attributes:
        old = old_attrs.get(attr.name)
        if old is None:
            out.append(f"added {attr.name}")
        elif old != attr:
            out += _attribute_changes(old, attr)
    out += [f"removed {name}" for name in old_attrs if name not in new_names]
    for group, title in (("fit", "Fit cap"), ("engagement", "Engagement cap"), ("total", "Total cap")):
        a, b = getattr(before.caps, group), getattr(after.caps, group)
        if a != b:
            out.append(f"{title} {_cap(a)} -> {_cap(b)}")
    out += [f"knock-out removed: {knockout_text(k)}" for k in before.knockouts if k not in after.knockouts]
    out += [f"knock-out added: {knockout_text(k)}" for k in after.knockouts if k not in before.knockouts]
    if before.mql_threshold != after.mql_threshold:
        out.append(f"MQL threshold {before.mql_threshold} -> {after.mql_threshold}")
    if before.grades != after.grades:
        out.append("grades changed")
    if before.tiers != after.tiers:
        out.append("tiers changed")
    if before.semantics != after.semantics:
        out.append("how values are read changed")
    if before.metadata.name != after.metadata.name:
        out.append(f"renamed '{before.metadata.name}' -> '{after.metadata.name}'")
    return out


def _cap(cap: int | None) -> str:
    return "none" if cap is None else str(cap)


def _attribute_changes(old: Attribute, new: Attribute) -> list[str]:
    name = new.name
    if old.kind != new.kind:
        return [f"{name}: now {new.kind}"]
    out = [f"{name}: moved to {new.group}"] if old.group != new.group else []
    if new.kind == "numeric":
        if old.edges != new.edges:
            edges = lambda a: ", ".join(f"{e:g}" for e in a.edges) or "none"  # noqa: E731
            out.append(f"{name}: bins {edges(old)} -> {edges(new)}")
        else:
            out += [f"{name}: {new.bin_label(i)} {a.points} -> {b.points}" for i, (a, b) in enumerate(zip(old.bins, new.bins)) if a.points != b.points]
    else:
        # A value the model does not list scores 'other': that is its points before it is listed.
        was, now = old.level_points(), new.level_points()
        for key in list(now) + [k for k in was if k not in now]:
            a, b = was.get(key, old.other.points), now.get(key, new.other.points)
            if a != b:
                out.append(f"{name}: {key} {a} -> {b}")
        if old.other.points != new.other.points and new.kind == "categorical":
            out.append(f"{name}: {OTHER_LABEL} {old.other.points} -> {new.other.points}")
    if old.missing.points != new.missing.points:
        out.append(f"{name}: {MISSING_LABEL} {old.missing.points} -> {new.missing.points}")
    return out
