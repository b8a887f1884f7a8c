"""Model files of schema version 1 load, migrate to version 2 and score exactly as they did."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

import lead_model as lm
from lead_model import LeadModelError, ScoringModel
from lead_model.model.migration import V1_SEMANTICS, migrate
from lead_model.model.schema import SCHEMA_VERSION
from lead_model.model.semantics import DEFAULT_SEMANTICS

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent
V1_FILE = DATA / "sample_model_v1.yaml"  # sample_data/sample_model.yaml as it was written under schema version 1


def test_v1_file_is_version_one_and_migrates_to_current():
    raw = yaml.safe_load(V1_FILE.read_text(encoding="utf-8"))
    assert raw["schema_version"] == 1 and "semantics" not in raw
    m = ScoringModel.from_file(V1_FILE)
    assert m.schema_version == SCHEMA_VERSION == 2
    assert list(m.semantics.missing_values) == V1_SEMANTICS["missing_values"]
    assert list(m.semantics.true_values) == V1_SEMANTICS["true_values"]
    assert raw["schema_version"] == 1  # migrate copies; the caller's dict is untouched
    migrate(raw)
    assert "semantics" not in raw


def test_migrated_v1_equals_the_v2_sample_and_round_trips(tmp_path):
    old = ScoringModel.from_file(V1_FILE)
    new = ScoringModel.from_file(ROOT / "sample_data" / "sample_model.yaml")
    assert old == new
    for suffix in (".json", ".yaml"):
        again = ScoringModel.from_file(old.to_file(tmp_path / f"m{suffix}"))
        assert again == old and again.to_dict()["semantics"] == old.to_dict()["semantics"]


def test_a_file_without_schema_version_is_version_one():
    data = yaml.safe_load(V1_FILE.read_text(encoding="utf-8"))
    del data["schema_version"]
    assert ScoringModel.from_dict(data) == ScoringModel.from_file(V1_FILE)


@pytest.mark.parametrize("version, words", [(3, "newer than this lead-model"), (0, "must be 1 to 2"), ("2", "whole number"), (True, "whole number")])
def test_unknown_schema_versions_get_one_sentence(version, words):
    with pytest.raises(LeadModelError, match=words):
        ScoringModel.from_dict({"schema_version": version, "attributes": []})


def test_v1_sample_model_scores_exactly_as_before(tmp_path):
    """Figures and a hash of every lead's scores, captured with the code of schema version 1 (before the migration existed)."""
    expected = json.loads((DATA / "sample_model_v1_expected.json").read_text())
    m = ScoringModel.from_file(V1_FILE)
    leads = lm.load_leads(ROOT / "sample_data" / "leads.csv", store=tmp_path / "s.duckdb", model=m)
    r = lm.backtest(leads, m)
    s = lm.score_leads(leads, m)
    assert (r.leads, r.converted, r.mql, r.mql_converted, r.knocked_out) == (
        expected["leads"], expected["converted"], expected["mql"], expected["mql_converted"], expected["knocked_out"])
    assert r.auc == pytest.approx(expected["auc"], abs=1e-12) and r.pr_auc == pytest.approx(expected["pr_auc"], abs=1e-12)
    assert (int(s.score.sum()), int(s.fit_score.sum()), int(s.engagement_score.sum())) == (expected["score_sum"], expected["fit_sum"], expected["eng_sum"])
    h = hashlib.sha256()
    for c in ["row", "score", "fit_score", "engagement_score", "grade", "tier", "knocked_out", "is_mql"]:
        h.update(s[c].astype(str).str.cat(sep=",").encode())
    assert h.hexdigest() == expected["scores_sha256"]


def test_the_model_semantics_decide_what_is_missing(tmp_path):
    """A model whose semantics call 'tbc' missing scores a 'tbc' cell as missing, whatever the dataset defaults say."""
    csv = tmp_path / "l.csv"
    csv.write_text("segment,converted\nA,yes\ntbc,no\nA,no\ntbc,yes\nB,no\n", encoding="utf-8")
    attr = {"name": "segment", "kind": "categorical", "group": "fit", "levels": [{"value": "A", "points": 10}, {"value": "tbc", "points": 7}],
            "missing": {"points": -5}, "other": {"points": 1}}
    plain = ScoringModel.from_dict({"attributes": [attr], "mql_threshold": 0})
    strict = plain.replace(semantics={**DEFAULT_SEMANTICS.model_dump(mode="json"), "missing_values": ["", "tbc"]})
    by_default = lm.score_leads(lm.load_leads(csv, store=tmp_path / "a.duckdb", model=plain), plain)
    by_model = lm.score_leads(lm.load_leads(csv, store=tmp_path / "b.duckdb", model=strict), strict)
    assert by_default.sort_values("row")["score"].tolist() == [10, 7, 10, 7, 1]
    assert by_model.sort_values("row")["score"].tolist() == [10, -5, 10, -5, 1]


def test_the_model_semantics_decide_the_yes_no_words(tmp_path):
    """A boolean written 'Oui'/'Non' scores as true/false under a model whose semantics say so."""
    csv = tmp_path / "fr.csv"
    csv.write_text("abonne,converted\nOui,yes\nNon,no\n oui ,no\n,yes\nNON,no\n", encoding="utf-8")
    attr = {"name": "abonne", "kind": "boolean", "group": "engagement",
            "levels": [{"value": True, "points": 10}, {"value": False, "points": -2}], "missing": {"points": 3}}
    plain = ScoringModel.from_dict({"attributes": [attr], "mql_threshold": 0})
    with pytest.raises(LeadModelError, match="not yes/no"):
        lm.load_leads(csv, store=tmp_path / "a.duckdb", model=plain)
    french = plain.replace(semantics={**DEFAULT_SEMANTICS.model_dump(mode="json"), "true_values": ["oui"], "false_values": ["non"]})
    scored = lm.score_leads(lm.load_leads(csv, store=tmp_path / "b.duckdb", model=french), french).sort_values("row")
    assert scored["score"].tolist() == [10, -2, 10, 3, -2]
    from lead_model.data.leads import leads_from_table

    frame = __import__("pandas").read_csv(csv, keep_default_na=False, dtype=str)
    assert lm.score_leads(leads_from_table(frame, model=french), french).sort_values("row")["score"].tolist() == [10, -2, 10, 3, -2]


def test_a_rare_level_the_model_lists_scores_its_own_points():
    """'other' is any value neither missing nor listed: a listed level keeps its points even past the 200 most common values."""
    import pandas as pd

    from lead_model.data.leads import leads_from_table

    values = [f"v{i:03d}" for i in range(250) for _ in range(3)] + ["rare"]
    frame = pd.DataFrame({"segment": values, "converted": ["yes" if i % 5 == 0 else "no" for i in range(len(values))]})
    attr = {"name": "segment", "kind": "categorical", "group": "fit", "levels": [{"value": "rare", "points": 40}, {"value": "v000", "points": 5}],
            "other": {"points": 1}}
    model = ScoringModel.from_dict({"attributes": [attr], "mql_threshold": 0})
    scored = lm.score_leads(leads_from_table(frame, model=model), model).sort_values("row")
    assert scored["score"].iloc[-1] == 40 and scored["score"].iloc[0] == 5 and (scored["score"].iloc[3:-1] == 1).all()
