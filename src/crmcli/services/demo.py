"""A realistic sample pipeline in a separate demo database (never the user's real one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from crmcli import clock
from crmcli.errors import StorageError
from crmcli.i18n import _
from crmcli.services import activities, leads, opportunities, stages
from crmcli.services.leads import ConvertOptions
from crmcli.store.db import Database

DEMO_MARK = "demo"

# name, e-mail, company, title, budget, days to decide
_TRADE_SHOW = [
    (
        "João Silva",
        "joao.silva@paoquente.com.br",
        "Padaria Pão Quente Ltda",
        "Sócio",
        "18.500,00",
        40,
    ),
    (
        "Maria Oliveira",
        "maria@horizonte.com.br",
        "Construtora Horizonte S.A.",
        "Compras",
        "96.000,00",
        75,
    ),
    ("Emily Carter", "emily.carter@northwind.example", "Northwind Traders", "COO", "42,000.00", 30),
    ("James O'Brien", "jobrien@contoso.example", "Contoso Ltd", "IT Director", "120,000.00", 95),
    ("Pedro Gonçalves", "pedro@acaidonorte.com.br", "Açaí do Norte", "Diretor", "7.800,00", 20),
    (
        "Sophie Martin",
        "sophie.martin@fabrikam.example",
        "Fabrikam Inc",
        "Head of Sales",
        "55,500.00",
        60,
    ),
    (
        "Fernanda Lima",
        "fernanda.lima@ecotintas.com.br",
        "EcoTintas Indústria",
        "Gerente",
        "33.250,50",
        50,
    ),
    (
        "Michael Chen",
        "m.chen@globex.example",
        "Globex Corporation",
        "VP Operations",
        "210,000.00",
        120,
    ),
    (
        "Beatriz Rocha",
        "beatriz@clinicavida.com.br",
        "Clínica Vida",
        "Administradora",
        "12.400,00",
        25,
    ),
    ("Lucas Almeida", "lucas@transalmeida.com.br", "Transportes Almeida", "Dono", "64.000,00", 45),
]
# lead index → (stage to reach, outcome)
_PLAN = {
    0: ("Proposal", None),
    1: ("Negociação e detalhamento", None),
    2: ("Qualification", None),
    3: ("Needs analysis", None),
    4: ("Proposal", "won"),
    5: ("Negociação e detalhamento", "won"),
    6: ("Needs analysis", "lost"),
    7: ("Prospecting", None),
}


def _parse_amount(text: str) -> Decimal:
    from crmcli.domain.values import parse_money

    return parse_money(text)


def _fresh(path: Path) -> None:
    """Remove an earlier demo database at `path`; refuse anything that is not one."""
    if not path.exists():
        return
    probe = Database(str(path))
    try:
        with probe.read() as uow:
            mark = uow.settings.get(DEMO_MARK)
    except StorageError:
        mark = None
    finally:
        probe.dispose()
    if mark != "1":
        raise StorageError(
            _("{file} exists and is not a crmcli demo database: not touching it").format(file=path)
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def build_demo(path: Path) -> Database:
    """Create a new demo database at `path`: a trade show 45 days ago, its leads worked since
    (conversions, stage moves, wins and a loss on the days they happened), and follow-ups that
    are overdue, due today and upcoming, so every report has something to show."""
    _fresh(path)
    start = clock.utcnow().replace(hour=13, minute=0, second=0, microsecond=0)
    today = start.date()

    def day(offset: int, hour: int = 13) -> datetime:
        return start.replace(hour=hour) + timedelta(days=offset)

    db = Database(str(path), currency="BRL")
    with db.write() as uow:
        uow.settings.set(DEMO_MARK, "1")
        uow.commit()
    stages.rename_stage(db, "Negotiation", "Negociação e detalhamento")
    owners = ["ana", "bruno"]
    made = []
    with clock.pinned(day(-45, 10)):
        for index, (name, email, company, title, budget, days) in enumerate(_TRADE_SHOW):
            made.append(
                leads.add_lead(
                    db,
                    name,
                    email=email,
                    company=company,
                    title=title,
                    source="ExpoVendas 2026",
                    budget=_parse_amount(budget),
                    timeline=today + timedelta(days=days),
                    owner=owners[index % 2],
                )
            )
        leads.add_lead(
            db, "Rafael Costa", email="rafael@example.com", source="ExpoVendas 2026", owner="ana"
        )
    with clock.pinned(day(-20)):
        leads.add_lead(
            db,
            "Olivia Brown",
            email="olivia@initech.example",
            company="Initech",
            source="Website",
            owner="bruno",
        )
    with clock.pinned(day(-43)):
        leads.mark_contacted(db, made[9].id)
        leads.disqualify_lead(db, made[8].id, "No budget this year")
    for index, (target, outcome) in _PLAN.items():
        lead = made[index]
        with clock.pinned(day(-42 + index)):
            leads.mark_contacted(db, lead.id)
            leads.qualify_lead(db, lead.id)
            done = leads.convert_lead(db, lead.id, ConvertOptions())
        assert done.opportunity is not None
        ref = str(done.opportunity.id)
        # walk the pipeline up to the target stage, a week or two per stage
        moment = -40 + index
        for stage in _WALK[: _WALK.index(target) + 1][1:]:
            moment += 6 + (index % 3) * 3
            with clock.pinned(day(min(moment, -1))):
                opportunities.advance_opportunity(db, ref, to=stage)
        with clock.pinned(day(min(moment + 5, -1), 16)):
            if outcome == "won":
                opportunities.win_opportunity(db, ref)
            elif outcome == "lost":
                opportunities.lose_opportunity(
                    db, ref, reason="Price too high", competitor="Concorrente Digital"
                )
    with clock.pinned(day(-12)):
        opportunities.add_opportunity(
            db,
            "Northwind Traders – renewal 2027",
            account="Northwind Traders",
            amount=Decimal("15000.00"),
            stage="Proposal",
            probability=75,
            close=date(today.year + 1, 1, 31),
            owner="bruno",
        )
    _follow_ups(db, day)
    return db


# stage names in pipeline order, as the demo's deals walk them
_WALK = [
    "Prospecting",
    "Qualification",
    "Needs analysis",
    "Proposal",
    "Negociação e detalhamento",
]


def _follow_ups(db: Database, day: Callable[..., datetime]) -> None:
    """Activities: one overdue, one due today, one upcoming, one done, and deals with none."""
    with clock.pinned(day(-6)):
        activities.add_activity(
            db,
            "Send the revised proposal",
            type_="email",
            opp="1",
            due=(day(-1, 17), True),
            owner="ana",
        )
        call = activities.add_activity(
            db,
            "Discovery call with IT",
            type_="call",
            opp="4",
            due=(day(-3, 10), True),
            owner="bruno",
        )
    with clock.pinned(day(-3, 11)):
        activities.complete_activity(db, call.id)
    with clock.pinned(day(-2)):
        activities.add_activity(
            db,
            "Negotiation meeting",
            type_="meeting",
            opp="2",
            due=(day(0, 15), True),
            owner="bruno",
        )
        activities.add_activity(
            db, "Check budget approval", type_="task", opp="3", due=(day(3), False), owner="ana"
        )
        activities.add_activity(
            db, "Call Rafael back", type_="call", lead=11, due=(day(1, 9), True), owner="ana"
        )
