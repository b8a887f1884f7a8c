"""Model files that could stall the app or slip through as numbers: the size cap, nesting, aliases, strict numbers, wide models."""

from __future__ import annotations

import json

import pytest
from conftest import TINY_MODEL, changed
from hypothesis import given, settings
from hypothesis import strategies as st

from lead_model import LeadModelError, ScoringModel
from lead_model.model.schema import MAX_DEPTH, MAX_MODEL_BYTES, MAX_YAML_BYTES, parse_text
from pages.loading import model_from_upload



def one_sentence(text: str) -> bool:
    return "\n" not in text and "Traceback" not in text and text.endswith(".")


@pytest.mark.parametrize(("path", "value", "field", "says"), [
    ("mql_threshold", True, "mql_threshold", "is true, not a whole number"),
    ("mql_threshold", "50", "mql_threshold", "is '50', not a whole number"),
    ("mql_threshold", 10**30, "mql_threshold", "out of range"),
    ("attributes.0.levels.0.points", True, "attributes.0.levels.0.points", "is true, not a whole number"),
    ("attributes.0.levels.0.points", "20", "attributes.0.levels.0.points", "is '20', not a whole number"),
    ("attributes.0.levels.0.points", 20.5, "attributes.0.levels.0.points", "not a whole number"),
    ("attributes.0.missing.points", 10**30, "attributes.0.missing.points", "out of range"),
    ("attributes.1.bins.1.min", "50", "attributes.1.bins.1.min", "not a number"),
    ("attributes.1.bins.1.min", 10**400, "attributes.1.bins.1.min", "not a number"),
    ("tiers.0.min_score", 10**30, "tiers.0.min_score", "out of range"),
    ("tiers.0.min_score", "60", "tiers.0.min_score", "not a whole number"),
    ("grades.0.min_score", True, "grades.0.min_score", "not a whole number"),
    ("knockouts.0.when_missing", "yes", "knockouts.0.when_missing", "allowed: true, false"),
])
def test_numbers_are_strict_and_bounded(path, value, field, says):
    with pytest.raises(LeadModelError) as err:
        ScoringModel.from_dict(changed(path, value), source="m.json")
    assert f"field '{field}'" in str(err.value) and says in str(err.value) and one_sentence(str(err.value))


@pytest.mark.parametrize("cap", [10**30, -(10**30), 1_000_001])
def test_caps_past_any_score_are_refused(cap):
    with pytest.raises(LeadModelError, match="fit cap") as err:
        ScoringModel.from_dict({**TINY_MODEL, "caps": {"fit": cap}}, source="m.json")
    assert "field 'caps'" in str(err.value) and one_sentence(str(err.value))


@pytest.mark.parametrize(("key", "value", "shown"), [
    ("below", float("nan"), "NaN"), ("at_least", float("inf"), "Infinity"), ("below", float("-inf"), "-Infinity"),
    ("at_least", "3", "'3'"), ("below", True, "true"),
])
def test_knockout_bounds_are_finite_numbers(key, value, shown):
    data = {**TINY_MODEL, "knockouts": [{"attribute": "employees", key: value}]}
    with pytest.raises(LeadModelError) as err:
        ScoringModel.from_dict(data, source="m.json")
    assert f"field 'knockouts.0.{key}' is {shown}, not a number" in str(err.value)


def test_knockout_nan_in_json_text_is_refused():
    text = json.dumps({**TINY_MODEL, "knockouts": [{"attribute": "employees", "below": float("nan")}]})
    assert "NaN" in text  # Python's json writes it, and reads it back as a float
    with pytest.raises(LeadModelError, match=r"field 'knockouts.0.below' is NaN"):
        ScoringModel.from_text(text, source="m.json", yaml_format=False)


def test_valid_numbers_stay_valid():
    m = ScoringModel.from_dict({**TINY_MODEL, "knockouts": [{"attribute": "employees", "below": 5, "at_least": 1e6, "when_missing": True}],
                                "caps": {"fit": 1_000_000, "total": 0}})
    assert m.knockouts[0].below == 5.0 and m.caps.fit == 1_000_000
    assert ScoringModel.from_text(m.to_yaml(), yaml_format=True) == m


def nested(depth: int) -> list:
    inner: list = []
    for _ in range(depth):
        inner = [inner]
    return inner


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"attributes": ' + "[" * 100_000 + "]" * 100_000 + "}"])
@pytest.mark.parametrize("yaml_format", [False, True, None])
def test_deeply_nested_text_is_one_sentence(text, yaml_format):
    with pytest.raises(LeadModelError) as err:
        ScoringModel.from_text(text, source="deep.json", yaml_format=yaml_format)
    assert str(err.value).startswith("deep.json ") and one_sentence(str(err.value))


