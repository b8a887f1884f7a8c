"""The shipping config: the agreed model file with its sign-off, the dataset it was agreed on and the backtest then, in JSON or YAML.

A config is a wrapper around an untouched model file, so its model part stays a model file
anyone can cut out and load (``ScoringModel.from_file`` and the app's "continue from a model
file" read a config as its model)::

    config_version: 1                  # this layout; newer ones are refused with one sentence
    model: {schema_version: 2, ...}    # the model file; older schema versions migrate on import
    signoff:                           # who agreed to ship it (null until someone does)
      sales: Priya Shah
      marketing: Tom Berg
      date: '2025-06-30'
      notes: Agreed in the Q3 workshop.
    dataset: {name: leads, rows: 50000, hash: '...'}   # LeadStore.fingerprint of the data (null without data)
    backtest: {leads: 50000, precision: 0.253, ...}     # the backtest headline at export time ({} without data)
    version_id: 7                      # the saved version it was exported from (null for a file)
    exported: '2025-06-30T10:00:00+00:00'

Import validates every part and names the wrong field with the allowed values
(``describe_validation_error``); export then import gives an equal ``ShippingConfig``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError, field_validator

from lead_model.errors import LeadModelError
from lead_model.model.schema import (CONFIG_MARK, ScoringModel, describe_validation_error, parse_text, read_text_file,
                                     write_text_atomically, yaml_text)

if TYPE_CHECKING:
    from lead_model.data.leads import LeadSet
    from lead_model.model.versions import Version, VersionRegistry

CONFIG_VERSION = 1
MAX_NAME = 100  # characters in a name that signs off (as a version's author)
MAX_NOTES = 10_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Signoff(_Strict):
    """Who agreed to ship the model: one name for sales and one for marketing, the date, and notes."""

    sales: str = Field(min_length=1, max_length=MAX_NAME, description="Who agreed for sales.")
    marketing: str = Field(min_length=1, max_length=MAX_NAME, description="Who agreed for marketing.")
    date: dt.date = Field(description="The day they agreed (YYYY-MM-DD).")
    notes: str = Field(default="", max_length=MAX_NOTES, description="What was agreed, conditions, follow-ups.")

    @field_validator("sales", "marketing", mode="before")
    @classmethod
    def _one_line(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
                raise ValueError("a name must be one line without control characters")
        return value

    def to_dict(self) -> dict[str, str]:
        """As a version keeps it (``VersionRegistry.save(signoff=...)``): sales, marketing, date (ISO), notes."""
        return self.model_dump(mode="json")

    def sentence(self) -> str:
        """'Signed off by Priya Shah (sales) and Tom Berg (marketing) on 2025-06-30.' (plain text, not Markdown)."""
        return f"Signed off by {self.sales} (sales) and {self.marketing} (marketing) on {self.date.isoformat()}."


class DatasetRef(_Strict):
    """The dataset the model was agreed on: its name and Fingerprint (rows, and the content hash; None outside a store)."""

    name: str = Field(min_length=1)
    rows: int = Field(ge=0, strict=True)
    hash: str | None = None


Number = StrictInt | StrictFloat | None


class ShippingConfig(_Strict):
    """A model ready to leave the room: the model file, the sign-off, the dataset fingerprint and the backtest headline."""

    config_version: Literal[1] = CONFIG_VERSION
    model: ScoringModel
    signoff: Signoff | None = None
    dataset: DatasetRef | None = None
    backtest: dict[str, Number] = Field(default_factory=dict, description="The backtest headline at export time (versions.HEADLINE keys).")
    version_id: int | None = Field(default=None, strict=True, ge=1, description="The saved version it came from.")
    exported: str | None = Field(default=None, description="When it was exported (ISO 8601 UTC).")

    # ----- files ------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any, source: str = "config") -> ShippingConfig:
        """Validate a config dict (its model migrated first); a bad one raises LeadModelError naming the field and the allowed values."""
        if not isinstance(data, dict):
            raise LeadModelError(f"{source} is not a shipping config: expected an object with '{CONFIG_MARK}' and 'model'.")
        if CONFIG_MARK not in data:
            if "attributes" in data or "schema_version" in data or "mql_threshold" in data:
                raise LeadModelError(f"{source} is a model file, not a shipping config (no sign-off, dataset or backtest); "
                                     f"make one with 'lead-model export-config --model {source} -o config.yaml'.")
            raise LeadModelError(f"{source}: field '{CONFIG_MARK}' is missing; a shipping config starts with '{CONFIG_MARK}: {CONFIG_VERSION}'.")
        version = data[CONFIG_MARK]
        if isinstance(version, int) and not isinstance(version, bool) and version > CONFIG_VERSION:
            raise LeadModelError(f"{source}: field '{CONFIG_MARK}' is {version}, newer than this lead-model understands ({CONFIG_VERSION}); "
                                 "upgrade lead-model-studio to read it.")
        if "model" not in data:
            raise LeadModelError(f"{source}: field 'model' is missing; a shipping config holds the model file under 'model'.")
        model = ScoringModel.from_dict(data["model"], source, field_prefix="model.")
        try:
            return cls.model_validate({**data, "model": model})
        except ValidationError as exc:
            raise LeadModelError(describe_validation_error(exc, source, data, cls)) from None

    @classmethod
    def from_text(cls, text: str, source: str = "config", yaml_format: bool | None = None) -> ShippingConfig:
        return cls.from_dict(parse_text(text, source, yaml_format), source)

    @classmethod
    def from_file(cls, path: str | Path) -> ShippingConfig:
        """Read a config from .json, .yaml or .yml."""
        path = Path(path)
        return cls.from_text(read_text_file(path, "config file"), path.name, yaml_format=path.suffix.lower() in (".yaml", ".yml"))

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    def to_yaml(self) -> str:
        return yaml_text(self.to_dict())

    def to_file(self, path: str | Path) -> Path:
        """Write JSON, or YAML for a .yaml/.yml name, atomically."""
        path = Path(path)
        return write_text_atomically(path, self.to_yaml() if path.suffix.lower() in (".yaml", ".yml") else self.to_json())

    # ----- words ------------------------------------------------------------------------
    def lines(self) -> list[str]:
        """What the config holds, one plain-text line each (``lead-model check-config`` prints them)."""
        from lead_model.formatting import count, pct, score
        from lead_model.workbench.describe import caps_text

        m = self.model
        out = [f"Model '{m.metadata.name}' (version {m.metadata.version}, schema version {m.schema_version}): "
               f"{count(len(m.attributes), 'attribute')}; {caps_text(m)}."]
        out.append(self.signoff.sentence() + (f" Notes: {' '.join(self.signoff.notes.split())}" if self.signoff and self.signoff.notes else "")
                   if self.signoff else "Not signed off yet.")
        if self.dataset is not None:
            digest = f", content hash {self.dataset.hash}" if self.dataset.hash else " (no content hash: the data was not in a store)"
            out.append(f"Agreed on dataset '{self.dataset.name}': {self.dataset.rows:,} rows{digest}.")
        else:
            out.append("No dataset recorded.")
        b = self.backtest
        if b:
            mql = f"{b['mql']:,} MQLs ({pct(b.get('mql_rate'))})" if isinstance(b.get("mql"), int) else "MQLs unknown"
            out.append(f"Backtest at export: {mql} at threshold {b.get('threshold')}, precision {pct(b.get('precision'))}, "
                       f"recall {pct(b.get('recall'))}, AUC {score(b.get('auc'))}.")
        else:
            out.append("No backtest recorded.")
        if self.version_id is not None:
            out.append(f"Exported from saved version {self.version_id}" + (f" at {self.exported}." if self.exported else "."))
        elif self.exported:
            out.append(f"Exported at {self.exported}.")
        return out


def open_config(path: str | Path) -> ShippingConfig:
    """A shipping config, or a plain model file read as a config holding only its model (no sign-off, dataset or backtest)."""
    path = Path(path)
    data = parse_text(read_text_file(path), path.name, yaml_format=path.suffix.lower() in (".yaml", ".yml"))
    if isinstance(data, dict) and CONFIG_MARK in data:
        return ShippingConfig.from_dict(data, path.name)
    return ShippingConfig(model=ScoringModel.from_dict(data, path.name))


# ----- building one ------------------------------------------------------------------------
def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def make_signoff(sales: str, marketing: str, date: dt.date | str | None = None, notes: str = "") -> Signoff:
    """A Signoff (today when ``date`` is None); one sentence naming the field when a name is blank or the date unreadable."""
    for who, name in (("sales", sales), ("marketing", marketing)):
        if not isinstance(name, str) or not name.strip():
            raise LeadModelError(f"a sign-off needs the name of who agreed for {who}; type it and sign off again.")
    data = {"sales": sales, "marketing": marketing, "date": date if date is not None else dt.date.today(), "notes": notes}
    try:
        return Signoff.model_validate(data)
    except ValidationError as exc:
        raise LeadModelError(describe_validation_error(exc, "the sign-off", data, Signoff, "signoff.").replace("load the config", "sign off")) from None


def dataset_ref(leads: LeadSet, registry: VersionRegistry | None = None) -> DatasetRef:
    """The DatasetRef of ``leads``: its name and the stored rows' Fingerprint (hash None for leads outside a store)."""
    from lead_model.model.versions import VersionRegistry

    fingerprint = (registry or VersionRegistry(leads.store_path)).fingerprint_of(leads)
    if fingerprint is None:
        return DatasetRef(name=leads.name, rows=int(leads.summary.rows), hash=None)
    return DatasetRef(name=leads.name, rows=fingerprint.rows, hash=fingerprint.hash)


