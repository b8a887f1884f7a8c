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


def test_markdown_escape_keeps_hyphen_runs_and_addresses_apart():
    """Seen in a browser: Streamlit typesets an escaped '\\-\\-' as an em dash, and links 'http://…' after its escapes."""
    from lead_model.formatting import WORD_JOINER, markdown_escape

    assert markdown_escape("JobLevD; --") == f"JobLevD; \\-{WORD_JOINER}\\-"
    assert markdown_escape("a---b") == f"a\\-{WORD_JOINER}\\-{WORD_JOINER}\\-b"
    assert markdown_escape("x-y") == "x\\-y"  # one hyphen stays as it was
    assert markdown_escape("www.x.io") == f"www{WORD_JOINER}\\.x\\.io"


@pytest.mark.parametrize("x, args, shown", [(0.0321, ("+.1f", " pts", 100), "+3.2 pts"), (-0.0003, ("+.1f", " pts", 100), None),
                                            (-120.0, ("+,.0f",), "-120"), (0.0004, ("+.3f",), None), (1234.0, ("+,.0f",), "+1,234"), (8914, ("+,",), "+8,914")])
def test_signed_never_reads_minus_zero(x, args, shown):
    from lead_model.formatting import signed

    assert signed(x, *args) == shown
