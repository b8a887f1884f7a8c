"""What a value means when a model scores it: the contract the engine, the SQL export and Spark all follow.

A model file carries its semantics (``ScoringModel.semantics``), so a model scores a file the
same way whatever dataset settings are around. The rules, for one attribute and one lead:

1. **Text is trimmed** (leading and trailing white space) before anything else.
2. **Missing**: a null cell, an empty cell, or a value equal to one of ``missing_values``
   (compared after trimming, ignoring case) is missing and scores the attribute's
   ``missing`` points. For a numeric attribute a value that does not read as a number
   (``parse_number``) is missing too.
3. **Levels** (categorical and boolean) match a listed value exactly after trimming: case
   counts ("VP" is not "vp").
4. **Booleans**: a value in ``true_values`` is true and one in ``false_values`` is false
   (after trimming, ignoring case).
5. **Bins** (numeric): a value scores the last bin whose ``min`` is <= the value
   (``min <= value < next min``); the first bin has no lower bound.
6. **Other** (categorical): any value that is not missing and not listed scores ``other``.

The labels people see for these places are ``MISSING_LABEL`` and ``OTHER_LABEL``; bins are
labelled by ``bin_label``. Every page, table, report and export uses these, never its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MISSING_LABEL = "(missing)"
OTHER_LABEL = "(other)"

# Values that mean "nobody filled this in". Compared after trimming, case-insensitively.
DEFAULT_MISSING_VALUES = (
    "", "na", "n/a", "n.a.", "#n/a", "null", "none", "nil", "nan", "-", "--", "---", "?",
    "select", "-- select --", "--select--", "select one", "please select", "unknown", "not provided",
    "not specified", "(blank)", "blank", "undefined", "tbd",
)
DEFAULT_TRUE_VALUES = ("1", "1.0", "true", "t", "yes", "y")
DEFAULT_FALSE_VALUES = ("0", "0.0", "false", "f", "no", "n")
BIN_RULE = "min <= value < next min"
OTHER_RULE = "any value that is not missing and not listed"
NUMBER_RULE = "decimal point '.', ',' as thousands separator, anything else missing"

# The rules above as data, so the SQL export (lead_model/export/sql.py) compiles these very constants.
# Trimmed: every character str.isspace() knows, which is also the set Arrow's utf8_trim_whitespace trims.
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
# A number (after trimming), ASCII digits only, in the regex syntax every warehouse shares (no \d, no \s).
# Either an optional sign, digits with an optional decimal point and an optional exponent (12, -3.5,
# +.5, 1e6); or, with ',' as thousands separators anywhere, what is left once the commas are dropped is
# a plain decimal: an optional '-', no '+', no exponent (1,200 and -1,234.5). Its value is the text
# without the commas read as a float; anything else is missing, and so is a number beyond the float range.
NUMBER_PATTERN = (
    r"^([+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?"
    r"|,*(-,*)?([0-9][0-9,]*([.],*)?[0-9,]*|[.],*[0-9][0-9,]*))$"
)
THOUSANDS_SEPARATOR = ","
# Lower-casing is Unicode's simple case mapping (Arrow's utf8_lower); these are the only non-ASCII letters
# it maps to ASCII, so a warehouse whose LOWER differs for them (Java, PostgreSQL locales) is told first.
ASCII_CASE_FOLDS = {"\u0130": "i", "\u212a": "k"}  # 'İ' (dotted capital I) and the Kelvin sign


class Semantics(BaseModel):
    """How the values of a file are read when this model scores it (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    missing_values: tuple[str, ...] = Field(
        default=DEFAULT_MISSING_VALUES,
        description="Values that count as missing, compared after trimming and ignoring case (null and empty cells always do).",
    )
    trim: Literal[True] = Field(default=True, description="Leading and trailing white space is removed before matching.")
    case_sensitive_levels: Literal[True] = Field(default=True, description="Levels match listed values exactly, case included.")
    true_values: tuple[str, ...] = Field(default=DEFAULT_TRUE_VALUES, description="Boolean spellings of true (ignoring case).")
    false_values: tuple[str, ...] = Field(default=DEFAULT_FALSE_VALUES, description="Boolean spellings of false (ignoring case).")
    bins: Literal["min <= value < next min"] = Field(default=BIN_RULE, description="Which bin a number falls in.")
    numbers: Literal["decimal point '.', ',' as thousands separator, anything else missing"] = Field(
        default=NUMBER_RULE, description="How text in a numeric attribute reads as a number."
    )
    other: Literal["any value that is not missing and not listed"] = Field(default=OTHER_RULE, description="What scores 'other'.")

    @field_validator("missing_values", "true_values", "false_values")
    @classmethod
    def _lowered(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.strip().lower() for v in values))

    @field_validator("false_values")
    @classmethod
    def _disjoint(cls, values: tuple[str, ...], info) -> tuple[str, ...]:
        both = sorted(set(values) & set(info.data.get("true_values", ())))
        if both:
            raise ValueError(f"'{both[0]}' cannot mean both true and false")
        return values

    @property
    def missing_set(self) -> frozenset[str]:
        return frozenset(self.missing_values)

    def is_missing(self, text: str | None) -> bool:
        return text is None or text.strip().lower() in self.missing_set

    def boolean(self, text: str) -> bool | None:
        """True, False, or None for a value that is neither (after trimming, ignoring case)."""
        low = text.strip().lower()
        if low in self.true_values:
            return True
        if low in self.false_values:
            return False
        return None


DEFAULT_SEMANTICS = Semantics()


def missing_set(values: Sequence[str]) -> frozenset[str]:
    """Missing values as compared: trimmed and lower-cased."""
    return frozenset(v.strip().lower() for v in values)


def level_key(value: str | bool) -> str:
    """How a listed level is keyed: booleans as 'true'/'false', text as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def parse_number(text: str) -> float:
    """A number from text (rule 2 and ``numbers``): '1,234.5' -> 1234.5; anything else NaN (missing).

    The rule is NUMBER_PATTERN (the SQL export compiles the same pattern): ASCII digits only, so
    Python's own extras ('1_000', 'inf', Arabic-Indic digits) are missing, as in every warehouse.
    """
    text = text.strip(WHITESPACE)
    if _NUMBER.match(text) is None:
        return math.nan
    value = float(text.replace(THOUSANDS_SEPARATOR, ""))
    return value if math.isfinite(value) else math.nan


# \Z, not $: Python's $ also matches before a final newline (trimmed text has none, but the pattern is the rule)
_NUMBER = re.compile(NUMBER_PATTERN.removesuffix("$") + r"\Z")


def bin_label(mins: Sequence[float | None], i: int) -> str:
    """'< 5', '5 to < 20', '>= 20' (or 'any' for a single bin) for bin ``i`` of bins with lower bounds ``mins``.

    ``mins[0]`` is None (the first bin has no lower bound); the others increase.
    """
    lo = mins[i] if i > 0 else None
    hi = mins[i + 1] if i + 1 < len(mins) else None
    if lo is None and hi is None:
        return "any"
    if lo is None:
        return f"< {hi:g}"
    if hi is None:
        return f">= {lo:g}"
    return f"{lo:g} to < {hi:g}"


def edge_labels(edges: Sequence[float]) -> list[str]:
    """The label of every bin cut at ``edges`` (the lower bounds after the first bin)."""
    mins = [None, *edges]
    return [bin_label(mins, i) for i in range(len(mins))]
