"""Leak checks on generated data whose leaks are known: fill-rate asymmetry, name questions, the room's answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from lead_model import load_leads
from lead_model.cli.main import main
from lead_model.data.leaks import leak_check, post_contact_hint, save_answer, stored_answers
from lead_model.suggest.fit import suggest


def crm_export(path, n: int = 4000, seed: int = 7):
    """Leads with an honest strong column, a post-contact quality rating and a status column.

    - ``quality_rating``: filled for 70% of converted leads and 35% of the rest (sales fills it in
      after talking to them); its values carry no signal beyond being filled in.
    - ``lead_status``: honest here (assigned at creation), but named like post-contact data.
    - ``time_on_site``: a strong, honest engagement signal (counts of minutes).
    - ``lead_source``: honest; one small level ("Partner", 1%) converts a lot.
    """
    rng = np.random.default_rng(seed)
    time_on_site = rng.negative_binomial(2, 0.15, n)
    logit = -2.6 + 0.09 * np.minimum(time_on_site, 40)
    source = rng.choice(["Web", "Event", "Paid", "Partner"], n, p=[0.5, 0.3, 0.19, 0.01])
    logit = logit + np.where(source == "Event", 0.4, 0.0)
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    filled = rng.random(n) < np.where(converted, 0.70, 0.35)
    rating = np.where(filled, rng.choice(["A", "B", "C"], n), "")
    status = rng.choice(["New", "Open", "Nurture"], n)
    frame = pd.DataFrame({
        "lead_id": np.arange(1, n + 1), "lead_source": source, "time_on_site": time_on_site, "quality_rating": rating,
        "lead_status": status, "converted": np.where(converted, "yes", "no"),
    })
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crm")
    path = crm_export(folder / "crm.csv")
    return path, folder / "s.duckdb"


def test_post_contact_names_are_questions():
    assert [post_contact_hint(n) for n in ("lead_status", "LastActivityDate", "Lead Quality", "call duration", "Tags", "lead_source", "time_on_site")] == [
        "status", "last activity", "quality", "call duration", "tags", None, None]


def test_fill_rate_asymmetry_is_flagged_and_honest_columns_are_kept(export):
    path, store = export
    leads = load_leads(path, store=store)
    verdicts = leak_check(leads)
    rating = verdicts["quality_rating"]
    assert rating.leaky and rating.rules.startswith("fill rate") and "of converted leads but" in rating.evidence
    assert not verdicts["time_on_site"].leaky  # strong and honest
    assert not verdicts["lead_source"].leaky  # one small level converting a lot is not a leak
    status = verdicts["lead_status"]
    assert not status.leaky and status.needs_answer and "status" in status.question


def test_answers_are_stored_with_the_dataset_and_win_over_the_rules(export):
    path, store = export
    leads = load_leads(path, store=store)
    s = suggest(leads, max_attributes=4)
    assert "quality_rating" not in s.points.chosen and "quality_rating" in s.points.left_out["attribute"].tolist()
    save_answer(leads, "quality_rating", True)  # the room says it is known before sales contact
    save_answer(leads, "lead_status", False)  # and that status is filled in after
    assert stored_answers(leads) == {"quality_rating": True, "lead_status": False}
    verdicts = leak_check(leads)
    assert not verdicts["quality_rating"].leaky and "known before sales contact" in verdicts["quality_rating"].evidence
    assert verdicts["lead_status"].leaky and "after sales contact" in verdicts["lead_status"].evidence
    s = suggest(leads, max_attributes=5)
    assert "lead_status" not in s.points.chosen and "lead_status" in s.points.left_out["attribute"].tolist()
    assert "quality_rating" not in s.points.left_out["attribute"].tolist() or "leaky" not in s.points.left_out.set_index("attribute").loc["quality_rating", "why"]
    again = load_leads(path, store=store)  # the file loaded again under the same name keeps the answers
    assert stored_answers(again) == {"quality_rating": True, "lead_status": False}
    save_answer(again, "quality_rating", None)
    save_answer(again, "lead_status", None)
    assert stored_answers(again) == {}


def test_cli_leaks_records_answers_and_speaks_like_the_app(export, tmp_path):
    path, _ = export
    store = tmp_path / "cli.duckdb"
    runner = CliRunner()
    first = runner.invoke(main, ["leaks", str(path), "--store", str(store)])
    assert first.exit_code == 0, first.output
    leads = load_leads("crm", store=store)
    expected = leak_check(leads)["quality_rating"].evidence
    assert f"Warning: possible leak: {expected}" in first.output
    assert "Question: Is 'lead_status' known before sales contact?" in first.output
    answered = runner.invoke(main, ["leaks", "crm", "--known", "quality_rating", "--after", "lead_status", "--store", str(store)])
    assert answered.exit_code == 0, answered.output
    assert "Known before sales contact (your answers, kept): quality_rating." in answered.output
    assert "'lead_status' is filled in after sales contact" in answered.output
    wrong = runner.invoke(main, ["leaks", "crm", "--known", "nope", "--store", str(store)])
    assert wrong.exit_code == 1 and "no column 'nope'" in wrong.output and "Traceback" not in wrong.output
