"""The model schema: JSON/YAML round trips, errors that name the field, and immutable edits."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from conftest import TINY_MODEL, random_models, changed
from hypothesis import given
from hypothesis import strategies as st

from lead_model import LeadModelError, ScoringModel
from lead_model.model.schema import DEFAULT_GRADES, DEFAULT_TIERS, SCHEMA_VERSION, json_schema



def test_defaults():
    m = ScoringModel()
    assert m.schema_version == SCHEMA_VERSION and m.attributes == () and m.mql_threshold == 50
    assert m.grades == DEFAULT_GRADES and m.tiers == DEFAULT_TIERS
    assert m.caps.fit is None and m.caps.engagement is None and m.caps.total is None


def test_json_and_yaml_round_trip(tmp_path):
    m = ScoringModel.from_dict(TINY_MODEL)
    assert ScoringModel.from_text(m.to_json(), yaml_format=False) == m
    assert ScoringModel.from_text(m.to_yaml(), yaml_format=True) == m
    assert ScoringModel.from_text(m.to_json()) == m  # YAML reads JSON too
    for name in ("m.json", "m.yaml", "m.yml"):
        path = m.to_file(tmp_path / name)
        assert ScoringModel.from_file(path) == m
        assert not list(tmp_path.glob(".*.tmp"))  # written atomically, no temp left behind
    assert json.loads((tmp_path / "m.json").read_text())["mql_threshold"] == 40
    assert yaml.safe_load((tmp_path / "m.yaml").read_text())["attributes"][0]["name"] == "industry"


def test_points_and_structure_survive(tiny_model):
    a = tiny_model.attribute("employees")
    assert a.edges == (50.0, 200.0, 1000.0) and [b.points for b in a.bins] == [0, 10, 20, 15] and a.missing.points == -3
    assert tiny_model.attribute("industry").level_points() == {"Software": 20, "Retail": 5, "Education": -10}
    assert tiny_model.attribute("newsletter").level_points() == {"true": 10, "false": 0}
    assert tiny_model.attribute_names == ("industry", "employees", "page_views", "newsletter")
    with pytest.raises(KeyError):
        tiny_model.attribute("nope")


@given(model=random_models())
def test_random_models_round_trip(model):
    m = ScoringModel.from_dict(model)
    assert ScoringModel.from_text(m.to_json(), yaml_format=False) == m
    assert ScoringModel.from_text(m.to_yaml(), yaml_format=True) == m
    assert ScoringModel.from_dict(m.to_dict()).to_dict() == m.to_dict()


@given(values=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=6, unique=True), name=st.text(min_size=1, max_size=10))
def test_level_values_that_look_like_other_yaml_types_stay_strings(values, name):
    """'NO', 'yes', '1e3', 'null', '~' must come back as the same strings, not booleans, numbers or None."""
    attr = {"name": name, "kind": "categorical", "group": "fit", "levels": [{"value": v, "points": i} for i, v in enumerate(values)]}
    m = ScoringModel.from_dict({"attributes": [attr]})
    for text, fmt in ((m.to_yaml(), True), (m.to_json(), False)):
        back = ScoringModel.from_text(text, yaml_format=fmt)
        assert [lv.value for lv in back.attributes[0].levels] == values
        assert back.attributes[0].name == name


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("mql_threshold", "high", "mql_threshold"),
        ("attributes.0.kind", "text", "attributes.0.kind"),
        ("attributes.0.group", "behaviour", "attributes.0.group"),
        ("attributes.0.levels.1.points", 5000, "attributes.0.levels.1.points"),
        ("attributes.0.levels.1.value", "Software", "attributes.0"),  # listed twice
        ("attributes.0.bins", [{"min": None, "points": 1}], "attributes.0"),  # categorical takes levels
        ("attributes.1.bins.0.min", 0, "attributes.1"),  # first bin must be open
        ("attributes.1.bins.2.min", 10, "attributes.1"),  # mins must increase
        ("attributes.1.bins", [], "attributes.1"),
        ("attributes.1.levels", [{"value": "x", "points": 1}], "attributes.1"),
        ("attributes.3.levels.0.value", "maybe", "attributes.3"),
        ("attributes.0.name", "", "attributes.0.name"),
        ("attributes.0.colour", "red", "attributes.0.colour"),
        ("knockouts.0", {"attribute": "industry"}, "knockouts.0"),
        ("grades.2.min_score", 5, "grades"),
        ("tiers", [{"name": "hot", "min_score": 10}, {"name": "warm", "min_score": 20}, {"name": "cold", "min_score": None}], "tiers"),
        ("tiers", [{"name": "hot", "min_score": 10}, {"name": "hot", "min_score": None}], "tiers"),
        ("tiers", [], "tiers"),
        ("caps", {"fit": "lots"}, "caps.fit"),
        ("schema_version", 3, "schema_version"),
    ],
)
def test_schema_errors_name_the_field(path, value, field):
    with pytest.raises(LeadModelError) as err:
        ScoringModel.from_dict(changed(path, value), source="my-model.yaml")
    message = str(err.value)
    assert message.startswith(f"my-model.yaml: field '{field}'"), message
    assert "Traceback" not in message and message.endswith("fix it and load the model again.")


def test_duplicate_attribute_names():
    data = copy.deepcopy(TINY_MODEL)
    data["attributes"].append(copy.deepcopy(data["attributes"][0]))
    with pytest.raises(LeadModelError, match="attribute 'industry' is listed twice"):
        ScoringModel.from_dict(data)


def test_more_than_one_problem_is_counted():
    data = changed("mql_threshold", "x")
    data["attributes"][0]["kind"] = "nope"
    with pytest.raises(LeadModelError, match=r"\(and 1 more problem\)"):
        ScoringModel.from_dict(data)


def test_unreadable_model_files(tmp_path):
    with pytest.raises(LeadModelError, match="does not exist"):
        ScoringModel.from_file(tmp_path / "none.yaml")
    (tmp_path / "empty.yaml").write_text("  \n")
    with pytest.raises(LeadModelError, match="empty.yaml is empty"):
        ScoringModel.from_file(tmp_path / "empty.yaml")
    (tmp_path / "bad.json").write_text('{"attributes": [}\n')
    with pytest.raises(LeadModelError, match="bad.json is not valid JSON near line 1"):
        ScoringModel.from_file(tmp_path / "bad.json")
    (tmp_path / "bad.yaml").write_text("attributes:\n  - name: x\n   kind: [\n")
    with pytest.raises(LeadModelError, match="bad.yaml is not valid YAML/JSON near line"):
        ScoringModel.from_file(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(LeadModelError, match="list.yaml is not a model"):
        ScoringModel.from_file(tmp_path / "list.yaml")


def test_edits_return_new_validated_models(tiny_model):
    m = tiny_model.with_points("industry", "Retail", 7)
    assert m.attribute("industry").level_points()["Retail"] == 7 and tiny_model.attribute("industry").level_points()["Retail"] == 5
    assert [lv.value for lv in m.attribute("industry").levels] == ["Software", "Retail", "Education"]  # order kept
    m = m.with_points("industry", "Media", 3)  # a new level goes last
    assert [lv.value for lv in m.attribute("industry").levels][-1] == "Media"
    m = m.with_points("industry", "__other__", -4).with_points("industry", "__missing__", -6)
    assert (m.attribute("industry").other.points, m.attribute("industry").missing.points) == (-4, -6)
    m = m.with_points("employees", "bin:3", 99)
    assert [b.points for b in m.attribute("employees").bins] == [0, 10, 20, 99]
    m = m.with_points("newsletter", False, -2)
    assert m.attribute("newsletter").level_points() == {"true": 10, "false": -2}
    with pytest.raises(LeadModelError, match="points"):
        m.with_points("industry", "Retail", 5000)
    assert m.without_attribute("employees").attribute_names == ("industry", "page_views", "newsletter")
    added = m.with_attribute(m.attribute("employees").model_copy(update={"name": "staff"}))
    assert added.attribute_names[-1] == "staff"
    assert m.replace(mql_threshold=12).mql_threshold == 12
    with pytest.raises(LeadModelError, match="field 'mql_threshold'"):
        m.replace(mql_threshold="twelve")


def test_models_are_immutable(tiny_model):
    with pytest.raises(Exception):
        tiny_model.mql_threshold = 3  # type: ignore[misc]


def test_stamped_and_schema(tiny_model):
    s = tiny_model.stamped(author="ana")
    assert s.metadata.author == "ana" and s.metadata.created and s.metadata.updated
    again = s.stamped()
    assert again.metadata.created == s.metadata.created
    schema = json_schema()
    assert schema["title"] == "Lead Model Studio scoring model" and "attributes" in schema["properties"]