def build_config(model: ScoringModel, leads: LeadSet | None = None, signed: Signoff | None = None, exported: str | None = None) -> ShippingConfig:
    """The config of ``model`` as it stands: with ``leads``, the dataset's fingerprint and the backtest headline on it."""
    from lead_model.model.versions import headline

    dataset = dataset_ref(leads) if leads is not None else None
    backtest = headline(leads, model) if leads is not None else {}
    return ShippingConfig(model=model, signoff=signed, dataset=dataset, backtest=backtest, exported=exported or _now())


def config_from_version(version: Version, exported: str | None = None) -> ShippingConfig:
    """The config of a saved version: its model, its sign-off, the dataset fingerprint and backtest headline it was saved with."""
    signed = Signoff.model_validate(version.signoff) if version.signoff else None
    dataset = DatasetRef(name=version.dataset, rows=version.dataset_rows or 0, hash=version.dataset_hash) if version.dataset else None
    return ShippingConfig(model=version.model, signoff=signed, dataset=dataset, backtest=dict(version.summary), version_id=version.id,
                          exported=exported or _now())


def save_signed_version(registry: VersionRegistry, model: ScoringModel, signed: Signoff, leads: LeadSet | None = None,
                        name: str | None = None, author: str = "") -> Version:
    """Save ``model`` as a new version carrying the sign-off (a version is never overwritten, so signing off adds one).

    Named '<model name> (signed off <date>)' unless ``name`` is given; the sign-off's notes are the version's notes.
    """
    name = name or f"{model.metadata.name} (signed off {signed.date.isoformat()})"
    return registry.save(model, name[:MAX_NAME], author=author or signed.sales, notes=signed.notes, leads=leads, signoff=signed.to_dict())


def signed_version_for(registry: VersionRegistry, model: ScoringModel) -> Version | None:
    """The newest saved version of exactly ``model`` that carries a sign-off (archived ones too), or None."""
    text = model.to_json()  # a version keeps its model as to_json() wrote it: equal models, equal text
    for version in registry.list(include_archived=True):
        if version.signoff and version.model_json == text:
            return version
    return None


__all__ = ["CONFIG_VERSION", "DatasetRef", "ShippingConfig", "Signoff", "build_config", "config_from_version", "dataset_ref", "open_config",
           "make_signoff", "save_signed_version", "signed_version_for"]
