"""The shipping config (lead_model.export.config): round trips, hand-edited errors naming the field and the allowed values, migration."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import random_models
from hypothesis import given
from hypothesis import strategies as st

from lead_model import LeadModelError, ScoringModel, VersionRegistry, score_leads
from lead_model.data.store import LeadStore
from lead_model.export.config import (
    CONFIG_VERSION,
    DatasetRef,
    ShippingConfig,
    Signoff,
    build_config,
    config_from_version,
    make_signoff,
    open_config,
    save_signed_version,
    signed_version_for,
)

DATA = Path(__file__).parent / "data"
V1_FILE = DATA / "sample_model_v1.yaml"
SIGNED = Signoff(sales="Priya Shah", marketing="Tom Berg", date=dt.date(2025, 6, 30), notes="Agreed in the Q3 workshop.\nReview in Q1.")


@pytest.fixture(scope="module")
def sample_config(sample_leads, sample_model) -> ShippingConfig:
    return build_config(sample_model, sample_leads, SIGNED)


# ----- round trips ---------------------------------------------------------------------------------
def test_export_then_import_is_equal_in_json_and_yaml(sample_config, sample_model, tmp_path):
    assert ShippingConfig.from_text(sample_config.to_json(), yaml_format=False) == sample_config
    assert ShippingConfig.from_text(sample_config.to_yaml(), yaml_format=True) == sample_config
    for suffix in (".json", ".yaml", ".yml"):
        path = sample_config.to_file(tmp_path / f"config{suffix}")
        again = ShippingConfig.from_file(path)
        assert again == sample_config
        assert (again.model, again.signoff, again.dataset, again.backtest) == (sample_model, SIGNED, sample_config.dataset, sample_config.backtest)
        # the model part stays a model file: the model API and the app read a config as its model
        assert ScoringModel.from_file(path) == sample_model


def test_the_model_part_is_the_model_file_unchanged(sample_config, sample_model):
    data = yaml.safe_load(sample_config.to_yaml())
    assert list(data) == ["config_version", "model", "signoff", "dataset", "backtest", "version_id", "exported"]
    assert data["config_version"] == CONFIG_VERSION
    assert data["model"] == sample_model.to_dict()
    assert data["model"]["schema_version"] == 2
    assert data["signoff"] == {"sales": "Priya Shah", "marketing": "Tom Berg", "date": "2025-06-30", "notes": "Agreed in the Q3 workshop.\nReview in Q1."}


def test_dataset_and_backtest_are_the_fingerprint_and_the_headline(sample_config, sample_leads, sample_model):
    fp = LeadStore(sample_leads.store_path).fingerprint(sample_leads.name)
    assert sample_config.dataset == DatasetRef(name=sample_leads.name, rows=fp.rows, hash=fp.hash)
    assert fp.rows == 50_000 and len(fp.hash) > 8
    # the headline against the per-lead scores, counted directly
    s = score_leads(sample_leads, sample_model)
    mql = s["is_mql"].to_numpy()
    conv = s["converted"].to_numpy()
    b = sample_config.backtest
    assert (b["leads"], b["mql"], b["converted"], b["knocked_out"]) == (50_000, int(mql.sum()), int(conv.sum()), int(s["knocked_out"].sum()))
    assert b["precision"] == pytest.approx((mql & conv).sum() / mql.sum(), abs=1e-12)
    assert b["recall"] == pytest.approx((mql & conv).sum() / conv.sum(), abs=1e-12)
    assert b["threshold"] == sample_model.mql_threshold


def test_without_data_there_is_no_dataset_and_no_backtest(sample_model):
    config = build_config(sample_model)
    assert config.dataset is None and config.backtest == {} and config.signoff is None
    assert ShippingConfig.from_text(config.to_yaml()) == config
    assert "Not signed off yet." in config.lines() and "No backtest recorded." in config.lines()


one_line = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=100).filter(lambda s: s.strip() == s and s)
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
numbers = st.one_of(st.none(), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False))


@given(
    model_dict=random_models(),
    sales=one_line, marketing=one_line, notes=any_text, day=st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)),
    dataset=st.one_of(st.none(), st.builds(DatasetRef, name=one_line, rows=st.integers(0, 10**10), hash=st.one_of(st.none(), st.text("0123456789abcdef", min_size=1, max_size=32)))),
    backtest=st.dictionaries(st.sampled_from(["leads", "mql", "precision", "recall", "auc", "lift_at_threshold", "odd key: ü"]), numbers, max_size=7),
    version_id=st.one_of(st.none(), st.integers(1, 10**9)),
    signed=st.booleans(),
)
def test_generated_configs_round_trip(tmp_path_factory, model_dict, sales, marketing, notes, day, dataset, backtest, version_id, signed):
    model = ScoringModel.from_dict(model_dict)
    signoff = Signoff(sales=sales, marketing=marketing, date=day, notes=notes) if signed else None
    config = ShippingConfig(model=model, signoff=signoff, dataset=dataset, backtest=backtest, version_id=version_id, exported="2025-06-30T10:00:00+00:00")
    assert ShippingConfig.from_text(config.to_json(), yaml_format=False) == config
    assert ShippingConfig.from_text(config.to_yaml(), yaml_format=True) == config
    again = ShippingConfig.from_file(config.to_file(tmp_path_factory.mktemp("cfg") / "c.yaml"))
    assert again == config and again.backtest == backtest and [type(v) for v in again.backtest.values()] == [type(v) for v in backtest.values()]


# ----- hand-edited files: one sentence naming the field and the allowed values ----------------------
EDITS = [
    ("group: fit\n", "group: fitt\n", "field 'model.attributes.0.group' (attribute 'job_level') is 'fitt'; allowed: fit, engagement"),
    ("kind: numeric\n", "kind: number\n", "field 'model.attributes.2.kind' (attribute 'company_size') is 'number'; allowed: categorical, numeric, boolean"),
    ("  - name: hot\n    min_score: 75\n", "  - name: hot\n    min_score: high\n", "field 'model.tiers.0.min_score' is 'high', not a whole number"),
    ("  - name: hot\n    min_score: 75\n", "  - name: hot\n    min_score: 10\n", "field 'model.tiers' is invalid: the tiers must be listed from highest min_score to lowest"),
    ("bins: min <= value < next min\n", "bins: min < value <= next min\n", "field 'model.semantics.bins' is 'min < value <= next min'; allowed: min <= value < next min"),
    ("    - value: VP\n      points: 20\n", "    - value: VP\n      points: 5000\n",
     "field 'model.attributes.0.levels.1.points' (attribute 'job_level') is 5000, out of range; allowed: whole numbers from -1,000 to 1,000"),
    ("  mql_threshold: 60\n", "  mql_threshold: sixty\n", "field 'model.mql_threshold' is 'sixty', not a whole number"),
    ("  date: '2025-06-30'\n", "  date: 30/06/2025\n", "field 'signoff.date' is '30/06/2025', not a date; write it as YYYY-MM-DD"),
    ("  sales: Priya Shah\n", "  approver: Priya Shah\n", "field 'signoff.approver' is not a field of the config schema; allowed: sales, marketing, date, notes"),
    ("  sales: Priya Shah\n", "", "field 'signoff.sales' is missing"),
    ("  rows: 50000\n", "  rows: -3\n", "field 'dataset.rows' is -3, out of range"),
    ("config_version: 1\n", "config_version: 2\n", "field 'config_version' is 2, newer than this lead-model understands (1)"),
    ("version_id: null\n", "version_id: null\ncomment: ok\n",
     "field 'comment' is not a field of the config schema; allowed: config_version, model, signoff, dataset, backtest, version_id, exported"),
    ("  schema_version: 2\n", "  schema_version: 9\n", "field 'model.schema_version' is 9, newer than this lead-model understands (2)"),
    ("  - name: job_level\n    kind: categorical\n", "  - name: job_level\n    colour: red\n    kind: categorical\n",
     "field 'model.attributes.0.colour' (attribute 'job_level') is not a field of the model schema; allowed: name, kind, group, levels, bins, missing, other"),
]


@pytest.mark.parametrize(("old", "new", "message"), EDITS, ids=[e[2][:40] for e in EDITS])
def test_a_hand_edited_error_is_one_sentence_naming_the_field(sample_config, tmp_path, old, new, message):
    text = sample_config.to_yaml()
    assert old in text, f"the exported YAML no longer holds {old!r}"
    path = tmp_path / "config.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(LeadModelError) as err:
        ShippingConfig.from_file(path)
    said = str(err.value)
    assert said.startswith(f"config.yaml: {message}"), said
    assert "\n" not in said and said.endswith(("again.", "read it.")), said


def test_json_edits_name_the_field_too(sample_config):
    data = json.loads(sample_config.to_json())
    data["model"]["attributes"][5]["group"] = "engagment"
    with pytest.raises(LeadModelError, match=r"^c.json: field 'model.attributes.5.group' \(attribute 'website_visits'\) is 'engagment'; allowed: fit, engagement"):
        ShippingConfig.from_text(json.dumps(data), "c.json", yaml_format=False)


@pytest.mark.parametrize(("text", "words"), [
    ("", "is empty"),
    ("config_version: 1\nmodel: [1, 2\n", "is not valid YAML/JSON"),
    ("[1, 2]", "is not a shipping config"),
    ("config_version: 1\n", "field 'model' is missing"),
    ("attributes: []\nmql_threshold: 10\n", "is a model file, not a shipping config"),
    ("signoff: {}\n", "field 'config_version' is missing"),
])
def test_files_that_are_no_config_get_one_sentence(text, words):
    with pytest.raises(LeadModelError, match=words):
        ShippingConfig.from_text(text, "c.yaml")


# ----- migration ------------------------------------------------------------------------------------
def test_a_config_holding_a_v1_model_migrates(sample_model, tmp_path):
    old = yaml.safe_load(V1_FILE.read_text(encoding="utf-8"))
    assert old["schema_version"] == 1 and "semantics" not in old
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump({"config_version": 1, "model": old, "signoff": SIGNED.to_dict()}), encoding="utf-8")
    config = ShippingConfig.from_file(path)
    assert config.model == sample_model and config.model.schema_version == 2 and config.signoff == SIGNED
    assert ScoringModel.from_file(path) == sample_model
    written = yaml.safe_load(config.to_yaml())
    assert written["model"]["schema_version"] == 2 and "semantics" in written["model"]
    del old["schema_version"]  # version 1 made the field optional
    assert ShippingConfig.from_dict({"config_version": 1, "model": old}).model == sample_model


# ----- sign-off and versions ------------------------------------------------------------------------
def test_signing_off_saves_a_new_version_and_never_overwrites(sample_leads, sample_model, tmp_path):
    registry = VersionRegistry(tmp_path / "v.duckdb")
    first = registry.save(sample_model, "workshop draft", leads=sample_leads)
    signed = save_signed_version(registry, sample_model, SIGNED, sample_leads)
    assert signed.id != first.id and len(registry.list()) == 2
    assert registry.get(first.id).signoff == {} and registry.get(first.id).model_json == first.model_json
    assert signed.name == "RevOps lead score (signed off 2025-06-30)" and signed.author == "Priya Shah"
    assert Signoff.model_validate(registry.get(signed.id).signoff) == SIGNED
    config = config_from_version(registry.get(signed.id))
    assert (config.model, config.signoff, config.version_id) == (sample_model, SIGNED, signed.id)
    assert config.dataset == DatasetRef(name=signed.dataset, rows=signed.dataset_rows, hash=signed.dataset_hash)
    assert config.backtest == signed.summary and config.backtest["mql"] > 0
    assert ShippingConfig.from_text(config.to_yaml()) == config
    assert signed_version_for(registry, sample_model).id == signed.id
    assert signed_version_for(registry, sample_model.replace(mql_threshold=55)) is None
    later = save_signed_version(registry, sample_model, SIGNED.model_copy(update={"sales": "Ana Ruiz"}), sample_leads)
    assert signed_version_for(registry, sample_model).id == later.id  # the newest sign-off of that model


@pytest.mark.parametrize(("args", "words"), [
    (("", "Tom"), "needs the name of who agreed for sales"),
    (("Priya", "   "), "needs the name of who agreed for marketing"),
    (("Priya", "Tom", "30.06.2025"), "field 'signoff.date' is '30.06.2025', not a date"),
    (("Priya\nShah", "Tom"), "one line"),
    (("P" * 101, "Tom"), "field 'signoff.sales'"),
])
def test_a_bad_sign_off_is_one_sentence(args, words):
    with pytest.raises(LeadModelError, match=words):
        make_signoff(*args)


def test_a_sign_off_defaults_to_today():
    assert make_signoff(" Priya ", "Tom").date == dt.date.today()
    assert make_signoff(" Priya ", "Tom").sales == "Priya"


def test_open_config_reads_a_plain_model_file_as_a_config_of_its_model(sample_model, tmp_path):
    config = open_config(sample_model.to_file(tmp_path / "m.yaml"))
    assert config.model == sample_model and config.signoff is None and config.dataset is None
    assert open_config(ShippingConfig(model=sample_model, signoff=SIGNED).to_file(tmp_path / "c.json")).signoff == SIGNED


def test_lines_say_what_the_config_holds(sample_config):
    lines = sample_config.lines()
    assert lines[0].startswith("Model 'RevOps lead score' (version 3, schema version 2): 9 attributes; MQL threshold 60")
    assert lines[1] == "Signed off by Priya Shah (sales) and Tom Berg (marketing) on 2025-06-30. Notes: Agreed in the Q3 workshop. Review in Q1."
    assert lines[2].startswith("Agreed on dataset 'leads': 50,000 rows, content hash ")
    b = sample_config.backtest
    assert lines[3] == f"Backtest at export: {b['mql']:,} MQLs ({b['mql_rate']:.1%}) at threshold 60, precision {b['precision']:.1%}, recall {b['recall']:.1%}, AUC {b['auc']:.3f}."
    assert np.isfinite(b["auc"])
