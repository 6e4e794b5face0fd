"""The pipeline report on a real SQLite file: exact figures, open deals only, order, owner."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crmcli.reports.pipeline import PipelineReport, weighted_money
from crmcli.services import opportunities, stages
from crmcli.services.reports import pipeline_report
from crmcli.store.db import Database

STAGE_NAMES = ["Prospecting", "Qualification", "Needs analysis", "Proposal", "Negotiation"]
ZERO = Decimal("0.00")


def _deal(
    db: Database,
    name: str,
    amount: str,
    stage: str,
    probability: int | None = None,
    owner: str | None = None,
) -> str:
    opp = opportunities.add_opportunity(
        db,
        name,
        account="Acme",
        amount=Decimal(amount),
        stage=stage,
        probability=probability,
        owner=owner,
    ).opportunity
    return str(opp.id)


def _rows(report: PipelineReport) -> list[tuple[str, int, str, str]]:
    return [(r.stage, r.count, str(r.amount), str(r.weighted)) for r in report.stages]


def _total(report: PipelineReport) -> tuple[str, int, str, str]:
    t = report.total
    return (t.stage, t.count, str(t.amount), str(t.weighted))


def test_empty_pipeline_lists_every_stage_with_zeros(db: Database) -> None:
    report = pipeline_report(db)
    assert _rows(report) == [(name, 0, "0.00", "0.00") for name in STAGE_NAMES]
    assert _total(report) == ("Total", 0, "0.00", "0.00")
    assert report.currency == "BRL"
    assert report.owner is None


def test_weighted_is_exact_and_rounded_half_up(db: Database) -> None:
    _deal(db, "Odd", "333.33", "Prospecting", probability=15)
    report = pipeline_report(db)
    first = report.stages[0]
    assert (first.stage, first.count, first.amount, first.weighted) == (
        "Prospecting",
        1,
        Decimal("333.33"),
        Decimal("50.00"),  # 49.9995 → 50.00
    )
    assert isinstance(first.weighted, Decimal)
    assert str(first.weighted) == "50.00"


def test_hand_made_pipeline(db: Database) -> None:
    # Prospecting: 333.33 @ 15 % (49.9995) + 100.00 @ 10 % (10.00)
    _deal(db, "P1", "333.33", "Prospecting", probability=15)
    _deal(db, "P2", "100.00", "Prospecting")
    # Qualification and Needs analysis: 0.01 @ 50 % each (0.005 → 0.01 per row)
    _deal(db, "Q1", "0.01", "Qualification", probability=50)
    _deal(db, "N1", "0.01", "Needs analysis", probability=50)
    # Proposal: one open deal and two closed ones that must not count
    _deal(db, "R1", "1234.56", "Proposal")  # 60 % → 740.736
    won = _deal(db, "R2", "99999.99", "Proposal")
    lost = _deal(db, "R3", "5000.00", "Proposal")
    opportunities.win_opportunity(db, won)
    opportunities.lose_opportunity(db, lost, reason="Price")
    # Negotiation: nothing open

    report = pipeline_report(db)
    assert _rows(report) == [
        ("Prospecting", 2, "433.33", "60.00"),  # 59.9995
        ("Qualification", 1, "0.01", "0.01"),
        ("Needs analysis", 1, "0.01", "0.01"),
        ("Proposal", 1, "1234.56", "740.74"),
        ("Negotiation", 0, "0.00", "0.00"),
    ]
    # Total weighted from the exact sum 59.9995 + 0.005 + 0.005 + 740.736 = 800.7455 → 800.75,
    # not the sum of the rounded rows (800.76).
    assert _total(report) == ("Total", 5, "1667.91", "800.75")
    assert sum(r.weighted for r in report.stages) == Decimal("800.76")
    assert report.total.amount == sum(r.amount for r in report.stages)


def test_total_weighted_is_rounded_once(db: Database) -> None:
    for stage in ("Prospecting", "Qualification", "Needs analysis"):
        _deal(db, f"cent in {stage}", "0.01", stage, probability=50)
    report = pipeline_report(db)
    assert [r.weighted for r in report.stages[:3]] == [Decimal("0.01")] * 3
    # exact: 3 × 0.005 = 0.015 → 0.02 (half-up), not 0.03
    assert report.total.weighted == Decimal("0.02")


def test_large_amounts_stay_exact(db: Database) -> None:
    _deal(db, "Huge", "9999999999.99", "Proposal", probability=33)
    _deal(db, "Huge 2", "9999999999.99", "Proposal", probability=33)
    row = pipeline_report(db).stages[3]
    assert row.amount == Decimal("19999999999.98")
    # 2 × 3299999999.9967 = 6599999999.9934
    assert row.weighted == Decimal("6599999999.99")
    assert pipeline_report(db).total.weighted == Decimal("6599999999.99")


def test_only_open_deals_count_and_reopen_brings_them_back(db: Database) -> None:
    ref = _deal(db, "Deal", "500.00", "Proposal")
    opportunities.win_opportunity(db, ref)
    assert pipeline_report(db).total.count == 0
    assert pipeline_report(db).total.amount == ZERO
    opportunities.reopen_opportunity(db, ref)
    report = pipeline_report(db)
    assert _rows(report)[3] == ("Proposal", 1, "500.00", "300.00")
    assert _total(report) == ("Total", 1, "500.00", "300.00")


def test_owner_filter(db: Database) -> None:
    _deal(db, "Ana 1", "1000.00", "Prospecting", owner="ana")
    _deal(db, "Ana 2", "2000.00", "Proposal", owner="Ana")
    _deal(db, "Bruno 1", "4000.00", "Proposal", owner="bruno")
    _deal(db, "Tester", "8000.00", "Negotiation")  # default owner: tester

    report = pipeline_report(db, owner="ANA")
    assert report.owner == "ANA"
    assert [r.stage for r in report.stages] == STAGE_NAMES
    assert _rows(report) == [
        ("Prospecting", 1, "1000.00", "100.00"),
        ("Qualification", 0, "0.00", "0.00"),
        ("Needs analysis", 0, "0.00", "0.00"),
        ("Proposal", 1, "2000.00", "1200.00"),
        ("Negotiation", 0, "0.00", "0.00"),
    ]
    assert _total(report) == ("Total", 2, "3000.00", "1300.00")
    assert _total(pipeline_report(db, owner="bruno")) == ("Total", 1, "4000.00", "2400.00")
    assert _total(pipeline_report(db, owner="nobody")) == ("Total", 0, "0.00", "0.00")
    assert _total(pipeline_report(db)) == ("Total", 4, "15000.00", "10100.00")


def test_order_follows_stage_moves_and_renames(db: Database) -> None:
    _deal(db, "Neg", "100.00", "Negotiation")
    stages.move_stage(db, "Negotiation", position=1)
    stages.rename_stage(db, "Negotiation", "Negociação e detalhamento")
    stages.move_stage(db, "Prospecting", after="Proposal")
    report = pipeline_report(db)
    assert [r.stage for r in report.stages] == [
        "Negociação e detalhamento",
        "Qualification",
        "Needs analysis",
        "Proposal",
        "Prospecting",
    ]
    assert _rows(report)[0] == ("Negociação e detalhamento", 1, "100.00", "80.00")


def test_added_and_removed_stages_appear_and_disappear(db: Database) -> None:
    stages.add_stage(db, "Demo", probability=30, after="Qualification")
    ref = _deal(db, "In demo", "10.00", "Demo")
    assert [r.stage for r in pipeline_report(db).stages][2] == "Demo"
    stages.remove_stage(db, "Demo", move_to="Proposal")
    report = pipeline_report(db)
    assert [r.stage for r in report.stages] == STAGE_NAMES
    assert _rows(report)[3] == ("Proposal", 1, "10.00", "6.00")
    assert opportunities.show_opportunity(db, ref).opportunity.stage == "Proposal"


@pytest.mark.parametrize(
    ("cents_times_percent", "expected"),
    [
        (0, "0.00"),
        (499995, "50.00"),
        (499949, "49.99"),
        (50, "0.01"),
        (49, "0.00"),
        (10000, "1.00"),
    ],
)
def test_weighted_money_rounds_half_up_to_the_cent(cents_times_percent: int, expected: str) -> None:
    assert str(weighted_money(cents_times_percent)) == expected
