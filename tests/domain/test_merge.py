"""Tests for crmcli.domain.merge: how KEEP's and the OTHERs' values combine. Pure: no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from crmcli.domain.merge import Pick, Side, combine, is_empty, merged_notes_line

FIELDS = ("name", "email", "phone", "company")


def _lead(lead_id: int, **values: Any) -> Side:
    base: dict[str, Any] = dict.fromkeys(FIELDS)
    base.update(notes=None, extras={})
    base.update(values)
    return Side(lead_id, base)


def test_keep_wins_and_what_keep_lacks_comes_from_the_first_other_that_has_it() -> None:
    keep = _lead(1, name="Maria", email=None, phone="")
    first = _lead(5, name="Maria O", phone=None, company="Acme")
    second = _lead(3, name="M", email="m@x.br", phone="+55 11 5555-0000", company="Globex")
    merged = combine("lead", keep, [first, second], FIELDS)
    assert merged.picks[:4] == (
        Pick("name", "Maria", None),
        Pick("email", "m@x.br", 3),
        Pick("phone", "+55 11 5555-0000", 3),
        Pick("company", "Acme", 5),
    )
    assert merged.changes["email"] == "m@x.br" and "name" not in merged.changes


def test_values_that_cannot_stay_go_to_the_notes_one_line_per_other() -> None:
    keep = _lead(1, name="Ana", email="a@x.com", notes="Met at the fair")
    other = _lead(7, name="Ana", email="b@x.com", phone="+55 11 5555-0000", notes="VIP")
    merged = combine("lead", keep, [other], FIELDS)
    # the phone was filled from lead 7, so only its e-mail differs from the result
    assert merged.values["notes"] == ("Met at the fair\n\nVIP\n\nMerged from lead 7: email b@x.com")
    third = _lead(9, email="c@x.com", phone="(11) 4444-0000")
    merged = combine("lead", keep, [other, third], FIELDS)
    assert merged.values["notes"].endswith(
        "Merged from lead 7: email b@x.com\nMerged from lead 9: email c@x.com; phone (11) 4444-0000"
    )


def test_notes_already_contained_are_not_repeated_and_none_stay_none() -> None:
    keep = _lead(1, notes="Ligar segunda\n\nproposta enviada")
    merged = combine("lead", keep, [_lead(2, notes="proposta enviada")], FIELDS)
    assert merged.values["notes"] == "Ligar segunda\n\nproposta enviada"
    assert "notes" not in merged.changes
    empty = combine("lead", _lead(1), [_lead(2)], FIELDS)
    assert empty.values["notes"] is None and empty.changes == {}


def test_notes_from_an_other_when_keep_has_none_name_that_other() -> None:
    merged = combine("lead", _lead(1), [_lead(2), _lead(4, notes="x")], FIELDS)
    assert Pick("notes", "x", 4) in merged.picks


def test_extras_are_united_keep_winning_and_another_value_kept_under_its_lead() -> None:
    keep = _lead(1, extras={"stand": "A1", "cidade": "SP"})
    other = _lead(7, extras={"stand": "B2", "cidade": "SP", "cargo": "CFO"})
    merged = combine("lead", keep, [other], FIELDS)
    assert merged.values["extras"] == {
        "stand": "A1",
        "cidade": "SP",
        "stand (lead 7)": "B2",
        "cargo": "CFO",
    }
    assert "extras" in merged.changes


def test_no_extras_on_either_side_changes_nothing() -> None:
    keep = Side(1, {"name": "A", "notes": None, "extras": None})
    merged = combine("lead", keep, [Side(2, {"name": "B", "extras": {}})], ("name",))
    assert "extras" not in merged.changes


def test_recorded_fields_are_never_filled_but_their_other_values_are_kept() -> None:
    keep = _lead(1, disqualify_reason=None)
    other = _lead(2, disqualify_reason="sem verba")
    merged = combine("lead", keep, [other], FIELDS, recorded=("disqualify_reason",))
    assert "disqualify_reason" not in merged.values
    assert merged.values["notes"] == "Merged from lead 2: disqualify_reason sem verba"


def test_money_dates_and_case_of_e_mails_in_the_notes_line() -> None:
    keep = Side(1, {"email": "Ana@X.com", "budget": Decimal("10.00"), "timeline": None})
    other = Side(
        2, {"email": "ana@x.com", "budget": Decimal("12.5"), "timeline": date(2027, 3, 31)}
    )
    merged = combine("lead", keep, [other], ("email", "budget", "timeline"))
    assert merged.values["timeline"] == date(2027, 3, 31)
    assert "notes" not in merged.values  # KEEP's values have no notes field
    line = merged_notes_line("lead", 2, [("budget", Decimal("12.5")), ("note", "a\nb")])
    assert line == "Merged from lead 2: budget 12.50; note a b"


def test_empty_values() -> None:
    assert is_empty(None) and is_empty("  ") and is_empty({})
    assert not is_empty(Decimal("0.00")) and not is_empty("x") and not is_empty(0)


text = st.one_of(st.none(), st.just(""), st.text(max_size=8))
records = st.fixed_dictionaries(
    {"name": text, "email": text, "phone": text, "company": text, "notes": text}
)


@given(keep=records, others=st.lists(records, max_size=4))
def test_nothing_keep_has_is_lost_and_nothing_an_other_has_is_dropped(
    keep: dict[str, Any], others: list[dict[str, Any]]
) -> None:
    sides = [Side(i + 2, o) for i, o in enumerate(others)]
    merged = combine("lead", Side(1, keep), sides, FIELDS)
    notes = merged.values["notes"] or ""
    for field in FIELDS:
        if not is_empty(keep[field]):
            assert merged.values[field] == keep[field]
        for side in sides:
            value = side.values[field]
            if is_empty(value):
                continue
            flat = " ".join(str(value).split())
            kept = merged.values[field] is not None and (
                str(merged.values[field]).strip() == str(value).strip()
                or (field == "email" and str(merged.values[field]).lower() == value.lower())
            )
            assert kept or f"{field} {flat}" in notes
        if is_empty(keep[field]):
            filled = [s for s in sides if not is_empty(s.values[field])]
            pick = merged.picks[FIELDS.index(field)]
            assert pick.source == (filled[0].id if filled else None)
    if not is_empty(keep["notes"]):
        assert notes.startswith(keep["notes"])
    for side in sides:
        if not is_empty(side.values["notes"]):
            assert str(side.values["notes"]).strip() in notes


@given(keep=records)
def test_merging_nothing_into_keep_changes_nothing(keep: dict[str, Any]) -> None:
    merged = combine("lead", Side(1, keep), [], FIELDS)
    assert merged.changes == {}
    assert all(p.source is None for p in merged.picks)