def test_nesting_past_the_limit_in_yaml_blocks_and_dicts():
    block = "".join("  " * i + "- \n" for i in range(MAX_DEPTH + 5))
    with pytest.raises(LeadModelError, match=f"more than {MAX_DEPTH} levels deep"):
        ScoringModel.from_text(block, source="deep.yaml", yaml_format=True)
    for where in ("notes", "extra_key"):
        data = {**TINY_MODEL, "metadata": {where: nested(100_000)}}
        with pytest.raises(LeadModelError) as err:
            ScoringModel.from_dict(data, source="deep.json")
        assert one_sentence(str(err.value))


def test_yaml_aliases_cannot_expand_or_contain_themselves():
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)) + "attributes: *a8\n"
    with pytest.raises(LeadModelError, match="more than 5,000,000 values once its YAML aliases are expanded"):
        ScoringModel.from_text(bomb, source="bomb.yaml", yaml_format=True)
    with pytest.raises(LeadModelError, match="contains itself"):
        ScoringModel.from_text("attributes: &a [*a]\n", source="self.yaml", yaml_format=True)
    shared = "levels: &lv [{value: a, points: 1}]\nx: *lv\ny: *lv\n"  # an alias used a few times is fine
    assert parse_text(shared, "ok.yaml", True)["y"] == [{"value": "a", "points": 1}]


def test_files_past_the_size_cap(tmp_path):
    big = tmp_path / "huge.json"
    with big.open("wb") as fh:
        fh.truncate(MAX_MODEL_BYTES + 1)  # sparse: never read
    with pytest.raises(LeadModelError, match=r"huge.json is 20.0 MB, past the 20 MB a model file may be") as err:
        ScoringModel.from_file(big)
    assert one_sentence(str(err.value))
    yml = tmp_path / "big.yaml"
    yml.write_text("notes: '" + "x" * MAX_YAML_BYTES + "'\n")
    with pytest.raises(LeadModelError, match=r"big.yaml is 2.0 MB, past the 2 MB a YAML model file may be"):
        ScoringModel.from_file(yml)
    with pytest.raises(LeadModelError, match="past the 2 MB"):
        ScoringModel.from_text("notes: '" + "x" * MAX_YAML_BYTES + "'\n", source="typed.yaml", yaml_format=True)


def test_the_app_upload_checks_size_and_encoding():
    with pytest.raises(LeadModelError, match="up.json is 20.0 MB, past the 20 MB"):
        model_from_upload("up.json", b" " * (MAX_MODEL_BYTES + 1))
    with pytest.raises(LeadModelError, match="up.yaml is 2.0 MB, past the 2 MB a YAML"):
        model_from_upload("up.yaml", b" " * (MAX_YAML_BYTES + 1))
    with pytest.raises(LeadModelError, match="up.json is not a text file"):
        model_from_upload("up.json", b'{"notes": "\xff\xfe caf\xe9"}')
    assert model_from_upload("ok.json", json.dumps(TINY_MODEL).encode()) == ScoringModel.from_dict(TINY_MODEL)


def test_not_utf8_file_is_one_sentence(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes("metadata:\n  author: Jos\xe9\n".encode("latin-1"))
    with pytest.raises(LeadModelError, match=r"latin.yaml is not UTF-8 text \(byte \d+\); save it as UTF-8"):
        ScoringModel.from_file(path)


def wide(n: int, duplicate: str | None = None) -> dict:
    attrs = [{"name": f"a{i}", "kind": "categorical", "group": "fit", "levels": [{"value": "x", "points": 1}]} for i in range(n)]
    if duplicate:
        attrs.append({**attrs[int(duplicate[1:])]})
    return {"attributes": attrs, "mql_threshold": 1}


def test_a_40000_attribute_model_validates_and_a_late_duplicate_is_named():
    # speed is in benchmarks/bench_model_file.py; here: it works, and the one-pass check finds the last duplicate
    m = ScoringModel.from_dict(wide(40_000))
    assert len(m.attributes) == 40_000 and m.attribute("a39999").levels[0].points == 1
    with pytest.raises(LeadModelError, match="attribute 'a39998' is listed twice"):
        ScoringModel.from_dict(wide(40_000, duplicate="a39998"))


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3), max_leaves=30))
def test_any_json_value_is_a_model_or_one_sentence(value):
    text = json.dumps({**TINY_MODEL, "metadata": value}) if not isinstance(value, dict) else json.dumps({**TINY_MODEL, **value})
    try:
        ScoringModel.from_text(text, source="gen.json", yaml_format=False)
    except LeadModelError as exc:
        assert one_sentence(str(exc))
