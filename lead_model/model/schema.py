"""The points model: a versioned, validated schema that round-trips through JSON and YAML."""

from __future__ import annotations

import gc
import json
import math
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lead_model.errors import LeadModelError
from lead_model.model.semantics import Semantics, bin_label, level_key

SCHEMA_VERSION = 2
MAX_CAP = 1_000_000  # no model reaches it (points are -1000..1000 per level); larger numbers are typos

Group = Literal["fit", "engagement"]
# strict: a file's true or "50" is a typo, never a number of points (pydantic would read them as 1 and 50)
Points = Annotated[int, Field(strict=True, ge=-1000, le=1000, description="Points added to the lead's score.")]
# A model file no real model comes near (40,000 attributes are 14 MB of JSON); past it, one sentence
# instead of minutes of parsing. YAML is read by a Python constructor, ~10x slower than JSON per byte.
MAX_MODEL_BYTES = 20_000_000
MAX_YAML_BYTES = 2_000_000
MAX_DEPTH = 50  # a model file nests 7 deep, a shipping config 9
MAX_VALUES = 5_000_000  # values after YAML aliases are expanded (a 40,000-attribute model holds ~1,000,000)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PointsOnly(_Strict):
    """Points for a lead whose value is missing, or a value the model does not list."""

    points: Points = 0


# one shared instance for every attribute's default (models are frozen): building one per attribute
# cost two validator calls each, a third of the time of a large model file
_NO_POINTS = PointsOnly()


class Level(_Strict):
    """Points for one value of a categorical or boolean attribute."""

    value: str | bool = Field(description="The value as it appears in the data (booleans: true/false).")
    points: Points = 0


class Bin(_Strict):
    """Points for one numeric bin: leads with ``min <= value`` (up to the next bin's min)."""

    min: float | None = Field(strict=True, description="Inclusive lower bound; null for the first bin (no lower bound).")
    points: Points = 0


class Attribute(_Strict):
    """One scored column: its kind, its group and the points for each level or bin."""

    name: str = Field(min_length=1, description="The column name in the data, exactly as in the file.")
    kind: Literal["categorical", "numeric", "boolean"]
    group: Group = Field(description="fit = explicit data about who they are; engagement = implicit data about what they did.")
    levels: tuple[Level, ...] = Field(default=(), description="categorical and boolean: points per value.")
    bins: tuple[Bin, ...] = Field(default=(), description="numeric: bins in increasing order; the first has min null.")
    missing: PointsOnly = Field(default=_NO_POINTS, description="Points when the value is missing or a placeholder.")
    other: PointsOnly = Field(default=_NO_POINTS, description="categorical: points for values not listed in levels.")

    @model_validator(mode="after")
    def _check_kind(self) -> Attribute:
        if self.kind == "numeric":
            if self.levels:
                raise ValueError(f"numeric attribute '{self.name}' takes bins, not levels")
            if not self.bins:
                raise ValueError(f"numeric attribute '{self.name}' needs at least one bin")
            if self.bins[0].min is not None:
                raise ValueError(f"the first bin of '{self.name}' must have min null (no lower bound)")
            mins = [b.min for b in self.bins[1:]]
            if any(m is None or not math.isfinite(m) for m in mins):
                raise ValueError(f"every bin of '{self.name}' after the first needs a finite min")
            if any(b <= a for a, b in zip(mins, mins[1:])):
                raise ValueError(f"the bin mins of '{self.name}' must increase strictly")
        else:
            if self.bins:
                raise ValueError(f"{self.kind} attribute '{self.name}' takes levels, not bins")
            values = [level_key(lv.value) for lv in self.levels]
            if len(set(values)) != len(values):
                raise ValueError(f"attribute '{self.name}' lists a value twice")
            if self.kind == "boolean" and not set(values) <= {"true", "false"}:
                raise ValueError(f"boolean attribute '{self.name}' takes levels true and false only")
        return self

    @property
    def edges(self) -> tuple[float, ...]:
        """numeric: the bin lower bounds after the first (the cut points)."""
        return tuple(float(b.min) for b in self.bins[1:])

    def bin_label(self, i: int) -> str:
        """numeric: the label of bin i ('< 5', '5 to < 20', '>= 20'), as every table and export shows it."""
        return bin_label([b.min for b in self.bins], i)

    def level_points(self) -> dict[str, int]:
        """categorical/boolean: points by value (booleans keyed 'true'/'false')."""
        return {level_key(lv.value): lv.points for lv in self.levels}


