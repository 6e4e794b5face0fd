"""The forms `crm … edit REF` opens in `$EDITOR`: a record as it is now, read in one read-only
unit of work. Saving goes through the same edit service as the option-based edit."""

from __future__ import annotations

from crmcli.domain.forms import Form, account_form, contact_form, lead_form, opp_form
from crmcli.services.accounts import find_account, find_contact
from crmcli.store.db import Database


def lead_editing(db: Database, ref: int | str) -> Form:
    """The form of the lead `ref` names (its id or e-mail)."""
    with db.read() as uow:
        return lead_form(uow.leads.find(ref))


def account_editing(db: Database, ref: str) -> Form:
    """The form of the account `ref` names."""
    with db.read() as uow:
        return account_form(find_account(uow, ref))


def contact_editing(db: Database, ref: str) -> Form:
    """The form of the contact `ref` names, with its account's name."""
    with db.read() as uow:
        contact = find_contact(uow, ref)
        account = uow.accounts.get(contact.account_id) if contact.account_id else None
        return contact_form(contact, account.name if account else None)


def opp_editing(db: Database, ref: str) -> Form:
    """The form of the deal `ref` names, with its account's and contact's names and the
    pipeline's stages."""
    with db.read() as uow:
        opp = uow.opps.find(ref)
        account = uow.accounts.get(opp.account_id)
        contact = uow.contacts.get(opp.contact_id) if opp.contact_id else None
        return opp_form(
            opp,
            account_name=account.name,
            contact_name=contact.name if contact else None,
            stages=[stage.name for stage in uow.stages.all()],
        )
