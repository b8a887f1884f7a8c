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


# ----- one suspicious level, not the whole column ------------------------------------------------
def sales_call_export(path, n: int = 4000, seed: int = 11):
    """Leads whose 'lead_source' is honest except one small level set after contact.

    - ``lead_source``: Web, Event (converts more: +0.6 log-odds), Paid; and 'Sales call' (3%),
      written over the source by sales after a call that converted: 97% of them converted.
    - ``time_on_site``: an honest engagement signal.
    """
    rng = np.random.default_rng(seed)
    time_on_site = rng.negative_binomial(2, 0.15, n)
    source = rng.choice(["Web", "Event", "Paid"], n, p=[0.5, 0.3, 0.2])
    logit = -2.4 + 0.06 * np.minimum(time_on_site, 40) + np.where(source == "Event", 0.6, 0.0)
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    called = rng.random(n) < 0.03
    converted = np.where(called, rng.random(n) < 0.97, converted)
    source = np.where(called, "Sales call", source)
    frame = pd.DataFrame({"lead_id": np.arange(1, n + 1), "lead_source": source, "time_on_site": time_on_site,
                          "converted": np.where(converted, "yes", "no")})
    frame.to_csv(path, index=False)
    return frame


def brute_auc_by_level(levels: pd.Series, converted: pd.Series) -> float:
    """AUC of ranking leads by their level's conversion rate: every converted/unconverted pair, ties counted half."""
    rate = converted.groupby(levels).transform("mean").to_numpy()
    pos, neg = rate[converted.to_numpy()], rate[~converted.to_numpy()]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (pos.size * neg.size))


@pytest.fixture
def sales_call(tmp_path):
    frame = sales_call_export(tmp_path / "calls.csv")
    return tmp_path / "calls.csv", tmp_path / "calls.duckdb", frame


def test_a_level_recorded_after_contact_is_ignored_alone(sales_call):
    from lead_model.data.leaks import LEVEL_NOTE, save_level_answer, stored_levels
    from lead_model.data.store import LeadStore

    path, store, frame = sales_call
    leads = load_leads(path, store=store)
    before = leak_check(leads)["lead_source"]
    assert before.leaky and before.rules == "pure level" and before.pure_level == "Sales call"
    assert before.level_offer == "Ignore level 'Sales call' only"
    assert leak_check(leads)["time_on_site"].pure_level is None  # numeric: its bins are no levels to answer for
    assert "lead_source" in suggest(leads, max_attributes=4).points.left_out["attribute"].tolist()

    assert save_level_answer(leads, "lead_source", "Sales call", True) == {"lead_source": ("Sales call",)}
    assert stored_levels(leads) == {"lead_source": ("Sales call",)}
    after = leak_check(leads)["lead_source"]
    assert not after.leaky and after.ignored_levels == ("Sales call",) and after.answer is None
    assert "'Sales call' is recorded after sales contact: its leads are left out of the leak check" in after.evidence
    # judged again without the level's leads: the AUC of the other levels alone, by brute force
    rest = frame[frame["lead_source"] != "Sales call"]
    assert after.auc == pytest.approx(brute_auc_by_level(rest["lead_source"], rest["converted"] == "yes"), abs=1e-12)
    assert before.auc == pytest.approx(brute_auc_by_level(frame["lead_source"], frame["converted"] == "yes"), abs=1e-12)

    s = suggest(leads, max_attributes=4, holdout="none")
    assert "lead_source" in s.points.chosen
    t = s.points.table.set_index(["attribute", "level"])
    call = t.loc[("lead_source", "Sales call")]
    assert call["suggested_points"] == 0 and call["why"].startswith(LEVEL_NOTE)
    assert s.model.attribute("lead_source").level_points()["Sales call"] == 0
    assert t.loc[("lead_source", "Event"), "suggested_points"] > t.loc[("lead_source", "Web"), "suggested_points"]
    # the honest levels keep the scale: the lowest of them is the attribute's 0 and none gets the leak's size of points
    honest = [t.loc[("lead_source", lv), "suggested_points"] for lv in ("Web", "Event", "Paid")]
    assert min(honest) == 0 and max(honest) < 100
    stats = s.points.stats.attributes.set_index("attribute")
    assert not stats.loc["lead_source", "leaky"] and "recorded after sales contact" in stats.loc["lead_source", "verdict"]

    # the answer outlives a reload of the file, and forgetting it flags the column again
    again = load_leads(path, store=store)
    assert stored_levels(again) == {"lead_source": ("Sales call",)}
    assert LeadStore(store).info(again.name).settings["after_contact_levels"] == {"lead_source": ["Sales call"]}
    assert save_level_answer(again, "lead_source", "Sales call", None) == {}
    assert leak_check(again)["lead_source"].leaky


