"""Opportunity services on a real SQLite file: add, edit, advance, win, lose, reopen, history."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal

import pytest

from crmcli.domain.models import Opportunity, OppStatus
from crmcli.errors import Ambiguous, InvalidTransition, NotFound, ValidationError
from crmcli.services import accounts, opportunities, stages
from crmcli.services.opportunities import (
    add_opportunity,
    advance_opportunity,
    edit_opportunity,
    lose_opportunity,
    reopen_opportunity,
    show_opportunity,
    win_opportunity,
)
from crmcli.store.db import Database

NEGOTIATION_PT = "Negociação e detalhamento"


def _deal(db: Database, name: str = "Acme – 50 licences", **fields: object) -> Opportunity:
    fields.setdefault("account", "Acme Ltda")
    fields.setdefault("amount", Decimal("15000.00"))
    return add_opportunity(db, name, **fields).opportunity  # type: ignore[arg-type]


def _ref(opp: Opportunity) -> str:
    return str(opp.id)


def _history(db: Database, opp: Opportunity) -> list[tuple[str | None, str, int]]:
    return [
        (h.stage, h.status.value, h.probability) for h in show_opportunity(db, _ref(opp)).history
    ]


# -- add -------------------------------------------------------------------------------------


def test_add_creates_the_account_when_new(db: Database) -> None:
    added = add_opportunity(db, "Acme – renewal", account="Acme Ltda", amount=Decimal("10.00"))
    assert added.created_account is not None
    assert added.created_account.name == "Acme Ltda"
    assert added.opportunity.account_id == added.created_account.id
    again = add_opportunity(db, "Acme – upsell", account="  ACME   ltda ")
    assert again.created_account is None
    assert again.opportunity.account_id == added.created_account.id
    assert [a.name for a in accounts.list_accounts(db)] == ["Acme Ltda"]


def test_add_defaults(db: Database) -> None:
    opp = _deal(db, close=date(2026, 12, 31))
    assert opp.stage == "Prospecting"
    assert opp.probability == 10
    assert opp.probability_manual is False
    assert opp.probability_source == "stage"
    assert opp.status is OppStatus.OPEN
    assert opp.amount == Decimal("15000.00")
    assert opp.expected_close == date(2026, 12, 31)
    assert opp.owner == "tester"
    assert show_opportunity(db, _ref(opp)).opportunity == opp


def test_add_without_amount_is_zero(db: Database) -> None:
    opp = add_opportunity(db, "Tiny", account="Acme").opportunity
    assert opp.amount == Decimal("0.00")


def test_add_with_stage_and_probability_marks_it_manual(db: Database) -> None:
    opp = _deal(db, stage="proposal", probability=35, owner="ana")
    assert opp.stage == "Proposal"
    assert opp.probability == 35
    assert opp.probability_manual is True
    assert opp.probability_source == "manual"
    assert opp.owner == "ana"


def test_add_with_stage_takes_its_default_probability(db: Database) -> None:
    opp = _deal(db, stage="Needs analysis")
    assert (opp.stage, opp.probability, opp.probability_manual) == ("Needs analysis", 40, False)


def test_add_with_unknown_stage_creates_no_account(db: Database) -> None:
    with pytest.raises(NotFound, match="Nope"):
        _deal(db, account="Brand New Co", stage="Nope")
    assert accounts.list_accounts(db) == []
    assert opportunities.list_opportunities(db) == []


def test_add_with_known_contact(db: Database) -> None:
    contact = accounts.add_contact(db, "Ana", email="ana@acme.example", account="Acme").contact
    opp = _deal(db, account="Acme", contact="ANA@acme.example")
    assert opp.contact_id == contact.id
    with pytest.raises(NotFound):
        _deal(db, account="Acme", contact="nobody@acme.example")


def test_find_deal_by_name_prefix_or_ambiguous(db: Database) -> None:
    one = _deal(db, "Acme renewal")
    _deal(db, "Acme upsell")
    _deal(db, "Globex pilot", account="Globex")
    assert show_opportunity(db, "globex").opportunity.name == "Globex pilot"
    assert show_opportunity(db, "ACME RENEWAL").opportunity.id == one.id
    with pytest.raises(Ambiguous) as excinfo:
        show_opportunity(db, "acme")
    assert "Acme renewal" in str(excinfo.value)
    assert "Acme upsell" in str(excinfo.value)
    with pytest.raises(NotFound):
        show_opportunity(db, "999")


def _ids(found: list[Opportunity]) -> list[int]:
    return [o.id for o in found]


def test_list_filters(db: Database) -> None:
    a = _deal(db, "A", owner="ana")
    b = _deal(db, "B", owner="bruno", stage="Proposal")
    c = _deal(db, "C", owner="Ana", account="Globex")
    win_opportunity(db, _ref(c))
    assert _ids(opportunities.list_opportunities(db)) == [a.id, b.id, c.id]
    assert _ids(opportunities.list_opportunities(db, stage="proposal")) == [b.id]
    assert _ids(opportunities.list_opportunities(db, status=OppStatus.WON)) == [c.id]
    assert _ids(opportunities.list_opportunities(db, owner="ANA")) == [a.id, c.id]
    assert _ids(opportunities.list_opportunities(db, account="globex")) == [c.id]


# -- advance ---------------------------------------------------------------------------------


def test_advance_to_next_stage_takes_its_default_probability(db: Database) -> None:
    opp = _deal(db)
    moved = advance_opportunity(db, _ref(opp))
    assert (moved.stage, moved.probability, moved.probability_manual) == (
        "Qualification",
        20,
        False,
    )
    moved = advance_opportunity(db, _ref(opp))
    assert (moved.stage, moved.probability) == ("Needs analysis", 40)
    assert show_opportunity(db, _ref(opp)).opportunity == moved


def test_advance_resets_a_manual_probability(db: Database) -> None:
    opp = _deal(db, probability=55)
    assert opp.probability_manual is True
    moved = advance_opportunity(db, _ref(opp))
    assert (moved.probability, moved.probability_manual) == (20, False)
    assert moved.probability_source == "stage"


def test_advance_with_probability_marks_it_manual(db: Database) -> None:
    opp = _deal(db)
    moved = advance_opportunity(db, _ref(opp), probability=33)
    assert (moved.stage, moved.probability, moved.probability_manual) == ("Qualification", 33, True)
    assert moved.probability_source == "manual"


def test_advance_to_a_named_stage(db: Database) -> None:
    opp = _deal(db)
    moved = advance_opportunity(db, _ref(opp), to="proposal")
    assert (moved.stage, moved.probability) == ("Proposal", 60)
    back = advance_opportunity(db, _ref(opp), to="Qualification")
    assert (back.stage, back.probability) == ("Qualification", 20)


def test_advance_to_a_unicode_stage_in_another_case(db: Database) -> None:
    stages.rename_stage(db, "Negotiation", NEGOTIATION_PT)
    opp = _deal(db)
    moved = advance_opportunity(db, _ref(opp), to="NEGOCIAÇÃO E DETALHAMENTO")
    assert moved.stage == NEGOTIATION_PT
    assert moved.probability == 80
    other = _deal(db, "Other")
    decomposed = unicodedata.normalize("NFD", "negociação e detalhamento")
    assert advance_opportunity(db, _ref(other), to=decomposed).stage == NEGOTIATION_PT
    third = _deal(db, "Third")
    assert advance_opportunity(db, _ref(third), to="negociação").stage == NEGOTIATION_PT


def test_advance_to_the_current_stage_is_refused(db: Database) -> None:
    opp = _deal(db)
    with pytest.raises(InvalidTransition, match="already in stage"):
        advance_opportunity(db, _ref(opp), to="Prospecting")
    assert len(_history(db, opp)) == 1


def test_advance_to_an_unknown_stage_lists_the_stages(db: Database) -> None:
    opp = _deal(db)
    with pytest.raises(NotFound) as excinfo:
        advance_opportunity(db, _ref(opp), to="Closing")
    assert "Prospecting" in str(excinfo.value)
    assert "Negotiation" in str(excinfo.value)


def test_advance_to_an_ambiguous_stage_prefix(db: Database) -> None:
    opp = _deal(db)
    with pytest.raises(Ambiguous) as excinfo:
        advance_opportunity(db, _ref(opp), to="pro")
    assert "Prospecting" in str(excinfo.value)
    assert "Proposal" in str(excinfo.value)


def test_advancing_past_the_last_stage_suggests_win(db: Database) -> None:
    opp = _deal(db, stage="Negotiation")
    with pytest.raises(InvalidTransition) as excinfo:
        advance_opportunity(db, _ref(opp))
    assert "opp win" in str(excinfo.value)
    after = show_opportunity(db, _ref(opp))
    assert after.opportunity.stage == "Negotiation"
    assert after.opportunity.status is OppStatus.OPEN
    assert len(after.history) == 1


def test_advance_follows_the_reordered_pipeline(db: Database) -> None:
    stages.move_stage(db, "Proposal", position=2)
    opp = _deal(db)
    assert advance_opportunity(db, _ref(opp)).stage == "Proposal"
    assert advance_opportunity(db, _ref(opp)).stage == "Qualification"


@pytest.mark.parametrize("close", ["win", "lose"])
def test_closed_deals_cannot_advance(db: Database, close: str) -> None:
    opp = _deal(db)
    if close == "win":
        win_opportunity(db, _ref(opp))
    else:
        lose_opportunity(db, _ref(opp), reason="price")
    with pytest.raises(InvalidTransition, match="reopen"):
        advance_opportunity(db, _ref(opp))
    with pytest.raises(InvalidTransition):
        advance_opportunity(db, _ref(opp), to="Proposal")
    assert show_opportunity(db, _ref(opp)).opportunity.stage == "Prospecting"
    assert len(_history(db, opp)) == 2


# -- win, lose, reopen -----------------------------------------------------------------------


def test_win_sets_probability_100(db: Database) -> None:
    opp = _deal(db, stage="Proposal", probability=70)
    won = win_opportunity(db, _ref(opp))
    assert won.status is OppStatus.WON
    assert won.probability == 100
    assert won.probability_source == "won"
    assert won.closed_at is not None
    assert won.amount == Decimal("15000.00")
    assert won.stage == "Proposal"


def test_win_with_final_amount(db: Database) -> None:
    opp = _deal(db)
    assert win_opportunity(db, _ref(opp), amount=Decimal("14250.75")).amount == Decimal("14250.75")


def test_win_twice_is_refused(db: Database) -> None:
    opp = _deal(db)
    win_opportunity(db, _ref(opp))
    with pytest.raises(InvalidTransition, match="won"):
        win_opportunity(db, _ref(opp))
    with pytest.raises(InvalidTransition):
        lose_opportunity(db, _ref(opp), reason="changed mind")


def test_lose_records_reason_and_competitor(db: Database) -> None:
    opp = _deal(db, stage="Proposal")
    lost = lose_opportunity(db, _ref(opp), reason=" Price too high ", competitor="Concorrente")
    assert lost.status is OppStatus.LOST
    assert lost.probability == 0
    assert lost.probability_source == "lost"
    assert lost.lost_reason == "Price too high"
    assert lost.competitor == "Concorrente"
    assert lost.closed_at is not None
    assert show_opportunity(db, _ref(opp)).opportunity == lost


def test_lose_without_competitor(db: Database) -> None:
    opp = _deal(db)
    lost = lose_opportunity(db, _ref(opp), reason="No budget")
    assert (lost.lost_reason, lost.competitor) == ("No budget", None)


def test_lose_needs_a_reason(db: Database) -> None:
    opp = _deal(db)
    with pytest.raises(ValidationError, match="reason"):
        lose_opportunity(db, _ref(opp), reason="  ")
    assert show_opportunity(db, _ref(opp)).opportunity.status is OppStatus.OPEN


def test_reopen_restores_the_stage_default(db: Database) -> None:
    opp = _deal(db, stage="Proposal", probability=35)
    lose_opportunity(db, _ref(opp), reason="Price", competitor="Rival")
    reopened = reopen_opportunity(db, _ref(opp))
    assert reopened.status is OppStatus.OPEN
    assert reopened.stage == "Proposal"
    assert reopened.probability == 60
    assert reopened.probability_manual is False
    assert reopened.probability_source == "stage"
    assert (reopened.lost_reason, reopened.competitor, reopened.closed_at) == (None, None, None)


def test_reopen_a_won_deal(db: Database) -> None:
    opp = _deal(db, stage="Negotiation")
    win_opportunity(db, _ref(opp))
    reopened = reopen_opportunity(db, _ref(opp))
    assert (reopened.status, reopened.stage, reopened.probability) == (
        OppStatus.OPEN,
        "Negotiation",
        80,
    )


def test_reopen_an_open_deal_is_refused(db: Database) -> None:
    opp = _deal(db)
    with pytest.raises(InvalidTransition, match="already open"):
        reopen_opportunity(db, _ref(opp))


def test_reopen_uses_the_stage_default_as_it_is_now(db: Database) -> None:
    opp = _deal(db, stage="Proposal")
    win_opportunity(db, _ref(opp))
    stages.set_stage_probability(db, "Proposal", 65)
    assert reopen_opportunity(db, _ref(opp)).probability == 65


# -- edit ------------------------------------------------------------------------------------


def test_edit_probability_is_manual_and_recorded(db: Database) -> None:
    opp = _deal(db)
    edited = edit_opportunity(db, _ref(opp), probability=45).opportunity
    assert (edited.probability, edited.probability_manual) == (45, True)
    assert _history(db, opp) == [("Prospecting", "open", 10), ("Prospecting", "open", 45)]


def test_edit_details_is_not_a_history_entry(db: Database) -> None:
    opp = _deal(db)
    edited = edit_opportunity(
        db,
        _ref(opp),
        name="Acme – 60 licences",
        amount=Decimal("18000.00"),
        close=date(2027, 1, 31),
    ).opportunity
    assert edited.name == "Acme – 60 licences"
    assert edited.amount == Decimal("18000.00")
    assert edited.expected_close == date(2027, 1, 31)
    assert len(_history(db, opp)) == 1


def test_edit_to_a_new_account_creates_it(db: Database) -> None:
    opp = _deal(db)
    changed = edit_opportunity(db, _ref(opp), account="Globex")
    assert changed.created_account is not None
    assert changed.opportunity.account_id == changed.created_account.id


def test_edit_probability_of_a_closed_deal_is_refused(db: Database) -> None:
    opp = _deal(db)
    win_opportunity(db, _ref(opp))
    with pytest.raises(InvalidTransition):
        edit_opportunity(db, _ref(opp), probability=50)
    assert show_opportunity(db, _ref(opp)).opportunity.probability == 100


def test_edit_with_nothing_to_change(db: Database) -> None:
    opp = _deal(db)
    with pytest.raises(ValidationError, match="nothing to change"):
        edit_opportunity(db, _ref(opp))


# -- history ---------------------------------------------------------------------------------


def test_history_has_one_entry_per_change_oldest_first(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    times = [datetime(2026, 3, day, 9, 0) for day in range(1, 8)]

    def at(moment: datetime) -> None:
        monkeypatch.setenv("CRM_NOW", moment.isoformat())

    at(times[0])
    opp = _deal(db)
    at(times[1])
    advance_opportunity(db, _ref(opp))
    at(times[2])
    advance_opportunity(db, _ref(opp), to="Proposal", probability=65)
    at(times[3])
    with pytest.raises(InvalidTransition):
        reopen_opportunity(db, _ref(opp))  # refused: no entry
    lose_opportunity(db, _ref(opp), reason="Price", competitor="Rival")
    at(times[4])
    reopen_opportunity(db, _ref(opp))
    at(times[5])
    advance_opportunity(db, _ref(opp))
    at(times[6])
    win_opportunity(db, _ref(opp))

    history = show_opportunity(db, _ref(opp)).history
    assert [(h.stage, h.status.value, h.probability) for h in history] == [
        ("Prospecting", "open", 10),
        ("Qualification", "open", 20),
        ("Proposal", "open", 65),
        ("Proposal", "lost", 0),
        ("Proposal", "open", 60),
        ("Negotiation", "open", 80),
        ("Negotiation", "won", 100),
    ]
    assert [h.at for h in history] == times


def test_history_with_equal_times_keeps_insertion_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_NOW", "2026-03-01T09:00:00")
    opp = _deal(db)
    for _ in range(4):
        advance_opportunity(db, _ref(opp))
    assert [s for s, _, _ in _history(db, opp)] == [
        "Prospecting",
        "Qualification",
        "Needs analysis",
        "Proposal",
        "Negotiation",
    ]


def test_history_follows_a_stage_rename(db: Database) -> None:
    opp = _deal(db)
    advance_opportunity(db, _ref(opp), to="Negotiation")
    stages.rename_stage(db, "Negotiation", NEGOTIATION_PT)
    assert _history(db, opp)[-1][0] == NEGOTIATION_PT


def test_history_of_each_deal_is_its_own(db: Database) -> None:
    one = _deal(db, "One")
    two = _deal(db, "Two")
    advance_opportunity(db, _ref(one))
    assert len(_history(db, one)) == 2
    assert len(_history(db, two)) == 1
