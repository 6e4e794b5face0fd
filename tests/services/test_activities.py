"""Activity services on a real SQLite file: links, due buckets, done, edit, cascade, agenda."""

from __future__ import annotations

from datetime import datetime

import pytest

from crmcli.domain.models import Activity, ActivityType
from crmcli.domain.rules import activity_bucket
from crmcli.errors import InvalidTransition, NotFound, UsageError, ValidationError
from crmcli.services import accounts, leads
from crmcli.services.activities import (
    ActivityList,
    add_activity,
    complete_activity,
    delete_activity,
    edit_activity,
    get_activity,
    list_activities,
    local_now,
    parse_due,
    show_lead_with_activities,
    show_opportunity_with_activities,
)
from crmcli.services.agenda import agenda
from crmcli.services.opportunities import add_opportunity, lose_opportunity, win_opportunity
from crmcli.store.db import Database

NOW = datetime(2026, 12, 15, 10, 0)


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Pin "now" to Tuesday 2026-12-15 10:00 (local) through CRM_NOW."""
    monkeypatch.setenv("CRM_NOW", NOW.isoformat())
    return NOW


def _ids(listed: ActivityList | list[Activity]) -> list[int]:
    found = listed.activities if isinstance(listed, ActivityList) else listed
    return [a.id for a in found]


@pytest.fixture
def world(db: Database, pinned: datetime) -> dict[str, int]:
    """A lead, a contact at an account, two open deals, one won deal, and a hand-made set of
    activities around NOW (ids in the order added)."""
    lead = leads.add_lead(db, "João Silva").id
    contact = accounts.add_contact(db, "Maria Conceição", account="AgroVale Ltda").contact
    assert contact.account_id is not None
    deal = add_opportunity(db, "AgroVale – irrigação", account="AgroVale Ltda").opportunity.id
    idle = add_opportunity(db, "Northwind – sensores", account="Northwind").opportunity.id
    won = add_opportunity(db, "Contoso – piloto", account="Contoso").opportunity.id
    win_opportunity(db, str(won))
    specs: list[tuple[str, dict[str, object]]] = [
        ("date yesterday", {"lead": lead, "due": "yesterday"}),  # 1 overdue
        ("timed 09:00 today", {"opp": str(deal), "due": "today 09:00"}),  # 2 overdue
        ("date today", {"contact": str(contact.id), "due": "today"}),  # 3 today
        ("timed 10:00 today", {"opp": str(deal), "due": "10:00"}),  # 4 today (not before now)
        ("timed 18:30 today", {"account": str(contact.account_id), "due": "18:30"}),  # 5 today
        ("tomorrow morning", {"opp": str(deal), "due": "tomorrow 09:00"}),  # 6 upcoming
        ("in three days", {"lead": lead, "due": "+3d"}),  # 7 upcoming
        ("no due date", {"lead": lead}),  # 8 pending, no bucket
        ("done long ago", {"opp": str(deal), "due": "2026-12-01"}),  # 9 done (was overdue)
        ("note on the won deal", {"opp": str(won), "due": "yesterday"}),  # 10 overdue
    ]
    for subject, links in specs:
        add_activity(db, subject, type_="task", **links)  # type: ignore[arg-type]
    complete_activity(db, 9)
    return {
        "lead": lead,
        "contact": contact.id,
        "account": contact.account_id,
        "deal": deal,
        "idle": idle,
        "won": won,
    }


# -- time ----------------------------------------------------------------------------------------


def test_local_now_is_the_pinned_value_when_crm_now_is_set(pinned: datetime) -> None:
    assert local_now() == NOW


def test_local_now_is_the_wall_clock_otherwise() -> None:
    before = datetime.now()
    assert before <= local_now() <= datetime.now()


def test_parse_due_reads_dates_times_and_relative_words(pinned: datetime) -> None:
    assert parse_due("2026-12-20") == (datetime(2026, 12, 20), False)
    assert parse_due("tomorrow 09:00") == (datetime(2026, 12, 16, 9, 0), True)
    assert parse_due("+3d") == (datetime(2026, 12, 18), False)
    assert parse_due("14:30") == (datetime(2026, 12, 15, 14, 30), True)
    assert parse_due("  ") is None
    with pytest.raises(ValidationError, match="due"):
        parse_due("next week")


# -- add and links --------------------------------------------------------------------------------


def test_add_stores_every_field(db: Database, pinned: datetime) -> None:
    deal = add_opportunity(db, "Deal", account="Acme").opportunity
    activity = add_activity(
        db,
        "  Ligar para o João  ",
        type_=ActivityType.CALL,
        opp="deal",
        due="tomorrow 09:00",
        owner="bruno",
        notes="levar proposta",
    )
    assert activity == get_activity(db, activity.id)
    assert (activity.subject, activity.type, activity.opportunity_id) == (
        "Ligar para o João",
        ActivityType.CALL,
        deal.id,
    )
    assert (activity.due, activity.due_has_time) == (datetime(2026, 12, 16, 9, 0), True)
    assert (activity.owner, activity.notes, activity.done, activity.done_at) == (
        "bruno",
        "levar proposta",
        False,
        None,
    )
    assert activity.lead_id is activity.contact_id is activity.account_id is None
    assert activity.created_at == NOW


def test_owner_defaults_to_crm_owner(db: Database, pinned: datetime) -> None:
    lead = leads.add_lead(db, "Ana").id
    assert add_activity(db, "x", type_="note", lead=lead).owner == "tester"


def test_links_resolve_names_like_elsewhere(db: Database, pinned: datetime) -> None:
    contact = accounts.add_contact(db, "Maria", email="maria@agrovale.com.br", account="AgroVale")
    by_email = add_activity(db, "e-mail", type_="email", contact="maria@agrovale.com.br")
    by_name = add_activity(db, "visit", type_="meeting", account="agrovale")
    assert by_email.contact_id == contact.contact.id
    assert by_name.account_id == contact.contact.account_id


@pytest.mark.parametrize(
    "links",
    [{}, {"lead": 1, "opp": "1"}, {"contact": "1", "lead": 1}, {"lead": 1, "account": " "}],
    # A blank link used to count as none (issue 11, finding 2): it is now an empty reference,
    # a usage error like every other blank reference. (A contact beside an account or a deal
    # is the person the activity is with: test_day_cli.)
    ids=["none", "lead+opp", "contact+lead", "blank-is-a-usage-error"],
)
def test_zero_or_several_links_are_a_usage_error(
    db: Database, pinned: datetime, links: dict[str, object]
) -> None:
    leads.add_lead(db, "Ana")
    add_opportunity(db, "Deal", account="Acme")
    with pytest.raises(UsageError) as caught:
        add_activity(db, "x", type_="task", **links)  # type: ignore[arg-type]
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ({"lead": 9}, "no lead with id 9"),
        ({"contact": "nobody"}, 'no contact "nobody"'),
        ({"account": "77"}, "no account with id 77"),
        ({"opp": "ghost deal"}, 'no opportunity "ghost deal"'),
    ],
)
def test_a_link_to_a_missing_record_is_not_found(
    db: Database, pinned: datetime, links: dict[str, object], message: str
) -> None:
    with pytest.raises(NotFound, match=message):
        add_activity(db, "x", type_="task", **links)  # type: ignore[arg-type]
    with db.read() as uow:
        assert uow.activities.list(now=NOW, include_done=True) == []


def test_subject_type_and_due_are_validated(db: Database, pinned: datetime) -> None:
    lead = leads.add_lead(db, "Ana").id
    with pytest.raises(ValidationError, match="subject"):
        add_activity(db, "   ", type_="task", lead=lead)
    with pytest.raises(ValidationError, match="type"):
        add_activity(db, "x", type_="fax", lead=lead)
    with pytest.raises(ValidationError, match="due"):
        add_activity(db, "x", type_="task", lead=lead, due="2027-02-30")


# -- buckets ---------------------------------------------------------------------------------------


def test_default_list_is_pending_only_soonest_first_undated_last(
    db: Database, world: dict[str, int]
) -> None:
    assert _ids(list_activities(db)) == [1, 10, 3, 2, 4, 5, 6, 7, 8]


def test_all_includes_done(db: Database, world: dict[str, int]) -> None:
    assert _ids(list_activities(db, include_done=True)) == [9, 1, 10, 3, 2, 4, 5, 6, 7, 8]


def test_overdue_today_upcoming(db: Database, world: dict[str, int]) -> None:
    assert _ids(list_activities(db, buckets=["overdue"])) == [1, 10, 2]
    assert _ids(list_activities(db, buckets=["today"])) == [3, 4, 5]
    assert _ids(list_activities(db, buckets=["upcoming"])) == [6, 7]
    assert _ids(list_activities(db, buckets=["overdue", "upcoming"])) == [1, 10, 2, 6, 7]
    assert _ids(list_activities(db, buckets=["overdue"], include_done=True)) == [9, 1, 10, 2]


def test_sql_buckets_agree_with_the_python_rule(db: Database, world: dict[str, int]) -> None:
    everything = list_activities(db, include_done=True).activities
    for name in ("overdue", "today", "upcoming"):
        expected = [a.id for a in everything if activity_bucket(a, NOW) == name]
        assert _ids(list_activities(db, buckets=[name])) == expected, name


def test_a_date_only_due_is_overdue_once_its_day_has_passed(
    db: Database, world: dict[str, int]
) -> None:
    late_evening = datetime(2026, 12, 15, 23, 59)
    assert 3 in _ids(list_activities(db, buckets=["today"], now=late_evening))
    next_morning = datetime(2026, 12, 16, 0, 0)
    overdue = _ids(list_activities(db, buckets=["overdue"], now=next_morning))
    assert {3, 4, 5}.issubset(overdue)
    assert _ids(list_activities(db, buckets=["today"], now=next_morning)) == [6]


def test_for_a_record(db: Database, world: dict[str, int]) -> None:
    assert _ids(list_activities(db, link=("opp", world["deal"]))) == [2, 4, 6]
    assert _ids(list_activities(db, link=("opp", "agrovale – irrigação"), include_done=True)) == [
        9,
        2,
        4,
        6,
    ]
    assert _ids(list_activities(db, link=("lead", world["lead"]))) == [1, 7, 8]
    assert _ids(list_activities(db, link=("contact", "maria"))) == [3]
    assert _ids(list_activities(db, link=("account", "agrovale ltda"))) == [5]
    assert _ids(list_activities(db, link=("opp", world["idle"]))) == []
    with pytest.raises(NotFound):
        list_activities(db, link=("lead", 99))
    with pytest.raises(UsageError):
        list_activities(db, link=("deal", 1))


def test_owner_filter(db: Database, world: dict[str, int]) -> None:
    edit_activity(db, 7, owner="Bruno")
    assert _ids(list_activities(db, owner="BRUNO")) == [7]


# -- done, edit, delete ---------------------------------------------------------------------------


def test_done_once_then_refused(db: Database, world: dict[str, int]) -> None:
    done = complete_activity(db, 1)
    assert (done.done, done.done_at) == (True, NOW)
    assert 1 not in _ids(list_activities(db))
    with pytest.raises(InvalidTransition, match="already done"):
        complete_activity(db, 1)
    with pytest.raises(NotFound):
        complete_activity(db, 404)


def test_edit_changes_fields_and_empty_due_clears(db: Database, world: dict[str, int]) -> None:
    edited = edit_activity(db, 6, subject="Demo", type_="meeting", due="2026-12-20 14:00")
    assert (edited.subject, edited.type, edited.due, edited.due_has_time) == (
        "Demo",
        ActivityType.MEETING,
        datetime(2026, 12, 20, 14, 0),
        True,
    )
    cleared = edit_activity(db, 6, due="")
    assert (cleared.due, cleared.due_has_time) == (None, False)
    assert edit_activity(db, 6, due="2026-12-21", notes="x").due_has_time is False
    assert edit_activity(db, 6, notes="").notes is None
    with pytest.raises(ValidationError, match="nothing to change"):
        edit_activity(db, 6)


def test_delete(db: Database, world: dict[str, int]) -> None:
    assert delete_activity(db, 8).subject == "no due date"
    with pytest.raises(NotFound):
        get_activity(db, 8)


def test_deleting_a_lead_deletes_its_activities(db: Database, world: dict[str, int]) -> None:
    leads.delete_lead(db, world["lead"])
    remaining = list_activities(db, include_done=True).activities
    assert not any(a.lead_id == world["lead"] for a in remaining)
    assert _ids(remaining) == [9, 10, 3, 2, 4, 5, 6]


# -- agenda and forgotten deals --------------------------------------------------------------------


def test_agenda_buckets_and_deals_without_next_step(db: Database, world: dict[str, int]) -> None:
    day = agenda(db)
    assert day.now == NOW
    assert _ids(day.overdue) == [1, 10, 2]
    assert _ids(day.today) == [3, 4, 5]
    # the won deal is closed; the AgroVale deal has pending activities; Northwind has none
    assert [o.id for o in day.no_next_step] == [world["idle"]]


def test_a_deal_whose_activities_are_all_done_has_no_next_step(
    db: Database, world: dict[str, int]
) -> None:
    for activity_id in (2, 4, 6):
        complete_activity(db, activity_id)
    assert [o.id for o in agenda(db).no_next_step] == [world["deal"], world["idle"]]
    lose_opportunity(db, str(world["deal"]), reason="price")
    assert [o.id for o in agenda(db).no_next_step] == [world["idle"]]


def test_forgotten_deals_by_owner_and_close_date(db: Database, pinned: datetime) -> None:
    late = add_opportunity(db, "Late", account="A", close=datetime(2027, 3, 1).date()).opportunity
    soon = add_opportunity(db, "Soon", account="A", close=datetime(2027, 1, 1).date()).opportunity
    never = add_opportunity(db, "Undated", account="A", owner="bruno").opportunity
    with db.read() as uow:
        assert [o.id for o in uow.opps.without_next_step()] == [soon.id, late.id, never.id]
        assert [o.id for o in uow.opps.without_next_step(owner="Bruno")] == [never.id]


def test_show_records_with_their_activities(db: Database, world: dict[str, int]) -> None:
    shown = show_opportunity_with_activities(db, str(world["deal"]))
    assert shown.detail.opportunity.id == world["deal"]
    assert _ids(shown.activities) == [9, 2, 4, 6]
    assert shown.detail.history
    assert _ids(show_lead_with_activities(db, world["lead"]).activities) == [1, 7, 8]