def test_level_answers_are_refused_in_one_sentence(sales_call):
    from lead_model import LeadModelError
    from lead_model.data.leaks import save_level_answer, split_column_level

    path, store, _ = sales_call
    leads = load_leads(path, store=store)
    with pytest.raises(LeadModelError, match=r"'lead_source' has no level 'Sales cal' \(did you mean 'Sales call'\?\)"):
        save_level_answer(leads, "lead_source", "Sales cal", True)
    with pytest.raises(LeadModelError, match="'time_on_site' is numeric, so it has no levels to answer for alone"):
        save_level_answer(leads, "time_on_site", "3", True)
    with pytest.raises(LeadModelError, match="'lead_id' is not scored"):
        save_level_answer(leads, "lead_id", "3", True)
    with pytest.raises(LeadModelError, match="no column 'source'"):
        save_level_answer(leads, "source", "Web", True)
    assert split_column_level(leads, "lead_source=Sales call") == ("lead_source", "Sales call")
    assert split_column_level(leads, "lead_source=a=b") == ("lead_source", "a=b")
    with pytest.raises(LeadModelError, match="is not COLUMN=LEVEL"):
        split_column_level(leads, "nope=Web")


def test_cli_level_after_and_forget(sales_call):
    path, store, _ = sales_call
    runner = CliRunner()
    first = runner.invoke(main, ["leaks", str(path), "--store", str(store)])
    assert first.exit_code == 0, first.output
    assert "Warning: possible leak: 'lead_source' 'Sales call' (" in first.output
    assert "If only 'Sales call' is recorded after sales contact, answer with: lead-model leaks calls --level-after 'lead_source=Sales call'." in first.output
    answered = runner.invoke(main, ["leaks", "calls", "--level-after", "lead_source=Sales call", "--store", str(store)])
    assert answered.exit_code == 0, answered.output
    leads = load_leads("calls", store=store)
    verdict = leak_check(leads)["lead_source"]
    assert not verdict.leaky and "possible leak: 'lead_source'" not in answered.output
    assert ("lead_source: You said 'Sales call' is recorded after sales contact: its leads are left out of the leak check and "
            "it gets no points of its own.") in answered.output
    forgot = runner.invoke(main, ["leaks", "calls", "--forget", "lead_source=Sales call", "--store", str(store)])
    assert forgot.exit_code == 0 and "Warning: possible leak: 'lead_source'" in forgot.output
    runner.invoke(main, ["leaks", "calls", "--level-after", "lead_source=Sales call", "--store", str(store)])
    whole = runner.invoke(main, ["leaks", "calls", "--forget", "lead_source", "--store", str(store)])  # the column and its levels
    assert whole.exit_code == 0 and "Warning: possible leak: 'lead_source'" in whole.output
    wrong = runner.invoke(main, ["leaks", "calls", "--level-after", "time_on_site=3", "--store", str(store)])
    assert wrong.exit_code == 1 and wrong.output.startswith("Error: 'time_on_site' is numeric") and "Traceback" not in wrong.output
