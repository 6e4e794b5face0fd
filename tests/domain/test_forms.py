"""The plain-text edit form: written so that it reads back to itself, changes found by key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from crmcli.domain import forms
from crmcli.domain.models import Account, Contact, ContactType, Lead, Opportunity
from crmcli.errors import ValidationError

TODAY = date(2026, 12, 7)


def _lead(**changes: Any) -> Lead:
    base: dict[str, Any] = {
        "id": 6,
        "name": "Maria Souza",
        "email": "maria@x.com",
        "budget": Decimal("10000.00"),
        "timeline": date(2027, 3, 31),
        "source": "feira",
    }
    return Lead(**{**base, **changes})


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, (old, text)
    return text.replace(old, new)


def test_a_form_saved_as_written_changes_nothing() -> None:
    notes = "first line\n\n  indented # not a comment\n#tag"
    form = forms.lead_form(_lead(notes=notes, title="CEO # 1"))
    text = forms.write_form(form)
    assert forms.changes(form, text) == {}
    assert forms.read_form(form, text)["notes"] == notes
    assert forms.read_form(form, text)["title"] == "CEO # 1"
    assert forms.read_form(form, text)["budget"] == "10000.00"
    assert forms.read_form(form, text)["timeline"] == "2027-03-31"


def test_the_form_shows_iso_dates_plain_amounts_and_hints() -> None:
    text = forms.write_form(forms.lead_form(_lead()))
    lines = text.splitlines()
    assert lines[0] == "# Edit lead 6, save and quit (quit without saving to change nothing)."
    assert "name: Maria Souza" in lines
    budget = next(line for line in lines if line.startswith("budget:"))
    assert budget.startswith("budget: 10000.00 ") and "# amounts like 1234.56" in budget
    assert any(line.startswith("timeline: 2027-03-31 ") for line in lines)
    assert any("status: new" in line for line in lines if line.startswith("#"))


def test_changed_fields_only_and_hints_ignored() -> None:
    form = forms.lead_form(_lead())
    text = forms.write_form(form)
    text = _replace(text, "source: feira", "source: site")
    text = _replace(text, "budget: 10000.00", "budget: 1.234,56")
    text = _replace(text, "email: maria@x.com", "email:")
    assert forms.changes(form, text) == {"source": "site", "budget": "1.234,56", "email": ""}


def test_a_deleted_line_or_an_empty_file_changes_nothing() -> None:
    form = forms.lead_form(_lead())
    text = forms.write_form(form)
    without_source = "\n".join(line for line in text.splitlines() if "feira" not in line)
    assert forms.changes(form, without_source) == {}
    assert forms.changes(form, "") == {}
    assert forms.changes(form, "\ufeff# only comments\n\n") == {}


def test_keys_ignore_case_and_crlf_and_a_bom() -> None:
    form = forms.lead_form(_lead())
    text = "\ufeff" + forms.write_form(form).replace("source: feira", "Source: site")
    assert forms.changes(form, text.replace("\n", "\r\n")) == {"source": "site"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("colour: blue", 'line 5: "colour" is not a field here (the fields are name, industry'),
        ("just words", 'line 5: expected "field: value", found "just words"'),
        ("name: Again", "line 5: name is given twice"),
    ],
)
def test_malformed_lines_are_refused_with_their_line(line: str, message: str) -> None:
    form = forms.account_form(_account())
    text = forms.write_form(form).splitlines()
    text.insert(4, line)  # after the three header lines and name
    with pytest.raises(ValidationError) as caught:
        forms.read_form(form, "\n".join(text))
    assert str(caught.value).startswith(message)


def _account() -> Account:
    return Account(id=3, name="Acme")


def test_an_indented_line_with_nothing_above_is_refused() -> None:
    form = forms.account_form(_account())
    with pytest.raises(ValidationError, match=r'line 2: expected "field: value", found "x"'):
        forms.read_form(form, "# top\n   x\n")


def test_typed_values_as_the_services_take_them() -> None:
    form = forms.lead_form(_lead())
    typed = forms.typed(
        form, {"budget": "R$ 1.234,56", "timeline": "31/03/2027", "name": "Ana"}, today=TODAY
    )
    assert typed == {"budget": Decimal("1234.56"), "timeline": date(2027, 3, 31), "name": "Ana"}
    assert isinstance(typed["budget"], Decimal)
    assert forms.typed(form, {"phone": ""}, today=TODAY) == {"phone": ""}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("budget", "abc", 'budget: "abc"'),
        ("budget", "", "budget: must not be empty"),
        ("timeline", "soon", 'timeline: "soon" is not a valid date'),
        ("name", "", "name: must not be empty"),
    ],
)
def test_bad_values_name_the_field(key: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        forms.typed(forms.lead_form(_lead()), {key: value}, today=TODAY)
    assert str(caught.value).startswith(message)


def _opp() -> Opportunity:
    return Opportunity(
        id=9,
        name="Site novo",
        account_id=3,
        stage_id=2,
        stage="Proposta",
        amount=Decimal("500.00"),
        probability=40,
        contact_id=12,
    )


def test_the_opportunity_form_names_stages_account_and_contact() -> None:
    form = forms.opp_form(
        _opp(), account_name="Acme # 1", contact_name="Ana", stages=["Lead", "Proposta"]
    )
    text = forms.write_form(form)
    assert "# the stages: Lead, Proposta" in text
    assert "stage: Proposta, status: open" in text
    account = next(line for line in text.splitlines() if line.startswith("account:"))
    assert "Acme # 1" in account
    assert forms.changes(form, text) == {}
    moved = _replace(text, "account: 3 ", "account: Beta Ltda ")
    assert forms.changes(form, moved) == {"account": "Beta Ltda"}
    cleared = "\n".join(
        "contact:" if line.startswith("contact:") else line for line in text.splitlines()
    )
    assert forms.changes(form, cleared) == {"contact": ""}
    typed = forms.typed(form, {"probability": "70%", "close": "2027-01-31"}, today=TODAY)
    assert typed == {"probability": 70, "close": date(2027, 1, 31)}
    with pytest.raises(ValidationError, match="account: must not be empty"):
        forms.typed(form, {"account": ""}, today=TODAY)


def test_the_contact_form_lists_the_types() -> None:
    contact = Contact(id=4, name="Ana", type=ContactType.CUSTOMER, account_id=3)
    form = forms.contact_form(contact, "Acme")
    text = forms.write_form(form)
    line = next(line for line in text.splitlines() if line.startswith("type:"))
    assert line.startswith("type: customer ") and "prospect, supplier" in line
    changed = forms.changes(form, _replace(text, "type: customer", "type: partner"))
    assert changed == {"type": "partner"}


def test_the_error_comment_replaces_the_last_one_and_keeps_the_text() -> None:
    once = forms.with_error("name: x\nbudget: abc\n", 'budget: "abc" is not an amount')
    assert once.splitlines()[0] == '# crm: error: budget: "abc" is not an amount'
    twice = forms.with_error(once, "budget: again")
    assert twice.splitlines() == ["# crm: error: budget: again", "name: x", "budget: abc"]
    assert forms.same_text(twice, twice.replace("\n", "  \r\n") + "\n\n")
    assert not forms.same_text(twice, twice.replace("abc", "abd"))