class KnockOut(_Strict):
    """A rule that disqualifies a lead whatever its score (a student, a competitor, a country not served)."""

    attribute: str = Field(min_length=1)
    values: tuple[str | bool, ...] | None = Field(default=None, description="Knock out leads whose value is one of these.")
    # strict and finite: below NaN would knock out nobody, at_least "3" is a typo
    below: float | None = Field(default=None, strict=True, allow_inf_nan=False, description="numeric: knock out leads with value < below.")
    at_least: float | None = Field(default=None, strict=True, allow_inf_nan=False, description="numeric: knock out leads with value >= at_least.")
    when_missing: bool = Field(default=False, strict=True, description="Also knock out leads whose value is missing.")
    reason: str = ""

    @model_validator(mode="after")
    def _one_condition(self) -> KnockOut:
        if self.values is None and self.below is None and self.at_least is None and not self.when_missing:
            raise ValueError(f"knock-out on '{self.attribute}' needs values, below, at_least or when_missing")
        return self


def cap_problem(group: str, cap: object) -> str | None:
    """Why ``cap`` cannot be the ``group`` cap (None if it can): the one caps rule, for files and the app alike."""
    if cap is None:
        return None
    if isinstance(cap, bool) or not isinstance(cap, int):
        return f"the {group} cap must be a whole number of points or empty (no cap), not {cap!r}"
    if cap < 0:
        return f"a cap is the most points a group can give, so the {group} cap cannot be below zero ({cap}); leave it empty for no cap"
    if cap > MAX_CAP:
        return f"the {group} cap {cap:,} is larger than any score can be ({MAX_CAP:,} at most); leave it empty for no cap"
    return None


class Caps(_Strict):
    """Optional maximum points per group and for the total (null = no cap), each 0 to MAX_CAP."""

    fit: int | None = Field(default=None, strict=True)
    engagement: int | None = Field(default=None, strict=True)
    total: int | None = Field(default=None, strict=True)

    @model_validator(mode="after")
    def _rule(self) -> Caps:
        for group in ("fit", "engagement", "total"):
            problem = cap_problem(group, getattr(self, group))
            if problem:
                raise ValueError(problem)
        return self


class Band(_Strict):
    """A named score band: leads with score >= min_score (the last band has min_score null)."""

    name: str = Field(min_length=1)
    min_score: int | None = Field(strict=True, ge=-MAX_CAP, le=MAX_CAP)


def _check_bands(bands: tuple[Band, ...], what: str) -> tuple[Band, ...]:
    if not bands:
        raise ValueError(f"{what} need at least one band")
    if bands[-1].min_score is not None:
        raise ValueError(f"the last of the {what} must have min_score null (it catches every other lead)")
    mins = [b.min_score for b in bands[:-1]]
    if any(m is None for m in mins):
        raise ValueError(f"only the last of the {what} may have min_score null")
    if any(b >= a for a, b in zip(mins, mins[1:])):
        raise ValueError(f"the {what} must be listed from highest min_score to lowest")
    names = [b.name for b in bands]
    if len(set(names)) != len(names):
        raise ValueError(f"the {what} repeat a name")
    return bands


DEFAULT_GRADES = (Band(name="A", min_score=40), Band(name="B", min_score=25), Band(name="C", min_score=10), Band(name="D", min_score=None))
DEFAULT_TIERS = (Band(name="hot", min_score=80), Band(name="warm", min_score=50), Band(name="cold", min_score=None))


class Metadata(_Strict):
    name: str = "Lead scoring model"
    version: str = "1"
    author: str = ""
    notes: str = ""
    outcome: str | None = Field(default=None, description="The outcome column the model was designed on.")
    created: str | None = None
    updated: str | None = None


