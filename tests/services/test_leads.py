"""Lead services on a real SQLite file: add, list, edit, qualify, disqualify, archive, convert."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

import pytest

from crmcli.domain.models import ContactType, Lead, LeadStatus, OppStatus
from crmcli.errors import CrmError, Duplicate, InvalidTransition, NotFound, ValidationError
from crmcli.services import accounts, leads, opportunities, stages
from crmcli.services.leads import ConvertOptions
from crmcli.store.db import Database

BUDGET = Decimal("12500.50")
TIMELINE = date(2026, 9, 30)


def _qualified(
    db: Database,
    name: str = "João Silva",
    *,
    email: str | None = "joao@acme.example",
    company: str | None = "Acme Ltda",
    **fields: object,
) -> Lead:
    lead = leads.add_lead(
        db,
        name,
        email=email,
        company=company,
        budget=BUDGET,
        timeline=TIMELINE,
        **fields,  # type: ignore[arg-type]
    )
    return leads.qualify_lead(db, lead.id)


def _counts(db: Database) -> dict[str, int]:
    """Rows as the list functions see them."""
    return {
        "accounts": len(accounts.list_accounts(db)),
        "contacts": len(accounts.list_contacts(db)),
        "opportunities": len(opportunities.list_opportunities(db)),
        "leads": len(leads.list_leads(db, include_archived=True)),
    }


def _names(found: list[Lead]) -> list[str]:
    return [lead.name for lead in found]


# -- add -------------------------------------------------------------------------------------


def test_add_lead_stores_cleaned_fields(db: Database) -> None:
    lead = leads.add_lead(
        db,
        "  Maria Oliveira ",
        email="  Maria@Horizonte.COM.br ",
        company="Construtora Horizonte",
        source="ExpoVendas",
        budget=Decimal("96000.00"),
        timeline=date(2026, 10, 1),
    )
    assert lead.id > 0
    assert lead.name == "Maria Oliveira"
    assert lead.email == "maria@horizonte.com.br"
    assert lead.status is LeadStatus.NEW
    assert lead.budget == Decimal("96000.00")
    assert lead.timeline == date(2026, 10, 1)
    assert lead.owner == "tester"  # CRM_OWNER from conftest
    assert leads.get_lead(db, lead.id) == lead


def test_budget_is_exact(db: Database) -> None:
    lead = leads.add_lead(db, "Big", budget=Decimal("9999999999.99"))
    stored = leads.get_lead(db, lead.id).budget
    assert stored == Decimal("9999999999.99")
    assert str(stored) == "9999999999.99"


def test_add_lead_refuses_empty_name_and_bad_email(db: Database) -> None:
    with pytest.raises(ValidationError):
        leads.add_lead(db, "   ")
    with pytest.raises(ValidationError, match="e-mail"):
        leads.add_lead(db, "Ana", email="not-an-address")
    assert leads.list_leads(db) == []


def test_duplicate_email_refused_naming_the_other_lead(db: Database) -> None:
    first = leads.add_lead(db, "Ana Souza", email="ana@example.com")
    with pytest.raises(Duplicate) as excinfo:
        leads.add_lead(db, "Someone Else", email="  ANA@Example.COM ")
    message = str(excinfo.value)
    assert f"lead {first.id}" in message
    assert "Ana Souza" in message
    assert "ana@example.com" in message
    assert _names(leads.list_leads(db)) == ["Ana Souza"]


def test_duplicate_email_refused_even_for_an_archived_lead(db: Database) -> None:
    first = leads.add_lead(db, "Ana", email="ana@example.com")
    leads.archive_lead(db, first.id)
    with pytest.raises(Duplicate, match=f"lead {first.id}"):
        leads.add_lead(db, "Ana again", email="ana@example.com")


def test_leads_without_email_are_not_duplicates(db: Database) -> None:
    leads.add_lead(db, "No Mail 1")
    leads.add_lead(db, "No Mail 2", email="")
    assert len(leads.list_leads(db)) == 2


def test_edit_to_another_leads_email_is_refused(db: Database) -> None:
    ana = leads.add_lead(db, "Ana", email="ana@example.com")
    bia = leads.add_lead(db, "Bia", email="bia@example.com")
    with pytest.raises(Duplicate) as excinfo:
        leads.edit_lead(db, bia.id, email="ANA@example.com")
    assert f"lead {ana.id}" in str(excinfo.value)
    assert leads.get_lead(db, bia.id).email == "bia@example.com"
    # the lead's own address in another case is not a clash
    assert leads.edit_lead(db, ana.id, email="Ana@Example.com").email == "ana@example.com"


def test_edit_lead_changes_details_and_clears_with_empty_string(db: Database) -> None:
    lead = leads.add_lead(db, "Ana", phone="+55 11 5555-0000", company="Acme")
    edited = leads.edit_lead(db, lead.id, phone="", company="Globex", title="CFO")
    assert edited.phone is None
    assert edited.company == "Globex"
    assert edited.title == "CFO"
    assert _names(leads.list_leads(db, search="globex")) == ["Ana"]
    assert leads.list_leads(db, search="acme") == []


def test_edit_lead_with_nothing_to_change_is_refused(db: Database) -> None:
    lead = leads.add_lead(db, "Ana")
    with pytest.raises(ValidationError, match="nothing to change"):
        leads.edit_lead(db, lead.id)


def test_edit_lead_cannot_change_status_or_links(db: Database) -> None:
    # Regression: edit_lead used to write any keyword, bypassing the transition rules.
    lead = leads.add_lead(db, "Ana")
    with pytest.raises(ValidationError, match="status"):
        leads.edit_lead(db, lead.id, status="converted")
    with pytest.raises(ValidationError, match="account_id"):
        leads.edit_lead(db, lead.id, account_id=1)
    stored = leads.get_lead(db, lead.id)
    assert stored.status is LeadStatus.NEW
    assert stored.account_id is None


def test_unknown_lead_is_not_found(db: Database) -> None:
    with pytest.raises(NotFound, match="999"):
        leads.get_lead(db, 999)
    with pytest.raises(NotFound):
        leads.qualify_lead(db, 999)
    with pytest.raises(NotFound):
        leads.convert_lead(db, 999)


# -- list ------------------------------------------------------------------------------------


@pytest.fixture
def many(db: Database) -> Database:
    """Leads whose names, e-mails and companies hold LIKE wildcards, quotes and accents."""
    leads.add_lead(
        db, "João Silva", email="joao@paoquente.com.br", company="Pão Quente", source="Expo"
    )
    leads.add_lead(db, "Joao Sem Acento", email="joao2@example.com", source="Website")
    leads.add_lead(db, "Discount Guy", company="100% Orgânico", source="expo")
    leads.add_lead(db, "Plain Guy", company="100 Orgânico", source="Website")
    leads.add_lead(db, "Ana_Maria", email="ana_maria@example.com")
    leads.add_lead(db, "AnaXMaria", email="anaxmaria@example.com")
    leads.add_lead(db, "James O'Brien", email="jobrien@contoso.example", company="Contoso")
    leads.add_lead(db, "Back\\slash", company="A\\B Corp")
    leads.add_lead(db, "AB Corp Person", company="AB Corp")
    return db


def test_list_is_oldest_first(many: Database) -> None:
    assert _names(leads.list_leads(many))[:2] == ["João Silva", "Joao Sem Acento"]
    assert len(leads.list_leads(many)) == 9


def test_search_matches_name_email_and_company(many: Database) -> None:
    assert _names(leads.list_leads(many, search="silva")) == ["João Silva"]
    assert _names(leads.list_leads(many, search="PAOQUENTE.com")) == ["João Silva"]
    assert _names(leads.list_leads(many, search="pão q")) == ["João Silva"]


def test_search_percent_is_literal(many: Database) -> None:
    assert _names(leads.list_leads(many, search="100%")) == ["Discount Guy"]
    assert _names(leads.list_leads(many, search="%")) == ["Discount Guy"]


def test_search_underscore_is_literal(many: Database) -> None:
    assert _names(leads.list_leads(many, search="ana_")) == ["Ana_Maria"]
    assert _names(leads.list_leads(many, search="_")) == ["Ana_Maria"]


def test_search_quote_is_literal(many: Database) -> None:
    assert _names(leads.list_leads(many, search="O'Brien")) == ["James O'Brien"]
    assert _names(leads.list_leads(many, search="'")) == ["James O'Brien"]
    assert leads.list_leads(many, search="'; DROP TABLE lead; --") == []
    assert len(leads.list_leads(many)) == 9


def test_search_backslash_is_literal(many: Database) -> None:
    assert _names(leads.list_leads(many, search="a\\b")) == ["Back\\slash"]


def test_search_folds_unicode_case_and_accents(many: Database) -> None:
    both = ["João Silva", "Joao Sem Acento"]  # accents never decide a match (issue 14)
    assert _names(leads.list_leads(many, search="JOÃO")) == both
    assert _names(leads.list_leads(many, search="joao")) == both
    assert _names(leads.list_leads(many, search="ORGÂNICO")) == ["Discount Guy", "Plain Guy"]


def test_search_in_decomposed_form_finds_composed_text(many: Database) -> None:
    decomposed = unicodedata.normalize("NFD", "JOÃO")
    assert decomposed != "JOÃO"
    assert _names(leads.list_leads(many, search=decomposed)) == ["João Silva", "Joao Sem Acento"]


def test_search_casefold_sharp_s(db: Database) -> None:
    leads.add_lead(db, "Herr Groß", company="Straße GmbH")
    leads.add_lead(db, "Herr Klein", company="Strasbourg SA")
    assert _names(leads.list_leads(db, search="STRASSE")) == ["Herr Groß"]
    assert _names(leads.list_leads(db, search="GROSS")) == ["Herr Groß"]


def test_filter_by_status(many: Database) -> None:
    lead = leads.list_leads(many, search="o'brien")[0]
    leads.mark_contacted(many, lead.id)
    assert _names(leads.list_leads(many, status=LeadStatus.CONTACTED)) == ["James O'Brien"]
    assert len(leads.list_leads(many, status=LeadStatus.NEW)) == 8
    assert leads.list_leads(many, status=LeadStatus.QUALIFIED) == []


def test_filter_by_source_ignores_ascii_case(many: Database) -> None:
    assert _names(leads.list_leads(many, source="EXPO")) == ["João Silva", "Discount Guy"]
    assert _names(leads.list_leads(many, source="website")) == ["Joao Sem Acento", "Plain Guy"]
    assert leads.list_leads(many, source="Exp") == []


def test_filter_by_source_with_accented_capitals(db: Database) -> None:
    # Regression: the source was compared with SQL lower(), which is ASCII-only in SQLite, so
    # a source with an upper-case accented letter did not even match itself. Since issue 14
    # accents are ignored too: the same fair written with or without them is one source.
    leads.add_lead(db, "Ana", source="FEIRA SÃO PAULO")
    leads.add_lead(db, "Bia", source="Feira Sao Paulo")
    leads.add_lead(db, "Cris", source="Feira Rio")
    both = ["Ana", "Bia"]
    assert _names(leads.list_leads(db, source="FEIRA SÃO PAULO")) == both
    assert _names(leads.list_leads(db, source="Feira São Paulo")) == both
    assert (
        _names(leads.list_leads(db, source=unicodedata.normalize("NFD", "feira são paulo"))) == both
    )
    assert _names(leads.list_leads(db, source="feira rio")) == ["Cris"]


def test_source_filter_follows_an_edit(db: Database) -> None:
    lead = leads.add_lead(db, "Ana", source="Website")
    leads.edit_lead(db, lead.id, source="EXPOSIÇÃO")
    assert _names(leads.list_leads(db, source="exposição")) == ["Ana"]
    assert leads.list_leads(db, source="website") == []


def test_filters_combine(many: Database) -> None:
    assert _names(leads.list_leads(many, source="website", search="orgânico")) == ["Plain Guy"]
    assert leads.list_leads(many, source="expo", status=LeadStatus.CONTACTED) == []


def test_archived_hidden_unless_asked_for(many: Database) -> None:
    lead = leads.list_leads(many, search="discount")[0]
    archived = leads.archive_lead(many, lead.id)
    assert archived.status is LeadStatus.ARCHIVED
    assert "Discount Guy" not in _names(leads.list_leads(many))
    assert leads.list_leads(many, search="discount") == []
    assert "Discount Guy" in _names(leads.list_leads(many, include_archived=True))
    assert _names(leads.list_leads(many, status=LeadStatus.ARCHIVED)) == ["Discount Guy"]
    # archived, not deleted
    assert leads.get_lead(many, lead.id).status is LeadStatus.ARCHIVED


def test_list_limit(many: Database) -> None:
    assert len(leads.list_leads(many, limit=3)) == 3


# -- status changes --------------------------------------------------------------------------


def test_mark_contacted_once(db: Database) -> None:
    lead = leads.add_lead(db, "Ana")
    assert leads.mark_contacted(db, lead.id).status is LeadStatus.CONTACTED
    with pytest.raises(InvalidTransition):
        leads.mark_contacted(db, lead.id)
    assert leads.get_lead(db, lead.id).status is LeadStatus.CONTACTED


def test_qualify_without_budget_names_budget(db: Database) -> None:
    lead = leads.add_lead(db, "Ana", timeline=TIMELINE)
    with pytest.raises(ValidationError) as excinfo:
        leads.qualify_lead(db, lead.id)
    assert "budget" in str(excinfo.value)
    assert "timeline" not in str(excinfo.value)
    assert leads.get_lead(db, lead.id).status is LeadStatus.NEW


def test_qualify_without_timeline_names_timeline(db: Database) -> None:
    lead = leads.add_lead(db, "Ana", budget=BUDGET)
    with pytest.raises(ValidationError) as excinfo:
        leads.qualify_lead(db, lead.id)
    assert "timeline" in str(excinfo.value)
    assert "budget" not in str(excinfo.value)


def test_qualify_without_either_names_both_and_writes_nothing(db: Database) -> None:
    lead = leads.add_lead(db, "Ana")
    leads.mark_contacted(db, lead.id)
    with pytest.raises(ValidationError) as excinfo:
        leads.qualify_lead(db, lead.id, budget=BUDGET)
    assert "timeline" in str(excinfo.value)
    after = leads.get_lead(db, lead.id)
    assert after.status is LeadStatus.CONTACTED
    assert after.budget is None  # the budget of the refused call was not kept


def test_qualify_can_supply_budget_and_timeline(db: Database) -> None:
    lead = leads.add_lead(db, "Ana")
    qualified = leads.qualify_lead(db, lead.id, budget=BUDGET, timeline=TIMELINE)
    assert qualified.status is LeadStatus.QUALIFIED
    assert qualified.budget == BUDGET
    assert qualified.timeline == TIMELINE
    assert leads.get_lead(db, lead.id) == qualified


def test_qualify_can_supply_the_missing_half(db: Database) -> None:
    lead = leads.add_lead(db, "Ana", budget=BUDGET)
    qualified = leads.qualify_lead(db, lead.id, timeline=TIMELINE)
    assert qualified.status is LeadStatus.QUALIFIED
    assert (qualified.budget, qualified.timeline) == (BUDGET, TIMELINE)


def test_qualify_twice_is_refused(db: Database) -> None:
    lead = _qualified(db)
    with pytest.raises(InvalidTransition, match="already qualified"):
        leads.qualify_lead(db, lead.id)


def test_disqualify_records_the_reason(db: Database) -> None:
    lead = leads.add_lead(db, "Ana")
    done = leads.disqualify_lead(db, lead.id, "  No budget this year ")
    assert done.status is LeadStatus.DISQUALIFIED
    assert done.disqualify_reason == "No budget this year"
    assert leads.get_lead(db, lead.id).disqualify_reason == "No budget this year"


def test_disqualify_needs_a_reason(db: Database) -> None:
    lead = leads.add_lead(db, "Ana")
    with pytest.raises(ValidationError, match="reason"):
        leads.disqualify_lead(db, lead.id, "   ")
    assert leads.get_lead(db, lead.id).status is LeadStatus.NEW


def test_disqualified_lead_can_be_archived_but_not_qualified(db: Database) -> None:
    lead = leads.add_lead(db, "Ana", budget=BUDGET, timeline=TIMELINE)
    leads.disqualify_lead(db, lead.id, "wrong market")
    with pytest.raises(InvalidTransition):
        leads.qualify_lead(db, lead.id)
    assert leads.archive_lead(db, lead.id).status is LeadStatus.ARCHIVED


def test_archive_twice_is_refused(db: Database) -> None:
    lead = leads.add_lead(db, "Ana")
    leads.archive_lead(db, lead.id)
    with pytest.raises(InvalidTransition):
        leads.archive_lead(db, lead.id)


def test_delete_removes_the_lead(db: Database) -> None:
    lead = leads.add_lead(db, "Ana", email="ana@example.com")
    assert leads.delete_lead(db, lead.id).id == lead.id
    with pytest.raises(NotFound):
        leads.get_lead(db, lead.id)
    # its e-mail is free again
    assert leads.add_lead(db, "Ana 2", email="ana@example.com").email == "ana@example.com"


# -- convert ---------------------------------------------------------------------------------


def test_convert_creates_contact_account_and_opportunity(db: Database) -> None:
    lead = _qualified(db, phone="+55 11 5555-0101", title="Sócio", owner="ana")
    done = leads.convert_lead(db, lead.id)
    assert done.dry_run is False
    assert done.account is not None
    assert done.contact is not None
    assert done.opportunity is not None
    account, contact, opp = done.account, done.contact, done.opportunity

    assert account.name == "Acme Ltda"
    assert contact.name == "João Silva"
    assert contact.email == "joao@acme.example"
    assert contact.phone == "+55 11 5555-0101"
    assert contact.title == "Sócio"
    assert contact.account_id == account.id
    assert contact.type is ContactType.PROSPECT

    assert opp.account_id == account.id
    assert opp.contact_id == contact.id
    assert opp.amount == BUDGET
    assert opp.expected_close == TIMELINE
    assert opp.stage == "Prospecting"
    assert opp.probability == 10
    assert opp.probability_manual is False
    assert opp.status is OppStatus.OPEN
    assert opp.owner == "ana"
    assert opp.lead_id == lead.id
    assert "Acme Ltda" in opp.name
    assert "João Silva" in opp.name

    stored = leads.get_lead(db, lead.id)
    assert stored.status is LeadStatus.CONVERTED
    assert (stored.contact_id, stored.account_id, stored.opportunity_id) == (
        contact.id,
        account.id,
        opp.id,
    )
    assert done.lead == stored
    assert _counts(db) == {"accounts": 1, "contacts": 1, "opportunities": 1, "leads": 1}
    history = opportunities.show_opportunity(db, str(opp.id)).history
    assert [(h.stage, h.status) for h in history] == [("Prospecting", OppStatus.OPEN)]


def test_convert_options_override_defaults(db: Database) -> None:
    lead = _qualified(db)
    done = leads.convert_lead(
        db,
        lead.id,
        ConvertOptions(
            account="Acme Holding",
            opportunity="Acme – 50 licences",
            amount=Decimal("777.77"),
            stage="PROPOSAL",
        ),
    )
    assert done.account is not None
    assert done.opportunity is not None
    assert done.account.name == "Acme Holding"
    assert done.opportunity.name == "Acme – 50 licences"
    assert done.opportunity.amount == Decimal("777.77")
    assert done.opportunity.stage == "Proposal"
    assert done.opportunity.probability == 60
    assert done.opportunity.expected_close == TIMELINE


def test_convert_reuses_account_by_normalised_name(db: Database) -> None:
    existing = accounts.add_account(db, "Acme Ltda")
    lead = _qualified(db, company="  ACME   ltda ")
    done = leads.convert_lead(db, lead.id)
    assert done.account is not None
    assert done.account.id == existing.id
    assert done.account.name == "Acme Ltda"
    assert done.plan.account.action == "reuse"
    assert [a.id for a in accounts.list_accounts(db)] == [existing.id]


def test_convert_reuses_account_named_in_options(db: Database) -> None:
    existing = accounts.add_account(db, "Açaí do Norte")
    lead = _qualified(db, company="Something Else")
    done = leads.convert_lead(db, lead.id, ConvertOptions(account="AÇAÍ DO NORTE"))
    assert done.account is not None
    assert done.account.id == existing.id
    assert len(accounts.list_accounts(db)) == 1


def test_convert_reuses_contact_by_email(db: Database) -> None:
    added = accounts.add_contact(
        db, "J. Silva", email="JOAO@acme.example", account="Acme Ltda", type_="customer"
    )
    lead = _qualified(db)
    done = leads.convert_lead(db, lead.id)
    assert done.contact is not None
    assert done.contact.id == added.contact.id
    assert done.contact.name == "J. Silva"
    assert done.contact.type is ContactType.CUSTOMER
    assert done.plan.contact.action == "reuse"
    assert len(accounts.list_contacts(db)) == 1
    assert len(accounts.list_accounts(db)) == 1
    assert leads.get_lead(db, lead.id).contact_id == added.contact.id


def test_reused_contact_without_account_is_linked_to_it(db: Database) -> None:
    added = accounts.add_contact(db, "J. Silva", email="joao@acme.example")
    assert added.contact.account_id is None
    lead = _qualified(db)
    done = leads.convert_lead(db, lead.id)
    assert done.account is not None
    assert accounts.get_contact(db, str(added.contact.id)).account_id == done.account.id


def test_convert_without_opportunity(db: Database) -> None:
    lead = _qualified(db)
    done = leads.convert_lead(db, lead.id, ConvertOptions(no_opportunity=True))
    assert done.opportunity is None
    assert done.plan.opportunity is None
    assert done.contact is not None
    assert done.account is not None
    stored = leads.get_lead(db, lead.id)
    assert stored.status is LeadStatus.CONVERTED
    assert stored.opportunity_id is None
    assert stored.contact_id == done.contact.id
    assert _counts(db) == {"accounts": 1, "contacts": 1, "opportunities": 0, "leads": 1}


def test_dry_run_writes_nothing_and_reports_creates(db: Database) -> None:
    lead = _qualified(db)
    before = _counts(db)
    done = leads.convert_lead(db, lead.id, dry_run=True)
    assert _counts(db) == before
    assert done.dry_run is True
    assert (done.account, done.contact, done.opportunity) == (None, None, None)
    assert leads.get_lead(db, lead.id).status is LeadStatus.QUALIFIED
    plan = done.plan
    assert (plan.account.action, plan.account.name, plan.account.id) == (
        "create",
        "Acme Ltda",
        None,
    )
    assert (plan.contact.action, plan.contact.name, plan.contact.id) == (
        "create",
        "João Silva",
        None,
    )
    assert plan.opportunity is not None
    assert plan.opportunity.amount == BUDGET
    assert plan.opportunity.expected_close == TIMELINE
    assert plan.opportunity.stage == "Prospecting"
    assert plan.opportunity.probability == 10


def test_dry_run_reports_reuse(db: Database) -> None:
    account = accounts.add_account(db, "Acme Ltda")
    contact = accounts.add_contact(db, "J. Silva", email="joao@acme.example").contact
    lead = _qualified(db, company="acme ltda")
    before = _counts(db)
    plan = leads.convert_lead(db, lead.id, ConvertOptions(no_opportunity=True), dry_run=True).plan
    assert _counts(db) == before
    assert (plan.account.action, plan.account.id) == ("reuse", account.id)
    assert (plan.contact.action, plan.contact.id) == ("reuse", contact.id)
    assert plan.opportunity is None
    # the dry run matches what the real run then does
    done = leads.convert_lead(db, lead.id, ConvertOptions(no_opportunity=True))
    assert done.account is not None
    assert done.contact is not None
    assert (done.account.id, done.contact.id) == (account.id, contact.id)


def test_dry_run_refuses_what_the_real_run_refuses(db: Database) -> None:
    lead = leads.add_lead(db, "Ana", company="Acme")
    with pytest.raises(InvalidTransition, match="qualify it first"):
        leads.convert_lead(db, lead.id, dry_run=True)


def test_unqualified_lead_cannot_be_converted(db: Database) -> None:
    lead = leads.add_lead(db, "Ana", company="Acme", budget=BUDGET, timeline=TIMELINE)
    leads.mark_contacted(db, lead.id)
    with pytest.raises(InvalidTransition, match="qualify it first"):
        leads.convert_lead(db, lead.id)
    assert _counts(db) == {"accounts": 0, "contacts": 0, "opportunities": 0, "leads": 1}


def test_lead_cannot_be_converted_twice(db: Database) -> None:
    lead = _qualified(db)
    leads.convert_lead(db, lead.id)
    before = _counts(db)
    with pytest.raises(InvalidTransition, match="already converted"):
        leads.convert_lead(db, lead.id)
    with pytest.raises(InvalidTransition, match="already converted"):
        leads.convert_lead(db, lead.id, dry_run=True)
    assert _counts(db) == before


def test_converted_lead_cannot_be_archived_or_deleted(db: Database) -> None:
    lead = _qualified(db)
    leads.convert_lead(db, lead.id)
    with pytest.raises(InvalidTransition):
        leads.archive_lead(db, lead.id)
    with pytest.raises(InvalidTransition, match="converted"):
        leads.delete_lead(db, lead.id)
    assert leads.get_lead(db, lead.id).status is LeadStatus.CONVERTED


def test_convert_needs_a_company_or_account(db: Database) -> None:
    lead = _qualified(db, company=None)
    with pytest.raises(ValidationError, match="--account"):
        leads.convert_lead(db, lead.id)
    done = leads.convert_lead(db, lead.id, ConvertOptions(account="Freelance"))
    assert done.account is not None
    assert done.account.name == "Freelance"


def test_convert_with_unknown_stage_leaves_nothing_behind(db: Database) -> None:
    lead = _qualified(db)
    with pytest.raises(NotFound, match="Nope"):
        leads.convert_lead(db, lead.id, ConvertOptions(stage="Nope"))
    assert _counts(db) == {"accounts": 0, "contacts": 0, "opportunities": 0, "leads": 1}
    assert leads.get_lead(db, lead.id).status is LeadStatus.QUALIFIED


def test_convert_failing_after_account_and_contact_rolls_them_back(db: Database) -> None:
    # A negative amount gets past the planning step and fails only on the opportunity insert,
    # after the account and the contact were written in the same transaction.
    lead = _qualified(db)
    with pytest.raises(CrmError):
        leads.convert_lead(db, lead.id, ConvertOptions(amount=Decimal("-1.00")))
    assert _counts(db) == {"accounts": 0, "contacts": 0, "opportunities": 0, "leads": 1}
    stored = leads.get_lead(db, lead.id)
    assert stored.status is LeadStatus.QUALIFIED
    assert (stored.contact_id, stored.account_id, stored.opportunity_id) == (None, None, None)
    assert db.problems() == []


def test_convert_with_empty_pipeline_needs_no_opportunity(db: Database) -> None:
    lead = _qualified(db)
    with db.write() as uow:
        for stage in uow.stages.all():
            uow.stages.delete(stage.id)
        uow.commit()
    assert stages.list_stages(db) == []
    with pytest.raises(ValidationError, match="no stages"):
        leads.convert_lead(db, lead.id)
    assert _counts(db)["accounts"] == 0
    done = leads.convert_lead(db, lead.id, ConvertOptions(no_opportunity=True))
    assert done.opportunity is None


def test_two_leads_at_one_company_share_the_account(db: Database) -> None:
    first = _qualified(db, "Ana", email="ana@acme.example", company="Acme Ltda")
    second = _qualified(db, "Bia", email="bia@acme.example", company="ACME LTDA")
    one = leads.convert_lead(db, first.id)
    two = leads.convert_lead(db, second.id)
    assert one.account is not None
    assert two.account is not None
    assert one.account.id == two.account.id
    assert two.plan.account.action == "reuse"
    assert _counts(db) == {"accounts": 1, "contacts": 2, "opportunities": 2, "leads": 2}
