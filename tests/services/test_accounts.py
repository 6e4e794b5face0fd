"""Account and contact services on a real SQLite file: names, lookups, relationship types."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crmcli.domain.models import ContactType
from crmcli.errors import Ambiguous, Duplicate, NotFound, ValidationError
from crmcli.services import accounts, opportunities
from crmcli.services.accounts import (
    add_account,
    add_contact,
    edit_account,
    edit_contact,
    get_contact,
    list_accounts,
    list_contacts,
    show_account,
)
from crmcli.store.db import Database

# -- accounts --------------------------------------------------------------------------------


def test_add_account_stores_cleaned_fields(db: Database) -> None:
    account = add_account(db, "  Acme Ltda ", industry="Bakery", website="https://acme.example")
    assert account.id > 0
    assert account.name == "Acme Ltda"
    assert account.industry == "Bakery"
    assert account.website == "https://acme.example"
    assert account.created_at is not None
    assert show_account(db, str(account.id)).account == account


@pytest.mark.parametrize("name", ["Acme Ltda", "acme ltda", "  ACME   ltda ", "Acme\tLtda"])
def test_duplicate_normalised_account_name_is_refused(db: Database, name: str) -> None:
    first = add_account(db, "Acme Ltda")
    with pytest.raises(Duplicate) as excinfo:
        add_account(db, name)
    assert "Acme Ltda" in str(excinfo.value)
    assert str(first.id) in str(excinfo.value)
    assert [a.id for a in list_accounts(db)] == [first.id]


def test_duplicate_unicode_account_name_is_refused(db: Database) -> None:
    add_account(db, "Açaí do Norte")
    with pytest.raises(Duplicate):
        add_account(db, "AÇAÍ DO NORTE")
    # accents never tell two companies apart (issue 14): the same name without them is refused
    with pytest.raises(Duplicate):
        add_account(db, "Acai do Norte")
    add_account(db, "Acaiá do Norte")  # another spelling is another company
    assert len(list_accounts(db)) == 2


def test_add_account_refuses_unknown_field_and_empty_name(db: Database) -> None:
    with pytest.raises(ValidationError, match="colour"):
        add_account(db, "Acme", colour="red")
    with pytest.raises(ValidationError):
        add_account(db, "   ")
    assert list_accounts(db) == []


def test_list_accounts_by_name_with_literal_search(db: Database) -> None:
    add_account(db, "Zeta 100% Corp")
    add_account(db, "alpha 100 Corp")
    add_account(db, "Ômega_Ltda")
    add_account(db, "OmegaX Ltda")
    names = [a.name for a in list_accounts(db)]
    assert sorted(names) == sorted(
        ["Zeta 100% Corp", "alpha 100 Corp", "Ômega_Ltda", "OmegaX Ltda"]
    )
    # by name, ignoring case
    ascii_names = [n for n in names if n.isascii()]
    assert ascii_names == ["alpha 100 Corp", "OmegaX Ltda", "Zeta 100% Corp"]
    assert [a.name for a in list_accounts(db, search="100%")] == ["Zeta 100% Corp"]
    assert [a.name for a in list_accounts(db, search="_")] == ["Ômega_Ltda"]
    assert [a.name for a in list_accounts(db, search="ÔMEGA_")] == ["Ômega_Ltda"]
    assert [a.name for a in list_accounts(db, search="omega")] == ["Ômega_Ltda", "OmegaX Ltda"]


def test_edit_account(db: Database) -> None:
    account = add_account(db, "Acme")
    edited = edit_account(db, "acme", name="Acme Ltda", phone="+55 11 5555-0000")
    assert (edited.id, edited.name, edited.phone) == (account.id, "Acme Ltda", "+55 11 5555-0000")
    # renaming to its own name in another case is fine
    assert edit_account(db, str(account.id), name="ACME LTDA").name == "ACME LTDA"


def test_edit_account_to_a_taken_name_is_refused(db: Database) -> None:
    add_account(db, "Acme Ltda")
    globex = add_account(db, "Globex")
    with pytest.raises(Duplicate):
        edit_account(db, "Globex", name="acme ltda")
    assert show_account(db, str(globex.id)).account.name == "Globex"


def test_edit_account_with_nothing_to_change(db: Database) -> None:
    add_account(db, "Acme")
    with pytest.raises(ValidationError, match="nothing to change"):
        edit_account(db, "Acme")


def test_ambiguous_prefix_lists_the_candidates(db: Database) -> None:
    ltda = add_account(db, "Acme Ltda")
    inc = add_account(db, "Acme Inc")
    add_account(db, "Globex")
    with pytest.raises(Ambiguous) as excinfo:
        show_account(db, "acme")
    message = str(excinfo.value)
    assert f"{ltda.id} Acme Ltda" in message
    assert f"{inc.id} Acme Inc" in message
    assert "Globex" not in message
    assert "\n" not in message


def test_unambiguous_prefix_and_exact_name_win(db: Database) -> None:
    acme = add_account(db, "Acme")
    ltda = add_account(db, "Acme Ltda")
    assert show_account(db, "ACME").account.id == acme.id  # exact beats prefix
    assert show_account(db, "acme l").account.id == ltda.id
    assert show_account(db, str(ltda.id)).account.id == ltda.id


def test_unknown_account_is_not_found(db: Database) -> None:
    add_account(db, "Acme")
    with pytest.raises(NotFound, match="Globex"):
        show_account(db, "Globex")
    with pytest.raises(NotFound, match="999"):
        show_account(db, "999")


def test_show_account_lists_its_contacts_and_deals(db: Database) -> None:
    add_account(db, "Acme")
    add_account(db, "Globex")
    ana = add_contact(db, "Ana", account="Acme").contact
    add_contact(db, "Bia", account="Globex")
    deal = opportunities.add_opportunity(
        db, "Acme deal", account="Acme", amount=Decimal("1.00")
    ).opportunity
    opportunities.add_opportunity(db, "Globex deal", account="Globex")
    detail = show_account(db, "acme")
    assert [c.id for c in detail.contacts] == [ana.id]
    assert [o.id for o in detail.opportunities] == [deal.id]


# -- contacts --------------------------------------------------------------------------------


def test_add_contact_creates_its_account_when_new(db: Database) -> None:
    added = add_contact(db, "Ana Souza", email="Ana@Acme.example", account="Acme Ltda")
    assert added.created_account is not None
    assert added.created_account.name == "Acme Ltda"
    assert added.contact.account_id == added.created_account.id
    assert added.contact.email == "ana@acme.example"
    assert added.contact.type is ContactType.PROSPECT
    again = add_contact(db, "Bia", account="ACME LTDA")
    assert again.created_account is None
    assert again.contact.account_id == added.created_account.id
    assert len(list_accounts(db)) == 1


def test_add_contact_without_account(db: Database) -> None:
    added = add_contact(db, "Solo")
    assert added.created_account is None
    assert added.contact.account_id is None


@pytest.mark.parametrize("kind", list(ContactType))
def test_every_contact_type_is_accepted(db: Database, kind: ContactType) -> None:
    contact = add_contact(db, "Ana", type_=f"  {kind.value.upper()} ").contact
    assert contact.type is kind
    assert add_contact(db, "Bia", type_=kind).contact.type is kind


def test_unknown_contact_type_lists_the_valid_ones(db: Database) -> None:
    with pytest.raises(ValidationError) as excinfo:
        add_contact(db, "Ana", type_="client", account="Acme")
    message = str(excinfo.value)
    assert "client" in message
    for kind in ContactType:
        assert kind.value in message
    assert list_contacts(db) == []
    assert list_accounts(db) == []


def test_list_contacts_by_type_and_account(db: Database) -> None:
    ana = add_contact(db, "Ana", type_="customer", account="Acme").contact
    bia = add_contact(db, "Bia", type_="supplier", account="Acme").contact
    caio = add_contact(db, "Caio", type_="customer", account="Globex").contact
    assert [c.id for c in list_contacts(db)] == [ana.id, bia.id, caio.id]
    assert [c.id for c in list_contacts(db, type_="CUSTOMER")] == [ana.id, caio.id]
    assert [c.id for c in list_contacts(db, account="acme")] == [ana.id, bia.id]
    assert [c.id for c in list_contacts(db, account="Acme", type_="customer")] == [ana.id]
    with pytest.raises(ValidationError):
        list_contacts(db, type_="friend")


def test_duplicate_contact_email_is_refused(db: Database) -> None:
    add_contact(db, "Ana", email="ana@acme.example")
    with pytest.raises(Duplicate, match=r"ana@acme\.example"):
        add_contact(db, "Ana Again", email="ANA@acme.example")
    assert len(list_contacts(db)) == 1


def test_get_contact_by_email_name_or_id(db: Database) -> None:
    ana = add_contact(db, "Ana Souza", email="ana@acme.example").contact
    assert get_contact(db, "ANA@ACME.EXAMPLE").id == ana.id
    assert get_contact(db, "ana souza").id == ana.id
    assert get_contact(db, "ana").id == ana.id
    assert get_contact(db, str(ana.id)).id == ana.id
    add_contact(db, "Ana Lima")
    with pytest.raises(Ambiguous):
        get_contact(db, "ana")
    with pytest.raises(NotFound):
        get_contact(db, "nobody@acme.example")


def test_edit_contact_type_account_and_email(db: Database) -> None:
    ana = add_contact(db, "Ana", email="ana@acme.example").contact
    add_contact(db, "Bia", email="bia@acme.example")
    changed = edit_contact(db, "ana", type_="partner", account="Globex", title="CTO")
    assert changed.created_account is not None
    assert changed.contact.type is ContactType.PARTNER
    assert changed.contact.account_id == changed.created_account.id
    assert changed.contact.title == "CTO"
    with pytest.raises(Duplicate):
        edit_contact(db, str(ana.id), email="BIA@acme.example")
    with pytest.raises(ValidationError):
        edit_contact(db, str(ana.id), type_="enemy")
    with pytest.raises(ValidationError, match="nothing to change"):
        edit_contact(db, str(ana.id))
    assert get_contact(db, str(ana.id)).email == "ana@acme.example"


def test_find_or_create_account_in_one_transaction(db: Database) -> None:
    with db.write() as uow:
        created = accounts.find_or_create_account(uow, "Initech")
        found = accounts.find_or_create_account(uow, "  INITECH ")
        uow.commit()
    assert created.created is True
    assert found.created is False
    assert found.account.id == created.account.id