class ScoringModel(_Strict):
    """A complete lead scoring model: points, caps, knock-outs, the MQL threshold, grades and tiers."""

    schema_version: Literal[2] = SCHEMA_VERSION
    metadata: Metadata = Field(default_factory=Metadata)
    semantics: Semantics = Field(default_factory=Semantics, description="How values are read when the model scores a file.")
    attributes: tuple[Attribute, ...] = ()
    caps: Caps = Field(default_factory=Caps)
    knockouts: tuple[KnockOut, ...] = ()
    mql_threshold: int = Field(default=50, strict=True, ge=-MAX_CAP, le=MAX_CAP, description="Leads with total score >= this (and not knocked out) are MQLs.")
    grades: tuple[Band, ...] = Field(default=DEFAULT_GRADES, description="Fit grades from fit-score bands, highest first.")
    tiers: tuple[Band, ...] = Field(default=DEFAULT_TIERS, description="Priority tiers from total-score bands, highest first.")

    @field_validator("grades")
    @classmethod
    def _grades(cls, v: tuple[Band, ...]) -> tuple[Band, ...]:
        return _check_bands(v, "grades")

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: tuple[Band, ...]) -> tuple[Band, ...]:
        return _check_bands(v, "tiers")

    @model_validator(mode="after")
    def _unique_attributes(self) -> ScoringModel:
        # one pass with a set: counting each name in the list was quadratic (40,000 attributes took 97 s)
        seen: set[str] = set()
        dupes: set[str] = set()
        for a in self.attributes:
            (dupes if a.name in seen else seen).add(a.name)
        if dupes:
            raise ValueError(f"attribute '{min(dupes)}' is listed twice")
        return self

    # ----- access -----------------------------------------------------------------
    def attribute(self, name: str) -> Attribute:
        for a in self.attributes:
            if a.name == name:
                return a
        raise KeyError(name)

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)

    # ----- edits: every edit returns a new model (models are immutable values) -------
    def with_points(self, attribute: str, value: str | bool | None, points: int) -> ScoringModel:
        """Set the points of one level (value), bin (its index as int via bin_index) or of missing/other.

        ``value`` is a level value for categorical/boolean attributes, the strings
        ``"__missing__"`` / ``"__other__"`` for those special levels, or ``"bin:<i>"`` for bin i.
        """
        attr = self.attribute(attribute)
        # model_construct: points are validated once, by with_attribute, so a bad value raises
        # LeadModelError naming the field instead of a raw pydantic error.
        if value == "__missing__":
            new = attr.model_copy(update={"missing": PointsOnly.model_construct(points=points)})
        elif value == "__other__":
            new = attr.model_copy(update={"other": PointsOnly.model_construct(points=points)})
        elif isinstance(value, str) and value.startswith("bin:"):
            i = int(value[4:])
            bins = list(attr.bins)
            bins[i] = Bin.model_construct(min=bins[i].min, points=points)
            new = attr.model_copy(update={"bins": tuple(bins)})
        else:
            key = level_key(value)
            levels = [lv for lv in attr.levels if level_key(lv.value) != key]
            levels.append(Level.model_construct(value=value, points=points))
            order = {level_key(lv.value): i for i, lv in enumerate(attr.levels)}
            levels.sort(key=lambda lv: order.get(level_key(lv.value), len(order)))
            new = attr.model_copy(update={"levels": tuple(levels)})
        return self.with_attribute(new)

    def with_attribute(self, attribute: Attribute) -> ScoringModel:
        """Replace (or append) an attribute by name, validating it again."""
        attrs = [attribute if a.name == attribute.name else a for a in self.attributes]
        if attribute.name not in self.attribute_names:
            attrs.append(attribute)
        return self.replace(attributes=tuple(attrs))

    def without_attribute(self, name: str) -> ScoringModel:
        return self.replace(attributes=tuple(a for a in self.attributes if a.name != name))

    def replace(self, **changes: Any) -> ScoringModel:
        """A copy with some top-level fields changed, validated again."""
        data = self.to_dict()
        for key, value in changes.items():
            data[key] = _dump(value)
        return ScoringModel.from_dict(data)

    # ----- files ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any, source: str = "model", field_prefix: str = "") -> ScoringModel:
        """Validate a dict; a bad one raises LeadModelError naming the field (and the allowed values).

        A shipping config (lead_model.export.config: ``config_version`` and ``model`` at the
        top) gives its ``model`` part. ``field_prefix`` is put before every field named in an
        error ('model.' for the model inside a config).
        """
        if isinstance(data, dict) and CONFIG_MARK in data:
            if not isinstance(data.get("model"), dict):
                raise LeadModelError(f"{source}: field '{field_prefix}model' is missing; a shipping config holds the model file under 'model'.")
            return cls.from_dict(data["model"], source, field_prefix=f"{field_prefix}model.")
        if not isinstance(data, dict):
            raise LeadModelError(f"{source} is not a model: expected an object with 'attributes' and 'mql_threshold'.")
        from lead_model.model.migration import migrate

        try:
            with _gc_paused():
                data = migrate(data, source, field_prefix)
                try:
                    return cls.model_validate(data)
                except ValidationError as exc:
                    raise LeadModelError(describe_validation_error(exc, source, data, cls, field_prefix)) from None
        except RecursionError:
            raise LeadModelError(too_deep(source)) from None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_file(cls, path: str | Path) -> ScoringModel:
        """Read a model from .json, .yaml or .yml."""
        path = Path(path)
        return cls.from_text(read_text_file(path), source=path.name, yaml_format=path.suffix.lower() in (".yaml", ".yml"))

    @classmethod
    def from_text(cls, text: str, source: str = "model", yaml_format: bool | None = None) -> ScoringModel:
        """Parse JSON or YAML text (YAML is a superset, so unknown formats go through YAML)."""
        return cls.from_dict(parse_text(text, source, yaml_format), source=source)

    def to_file(self, path: str | Path) -> Path:
        """Write JSON or YAML by the file's extension, atomically (a crash never leaves half a file)."""
        path = Path(path)
        return write_text_atomically(path, self.to_yaml() if path.suffix.lower() in (".yaml", ".yml") else self.to_json())

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_yaml(self) -> str:
        return yaml_text(self.to_dict())

    def stamped(self, author: str | None = None) -> ScoringModel:
        """A copy with metadata.updated (and created, if unset) set to now."""
        now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        meta = self.metadata.model_copy(update={"updated": now, "created": self.metadata.created or now, **({"author": author} if author else {})})
        return self.model_copy(update={"metadata": meta})


