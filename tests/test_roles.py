"""Column roles: which column is the outcome, the id, the created date, an attribute (kind, group) or ignored."""

from __future__ import annotations

import pytest

from lead_model import LeadModelError
from lead_model.data.roles import (
    DEFAULT_PLACEHOLDERS,
    MAX_LEVELS,
    ColumnProfile,
    RoleOverride,
    check_outcome,
    default_group,
    default_kind,
    infer_roles,
    placeholder_set,
    positive_value,
    with_role,
)


def prof(name, dtype="text", rows=100, distinct=5, top=(), missing=0, numeric_share=0.0) -> ColumnProfile:
    top = tuple(top) or tuple((f"v{i}", rows // max(distinct, 1)) for i in range(min(distinct, 10)))
    return ColumnProfile(name, dtype, rows, missing, 0, {}, distinct, numeric_share, top)


def outcome_prof(name="converted", values=(("no", 90), ("yes", 10))) -> ColumnProfile:
    return prof(name, distinct=len(values), top=values)


def profiles(*ps: ColumnProfile) -> dict[str, ColumnProfile]:
    return {p.name: p for p in ps}


def test_typical_export():
    ps = profiles(
        prof("Lead ID", distinct=100),
        prof("email", distinct=98),
        prof("created_at", dtype="date", distinct=60),
        prof("updated_at", dtype="date", distinct=60),
        prof("job_level", distinct=6),
        prof("employees", dtype="integer", distinct=80, numeric_share=1.0),
        prof("website_visits", dtype="integer", distinct=30, numeric_share=1.0),
        prof("newsletter", distinct=2, top=(("yes", 60), ("no", 40))),
        prof("region", distinct=1),
        prof("notes", missing=100, distinct=0, top=(("x", 0),)),
        outcome_prof(),
    )
    roles = infer_roles(ps)
    got = {n: (r.role, r.kind, r.group) for n, r in roles.items()}
    assert got == {
        "Lead ID": ("id", None, None),
        "email": ("ignore", None, None),
        "created_at": ("created", None, None),
        "updated_at": ("ignore", None, None),
        "job_level": ("attribute", "categorical", "fit"),
        "employees": ("attribute", "numeric", "fit"),
        "website_visits": ("attribute", "numeric", "engagement"),
        "newsletter": ("attribute", "boolean", "fit"),
        "region": ("ignore", None, None),
        "notes": ("ignore", None, None),
        "converted": ("outcome", None, None),
    }
    assert "free text" in roles["email"].reason and "single value" in roles["region"].reason
    assert roles["notes"].reason == "always empty"


def test_outcome_guessed_by_name_or_vocabulary():
    assert infer_roles(profiles(prof("seg"), outcome_prof("Is_Won")))["Is_Won"].role == "outcome"
    assert infer_roles(profiles(prof("seg"), outcome_prof("won")))["won"].role == "outcome"
    status = outcome_prof("status", (("Closed Lost", 80), ("Closed Won", 20)))
    assert infer_roles(profiles(prof("seg"), status))["status"].role == "outcome"
    with pytest.raises(LeadModelError, match="cannot tell which column is the converted outcome"):
        infer_roles(profiles(prof("seg"), prof("other", distinct=3)))
    two = profiles(outcome_prof("a", (("yes", 1), ("no", 1))), outcome_prof("b", (("won", 1), ("lost", 1))))
    with pytest.raises(LeadModelError, match=r"two-valued columns: a, b"):
        infer_roles(two)


def test_outcome_given_explicitly():
    ps = profiles(prof("seg", distinct=2, top=(("x", 50), ("y", 50))), outcome_prof())
    roles = infer_roles(ps, outcome="seg")
    assert roles["seg"].role == "outcome" and roles["converted"].role == "attribute"
    with pytest.raises(LeadModelError, match=r"no column 'sge'.*did you mean 'seg'"):
        infer_roles(ps, outcome="sge")


def test_outcome_must_be_two_valued():
    with pytest.raises(LeadModelError, match=r"outcome column 'converted' has 3 distinct values \('a', 'b', 'c'\), not two"):
        check_outcome(prof("converted", distinct=3, top=(("a", 1), ("b", 1), ("c", 1))))
    with pytest.raises(LeadModelError, match="has 1 distinct values"):
        infer_roles(profiles(prof("seg"), prof("converted", distinct=1, top=(("yes", 9),))), outcome="converted")


@pytest.mark.parametrize(
    ("values", "positive"),
    [
        ((("No", 90), ("Yes", 10)), "Yes"),
        ((("0", 90), ("1", 10)), "1"),
        ((("Lost", 5), ("Won", 95)), "Won"),  # vocabulary beats frequency
        ((("Open", 70), ("SQL", 30)), "SQL"),
        ((("n", 7), ("maybe", 3)), "maybe"),  # one negative word: the other value
        ((("red", 30), ("blue", 70)), "red"),  # no vocabulary: the rarer value
        ((("b", 50), ("a", 50)), "a"),  # a tie: the first by name
    ],
)
def test_positive_value(values, positive):
    assert positive_value(outcome_prof(values=values)) == positive


def test_id_and_unique_columns():
    ps = profiles(prof("record id", distinct=100), prof("lead_id", distinct=100), outcome_prof())
    roles = infer_roles(ps)
    assert roles["record id"].role == "id" and roles["lead_id"].role == "id"  # two id columns can exist (a CRM id and a record id)
    many = prof("token", rows=5000, distinct=5000)
    assert infer_roles(profiles(many, outcome_prof()))["token"].role == "ignore"  # text with too many values
    ints = prof("external", dtype="integer", rows=5000, distinct=5000, numeric_share=1.0)
    assert infer_roles(profiles(ints, outcome_prof()))["external"].role == "id"
    nearly = prof("customer_key", distinct=85)  # named like an id but not unique enough: and too varied to score
    assert infer_roles(profiles(nearly, outcome_prof()))["customer_key"].role == "ignore"
    few = prof("segment_key", distinct=15)
    assert infer_roles(profiles(few, outcome_prof()))["segment_key"].role == "attribute"


def test_too_many_levels_is_free_text():
    wide = prof("city", rows=100_000, distinct=MAX_LEVELS + 1)
    roles = infer_roles(profiles(wide, outcome_prof()))
    assert roles["city"].role == "ignore" and "too many distinct values" in roles["city"].reason


@pytest.mark.parametrize(
    ("p", "kind"),
    [
        (prof("x", distinct=2, top=(("Yes", 1), ("No", 1))), "boolean"),
        (prof("x", distinct=2, top=(("Y", 1), ("N", 1))), "boolean"),
        (prof("x", dtype="integer", distinct=2, top=(("1", 1), ("0", 1)), numeric_share=1.0), "boolean"),
        (prof("x", dtype="boolean", distinct=2, top=(("true", 1), ("false", 1))), "boolean"),
        (prof("x", distinct=2, top=(("yes", 1), ("maybe", 1))), "categorical"),
        (prof("x", distinct=2, top=(("yes", 1), ("y", 1))), "categorical"),
        (prof("x", dtype="integer", distinct=2, top=(("1", 1), ("5", 1)), numeric_share=1.0), "categorical"),
        (prof("x", dtype="float", distinct=40, numeric_share=1.0), "numeric"),
        (prof("x", distinct=40, numeric_share=0.99), "numeric"),
        (prof("x", distinct=40, numeric_share=0.9), "categorical"),
    ],
)
def test_default_kind(p, kind):
    assert default_kind(p) == kind


@pytest.mark.parametrize(
    ("name", "group"),
    [("website_visits", "engagement"), ("Pricing Page Views", "engagement"), ("email_clicks", "engagement"),
     ("demo_requested", "engagement"), ("days_since_last_touch", "engagement"), ("industry", "fit"),
     ("company_size", "fit"), ("job_level", "fit")],
)
def test_default_group(name, group):
    assert default_group(name) == group


def test_overrides_and_excludes():
    ps = profiles(prof("seg"), prof("employees", dtype="integer", distinct=50, numeric_share=1.0),
                  prof("flag", distinct=2, top=(("yes", 1), ("no", 1))), outcome_prof())
    roles = infer_roles(ps, exclude=("seg",), overrides={
        "employees": RoleOverride(kind="categorical", group="engagement"),
        "flag": RoleOverride(role="ignore"),
    })
    assert (roles["seg"].role, roles["seg"].reason) == ("ignore", "excluded by you")
    assert (roles["employees"].role, roles["employees"].kind, roles["employees"].group) == ("attribute", "categorical", "engagement")
    assert (roles["flag"].role, roles["flag"].kind, roles["flag"].group) == ("ignore", None, None)
    with pytest.raises(LeadModelError, match=r"no column 'sge'.*did you mean 'seg'"):
        infer_roles(ps, exclude=("sge",))
    with pytest.raises(LeadModelError, match="'seg' holds text, not numbers"):
        infer_roles(ps, overrides={"seg": RoleOverride(kind="numeric")})
    with pytest.raises(LeadModelError, match="'seg' has 5 values, so it cannot be boolean"):
        infer_roles(ps, overrides={"seg": RoleOverride(kind="boolean")})
    edited = with_role(roles, ps, "flag", RoleOverride(role="attribute"))
    assert (edited["flag"].role, edited["flag"].kind) == ("attribute", "boolean") and roles["flag"].role == "ignore"


def test_scoring_new_leads_needs_no_outcome():
    roles = infer_roles(profiles(prof("seg"), prof("employees", dtype="integer", distinct=50)), require_outcome=False)
    assert all(r.role != "outcome" for r in roles.values())


def test_placeholders():
    ph = placeholder_set(DEFAULT_PLACEHOLDERS)
    for word in ("", "N/A", "Select", "-- select --", "unknown", "NULL", "none", "?"):
        assert word.strip().lower() in ph
    assert "no" not in ph and "0" not in ph and "other" not in ph
    assert placeholder_set((" TBD ",)) == frozenset({"tbd"})


def test_sequential_numbers_are_ids_and_two_ids_can_exist():
    import pandas as pd

    from lead_model.data.leads import leads_from_table

    n = 60
    frame = pd.DataFrame({
        "Lead ID": [f"L{i:04d}" for i in range(n)],
        "row number": list(range(1001, 1001 + n)),  # unique and consecutive: an auto-increment key
        "employees": [5 * (i % 7) + 1 for i in range(n)],  # numbers that repeat: an attribute
        "visits": list(range(0, 3 * n, 3)),  # unique but with gaps of 3: not sequential, stays numeric
        "converted": ["yes" if i % 4 == 0 else "no" for i in range(n)],
    })
    leads = leads_from_table(frame)
    assert leads.roles["Lead ID"].role == "id" and leads.roles["row number"].role == "id"
    assert "sequential" in leads.roles["row number"].reason
    assert leads.roles["employees"].role == "attribute" and leads.roles["visits"].role == "attribute"
    assert leads.lead_id_column == "Lead ID"


@pytest.mark.parametrize(
    ("name", "guess", "why"),
    [("website_visits", "engagement", "'visit' in the name is something a lead did"), ("time_on_site", "engagement", "'time_on'"),
     ("Title", "fit", "'title' in the name says who the lead is"), ("company.size", "fit", "'company'"), ("Country, Region", "fit", "'country'"),
     ("NumberOfEmployees", "fit", "'employees'"), ("age", "fit", "'age'"), ("zone", "unknown", "no clue in the name"),
     ("lead_source", "unknown", "unknown: no clue in the name; choose fit or engagement (counted as fit until you do)"),
     ("newsletter", "unknown", "no clue"), ('SELECT * FROM "x"', "unknown", "no clue"), ("statement", "unknown", "no clue")],
)
def test_group_guess_says_unknown_when_the_name_gives_no_clue(name, guess, why):
    from lead_model.data.roles import group_guess

    got, reason = group_guess(name)
    assert got == guess and why in reason and reason.startswith(guess)
    assert default_group(name) == ("fit" if guess == "unknown" else guess)  # what a model counts it as


def test_an_unknown_group_is_counted_as_fit_until_someone_chooses():
    from lead_model.data.roles import UNKNOWN_GROUP, counted_as_fit

    ps = profiles(prof("lead_source", distinct=5), prof("job_title", distinct=5), outcome_prof())
    roles = infer_roles(ps)
    r = roles["lead_source"]
    assert (r.role, r.group, r.group_known, r.shown_group) == ("attribute", "fit", False, UNKNOWN_GROUP)
    assert "no clue in the name; choose fit or engagement" in r.reason
    assert (roles["job_title"].group, roles["job_title"].shown_group) == ("fit", "fit")
    assert counted_as_fit(r, "fit") and not counted_as_fit(r, "engagement") and not counted_as_fit(roles["job_title"], "fit")
    assert infer_roles(ps, overrides={"lead_source": RoleOverride(kind="categorical")})["lead_source"].shown_group == UNKNOWN_GROUP
    chosen = infer_roles(ps, overrides={"lead_source": RoleOverride(group="fit")})["lead_source"]
    assert (chosen.group, chosen.shown_group) == ("fit", "fit")
    engaged = infer_roles(ps, overrides={"lead_source": RoleOverride(group="engagement")})["lead_source"]
    assert (engaged.group, engaged.shown_group) == ("engagement", "engagement")
    ignored = infer_roles(ps, exclude=("lead_source",))
    assert ignored["lead_source"].shown_group is None  # not an attribute: no group at all
    back = with_role(ignored, ps, "lead_source", RoleOverride(role="attribute"))["lead_source"]  # scored again: the guess again
    assert (back.group, back.shown_group) == ("fit", UNKNOWN_GROUP)
