"""lead_model.formatting: file stems for downloads."""

from __future__ import annotations

import pytest

from lead_model.formatting import file_stem


@pytest.mark.parametrize(
    "name, stem",
    [("RevOps Lead Score (v2)", "revops_lead_score_v2"), ("  Q3 / 2025 review!! ", "q3_2025_review"), ("***", "lead_model"), ("", "lead_model"),
     ("Überprüfung 2025", "berpr_fung_2025"), ("../../etc/passwd", "etc_passwd")],
)
def test_file_stem(name, stem):
    assert file_stem(name) == stem


def test_every_download_is_named_by_the_one_rule():
    from lead_model import ScoringModel
    from lead_model.export.sql import sql_file_name

    model = ScoringModel.model_validate({"schema_version": 2, "metadata": {"name": "Q3 / 2025 review"}, "mql_threshold": 1, "attributes": []})
    assert sql_file_name(model, "snowflake") == "q3_2025_review_snowflake.sql"