def read_text_file(path: Path, what: str = "model file") -> str:
    """The UTF-8 text of a .json or .yaml file; one sentence when it is a folder, absent or not UTF-8."""
    if path.is_dir():
        raise LeadModelError(f"{what} {path} is a folder; give the path of a .json or .yaml {what}.")
    if not path.is_file():
        raise LeadModelError(f"{what} {path} does not exist; check the path.")
    check_model_size(path.stat().st_size, path.name, path.suffix.lower() in (".yaml", ".yml"), what)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LeadModelError(f"{what} {path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8 and try again.") from None


def parse_text(text: str, source: str = "model", yaml_format: bool | None = None) -> Any:
    """The data of JSON or YAML text (YAML is a superset, so unknown formats go through YAML); one sentence when it cannot be read."""
    if not text.strip():
        raise LeadModelError(f"{source} is empty; export a model from the app or run 'lead-model init'.")
    if len(text) > MAX_YAML_BYTES:  # chars <= bytes: only a long text is worth encoding to count
        check_model_size(len(text.encode("utf-8", "surrogatepass")), source, yaml_format is not False and not _looks_like_json(text))
    try:
        with _gc_paused():
            if yaml_format is False:
                return json.loads(text)
            if _looks_like_json(text):  # JSON is YAML, and its own parser is ~50x faster
                try:
                    return json.loads(text)
                except json.JSONDecodeError:
                    pass
            data = yaml.load(text, Loader=_YAML_LOADER)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", getattr(exc, "lineno", None))
        where = f" near line {line + 1 if hasattr(exc, 'problem_mark') else line}" if line is not None else ""
        raise LeadModelError(f"{source} is not valid {'JSON' if yaml_format is False else 'YAML/JSON'}{where}; fix the syntax.") from None
    except RecursionError:
        raise LeadModelError(too_deep(source)) from None
    _check_shape(data, source)  # YAML aliases can share and even contain their own parents
    return data


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML was built with it


