"""Model files of older schema versions, brought up to the current one before validation.

Each step takes a dict of version N and returns one of version N + 1, changing nothing a
model scores: a migrated file scores every lead exactly as it did under its own version.
"""

from __future__ import annotations

import copy
from typing import Any

from lead_model.errors import LeadModelError
from lead_model.model.semantics import DEFAULT_FALSE_VALUES, DEFAULT_MISSING_VALUES, DEFAULT_TRUE_VALUES

# What version 1 meant implicitly, written out: the placeholders, yes/no words, bin and 'other'
# rules lead_model applied to every version-1 model (they were settings of the code, not the file).
V1_SEMANTICS: dict[str, Any] = {
    "missing_values": list(DEFAULT_MISSING_VALUES),
    "true_values": list(DEFAULT_TRUE_VALUES),
    "false_values": list(DEFAULT_FALSE_VALUES),
}


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 writes the scoring semantics into the file; version 1 had the same rules built in."""
    data["semantics"] = copy.deepcopy(V1_SEMANTICS)
    data["schema_version"] = 2
    return data


STEPS = {1: _v1_to_v2}


def migrate(data: dict[str, Any], source: str = "model", field_prefix: str = "") -> dict[str, Any]:
    """``data`` as a current-version model dict (a copy when anything changed).

    A file without ``schema_version`` is version 1 (the field was optional there), unless it
    has fields only later versions know (``semantics``). ``field_prefix`` goes before the field
    an error names ('model.' for the model inside a shipping config).
    """
    field = f"{field_prefix}schema_version"
    from lead_model.model.schema import SCHEMA_VERSION

    version = data.get("schema_version", SCHEMA_VERSION if "semantics" in data else 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise LeadModelError(f"{source}: field '{field}' must be a whole number (1 to {SCHEMA_VERSION}), not {version!r}; fix it and load the model again.")
    if version > SCHEMA_VERSION:
        raise LeadModelError(
            f"{source}: field '{field}' is {version}, newer than this lead-model understands ({SCHEMA_VERSION}); "
            "upgrade lead-model-studio to read it, or fix it and load the model again."
        )
    if version < 1:
        raise LeadModelError(f"{source}: field '{field}' must be 1 to {SCHEMA_VERSION}, not {version}; fix it and load the model again.")
    if version == SCHEMA_VERSION:
        return data
    data = copy.deepcopy(data)
    while version < SCHEMA_VERSION:
        data = STEPS[version](data)
        version += 1
    return data
