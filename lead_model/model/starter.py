"""A starter model: every usable attribute of a dataset at 0 points, numeric attributes binned by quantiles."""

from __future__ import annotations

from lead_model.suggest.binning import quantile_edges
from lead_model.data.leads import LeadSet
from lead_model.model.schema import Attribute, Bin, Level, Metadata, ScoringModel


def starter_attribute(leads: LeadSet, name: str, n_bins: int = 5) -> Attribute:
    """One attribute of ``leads`` with every level or bin at 0 points."""
    enc = leads.attribute(name)
    if enc.kind == "numeric":
        edges = quantile_edges(enc.values, n_bins)
        bins = (Bin(min=None, points=0),) + tuple(Bin(min=e, points=0) for e in edges)
        return Attribute(name=name, kind="numeric", group=enc.group, bins=bins)
    if enc.kind == "boolean":
        return Attribute(name=name, kind="boolean", group=enc.group, levels=(Level(value=True), Level(value=False)))
    return Attribute(name=name, kind="categorical", group=enc.group, levels=tuple(Level(value=v) for v in enc.levels))


def starter_model(leads: LeadSet, name: str | None = None, mql_threshold: int = 0) -> ScoringModel:
    """A model over every attribute column of ``leads`` (after roles and excludes), all at 0 points."""
    attrs = tuple(starter_attribute(leads, n) for n in leads.attributes)
    meta = Metadata(name=name or f"{leads.name} model", outcome=leads.outcome)
    return ScoringModel(metadata=meta, attributes=attrs, mql_threshold=mql_threshold).stamped()