def _looks_like_json(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def check_model_size(n_bytes: int, source: str, yaml_format: bool = False, what: str = "model file") -> None:
    """One sentence when a model (or config) file of ``n_bytes`` is past the size no real model reaches."""
    cap = MAX_YAML_BYTES if yaml_format else MAX_MODEL_BYTES
    if n_bytes > cap:
        raise LeadModelError(
            f"{source} is {n_bytes / 1e6:,.1f} MB, past the {cap / 1e6:,.0f} MB a {'YAML ' if yaml_format else ''}{what} may be"
            f"{' (JSON: ' + format(MAX_MODEL_BYTES / 1e6, ',.0f') + ' MB)' if yaml_format else ''}; a real model is a few hundred KB, so check it is the right file."
        )


def too_deep(source: str) -> str:
    return f"{source} nests lists or objects more than {MAX_DEPTH} levels deep, which no model file does; check it is the right file."


@contextmanager
def _gc_paused():
    """No cyclic garbage collection while a large file is parsed and validated.

    Building a million small objects triggers collections that each walk every live object:
    a 40,000-attribute model took 3x longer with them. Nothing parsed here is garbage until after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_shape(data: Any, source: str) -> None:
    """One sentence when parsed data nests past MAX_DEPTH, holds more than MAX_VALUES values once shared parts
    (YAML aliases) are counted each time they appear, or contains itself; linear in the distinct objects."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        kids = node.values() if isinstance(node, dict) else node
        if done:
            on_path.discard(key)
            inner = [k for k in kids if isinstance(k, (dict, list))]
            size[key] = 1 + len(node) + sum(size[id(k)] - 1 for k in inner)
            depth[key] = 1 + max((depth[id(k)] for k in inner), default=0)
            if depth[key] > MAX_DEPTH:
                raise LeadModelError(too_deep(source))
            if size[key] > MAX_VALUES:
                raise LeadModelError(f"{source} holds more than {MAX_VALUES:,} values once its YAML aliases are expanded, which no model file does; "
                                     "check it is the right file.")
            continue
        if key in size:
            continue
        if key in on_path:
            raise LeadModelError(f"{source} contains itself (a YAML alias inside its own anchor); write the values out instead.")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in kids if isinstance(k, (dict, list)) and id(k) not in size)


def yaml_text(data: Any) -> str:
    """``data`` as YAML that reads back equal (keys in order, text as written)."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if "\x85" in text:  # PyYAML writes NEL raw in single quotes and reads it back as a space
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=False)
    return text


def write_text_atomically(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file beside it, so a crash never leaves half a file."""
    if not path.parent.is_dir():
        raise LeadModelError(f"cannot write {path}: the folder {path.parent} does not exist; create it first or write somewhere else.")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of the model file."""
    schema = ScoringModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Lead Model Studio scoring model"
    return schema


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (tuple, list)):
        return [_dump(v) for v in value]
    return value


def describe_validation_error(exc: ValidationError, source: str, data: Any = None, root: type[BaseModel] | None = None,
                              field_prefix: str = "") -> str:
    """One sentence for the first problem pydantic found: the field, what it holds and, where the schema knows them, the allowed values.

    "model.yaml: field 'attributes.0.group' (attribute 'job_level') is 'fitt'; allowed: fit, engagement; fix it and load the model
    again." ``data`` (the dict validated) names the attribute; ``root`` (the pydantic class validated, default ScoringModel) gives
    the allowed values and fields; ``field_prefix`` goes before the field ('model.' inside a shipping config).
    """
    root = root or ScoringModel
    # a misspelt key is why its field is missing: say the key first
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    err = errors[0]
    path, field = _field_path(root, err["loc"])
    loc = field_prefix + (".".join(str(p) for p in path) or "(top level)")
    where = _attribute_of(data, path)
    shown = _shown(err.get("input"))
    kind = err["type"]
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "missing":
        msg = "is missing"
    elif kind == "extra_forbidden":
        allowed = _field_names(_model_at(root, path[:-1]))
        msg = f"is not a field of the {'model' if root is ScoringModel else 'config'} schema" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
        msg += " (see 'lead-model schema')" if root is ScoringModel else ""
    elif kind in ("literal_error", "enum"):
        expected = str(err.get("ctx", {}).get("expected", ""))
        allowed = re.findall(r"'((?:[^'\\]|\\.)*)'", expected) or [x for x in re.split(r", | or ", expected) if x]
        msg = f"is {shown}; allowed: {', '.join(allowed)}" if allowed else f"is {shown}; {msg[0].lower()}{msg[1:]}"
    elif len(kinds := {e["type"] for e in errors if _field_path(root, e["loc"])[0] == path}) > 1:  # a union: say every kind it takes
        takes = [word for types_, word in (({"string_type"}, "text"), ({"bool_type", "bool_parsing"}, "true or false"),
                                           ({"int_type", "int_parsing", "float_type", "float_parsing"}, "a number")) if kinds & types_]
        msg = f"is {shown}, not {' or '.join(dict.fromkeys(takes))}" if takes else f"is invalid: {msg[0].lower()}{msg[1:]}"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        msg = f"is {shown}, not a whole number" + _range_text(field)
    elif kind in ("float_parsing", "float_type", "finite_number"):
        msg = f"is {shown}, not a number"
    elif kind in ("bool_parsing", "bool_type"):
        msg = f"is {shown}; allowed: true, false"
    elif kind in ("string_type", "string_too_short", "string_too_long"):
        msg = f"is {shown}, not " + ("usable text" if kind != "string_type" else "text") + (" (it cannot be empty)" if kind == "string_too_short" else "")
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        msg = f"is {shown}, out of range" + (_range_text(field) or f": {msg[0].lower()}{msg[1:]}")
    elif kind in ("date_parsing", "date_from_datetime_parsing", "date_type", "date_from_datetime_inexact"):
        msg = f"is {shown}, not a date; write it as YYYY-MM-DD"
    elif loc != "(top level)" and not msg.startswith(("is ", "must ")):
        msg = f"is invalid: {msg[0].lower()}{msg[1:]}"
    problems = {tuple(_field_path(root, e["loc"])[0]) for e in errors}  # a union's members fail once each: one problem
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    return f"{source}: field '{loc}'{where} {msg}{more}; fix it and load the {'model' if root is ScoringModel else 'config'} again."


# The key only a shipping config has at its top (lead_model.export.config); its model file is under 'model'.
CONFIG_MARK = "config_version"


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_path(root: type[BaseModel], loc: tuple) -> tuple[list, Any]:
    """``loc`` without pydantic's union-member tags ('str', 'int', 'function-after[...]'), and the FieldInfo it ends at."""
    import types
    import typing

    path: list = []
    field = None
    ann: Any = root
    for part in loc:
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        origin = typing.get_origin(ann)
        if origin in (typing.Union, types.UnionType) and len(args) == 1:  # X | None: pydantic tags nothing
            ann, origin = args[0], typing.get_origin(args[0])
            args = list(typing.get_args(ann))
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            path.append(part)
            field = ann.model_fields.get(part) if isinstance(part, str) else None
            ann = field.annotation if field is not None else None
        elif origin is dict:
            path.append(part)  # a key of the mapping
            ann = args[1] if len(args) == 2 else None
        elif origin in (tuple, list) and isinstance(part, int):
            path.append(part)
            ann = args[0] if args else None
        elif origin in (typing.Union, types.UnionType) and isinstance(part, str):
            continue  # the union member pydantic tried: not a field
        elif isinstance(part, int):
            path.append(part)
    return path, field


def _inner_model(annotation: Any) -> Any:
    """The pydantic model an annotation holds (through tuple[...], X | None), or None."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _model_at(root: type[BaseModel], path: list) -> Any:
    model: Any = root
    for part in path:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", {}) if isinstance(model, type) else {}
        if part not in fields:
            return None
        model = _inner_model(fields[part].annotation)
    return model


def _field_names(model: Any) -> list[str]:
    return list(getattr(model, "model_fields", {})) if isinstance(model, type) else []


def _range_text(field: Any) -> str:
    if field is None:
        return ""
    lo = next((m.ge for m in field.metadata if getattr(m, "ge", None) is not None), None)
    hi = next((m.le for m in field.metadata if getattr(m, "le", None) is not None), None)
    if lo is not None and hi is not None:
        return f"; allowed: whole numbers from {lo:,} to {hi:,}"
    return ""


def _attribute_of(data: Any, path: list) -> str:
    """" (attribute 'job_level')" when the field is inside an attribute that has a name, else ''."""
    if not (isinstance(data, dict) and len(path) >= 2 and path[0] == "attributes" and isinstance(path[1], int)):
        return ""
    attrs = data.get("attributes")
    if isinstance(attrs, (list, tuple)) and 0 <= path[1] < len(attrs) and isinstance(attrs[path[1]], dict):
        name = attrs[path[1]].get("name")
        if isinstance(name, str) and name:
            return f" (attribute {_shown(name)})"
    return ""


_describe_validation_error = describe_validation_error  # the name older callers use
