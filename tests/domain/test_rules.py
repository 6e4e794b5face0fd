"""Tests for crmcli.domain.rules: lead transitions, qualification, stage order, deal checks.

Pure: no database. Every allowed and every refused transition is listed explicitly.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crmcli.domain.models import Lead, LeadStatus, Opportunity, OppStatus, Stage
from crmcli.domain.rules import (
    check_move,
    check_open,
    check_qualifiable,
    check_reopen,
    lead_transition,
    next_stage,
    ordered,
)
from crmcli.errors import CrmError, InvalidTransition, ValidationError

S = LeadStatus
ALL_STATUSES = list(LeadStatus)

# action → (statuses it may start from, the status it leads to)
ALLOWED: dict[str, tuple[set[LeadStatus], LeadStatus]] = {
    "contact": ({S.NEW}, S.CONTACTED),
    "qualify": ({S.NEW, S.CONTACTED}, S.QUALIFIED),
    "disqualify": ({S.NEW, S.CONTACTED, S.QUALIFIED}, S.DISQUALIFIED),
    "convert": ({S.QUALIFIED}, S.CONVERTED),
    "archive": ({S.NEW, S.CONTACTED, S.QUALIFIED, S.DISQUALIFIED}, S.ARCHIVED),
    "reopen": ({S.DISQUALIFIED, S.ARCHIVED}, S.NEW),
}

ALLOWED_CASES = [
    (action, status, target)
    for action, (starts, target) in ALLOWED.items()
    for status in ALL_STATUSES
    if status in starts
]
REFUSED_CASES = [
    (action, status)
    for action, (starts, _target) in ALLOWED.items()
    for status in ALL_STATUSES
    if status not in starts
]


def _lead(status: LeadStatus = S.NEW, **fields: object) -> Lead:
    return Lead(id=7, name="João Silva", status=status, **fields)  # type: ignore[arg-type]


def _stage(stage_id: int, name: str, position: int, probability: int = 10) -> Stage:
    return Stage(id=stage_id, name=name, position=position, probability=probability)


def _opp(
    status: OppStatus = OppStatus.OPEN, *, stage_id: int | None = 2, manual: bool = False
) -> Opportunity:
    return Opportunity(
        id=42,
        name="Acme – 50 licences",
        account_id=1,
        stage_id=stage_id,
        stage="Qualification",
        amount=Decimal("1000.00"),
        probability=20,
        probability_manual=manual,
        status=status,
    )


# -- lead transitions ------------------------------------------------------------------------


def test_the_matrix_covers_every_action_and_status() -> None:
    assert len(ALLOWED_CASES) + len(REFUSED_CASES) == len(ALLOWED) * len(ALL_STATUSES)
    assert len(ALLOWED_CASES) == 13


@pytest.mark.parametrize(("action", "status", "target"), ALLOWED_CASES)
def test_allowed_lead_transition(action: str, status: LeadStatus, target: LeadStatus) -> None:
    assert lead_transition(_lead(status), action) is target


@pytest.mark.parametrize(("action", "status"), REFUSED_CASES)
def test_refused_lead_transition(action: str, status: LeadStatus) -> None:
    with pytest.raises(InvalidTransition) as excinfo:
        lead_transition(_lead(status), action)
    message = str(excinfo.value)
    assert "lead 7" in message
    assert status.value in message
    assert "\n" not in message


def test_new_lead_becomes_contacted() -> None:
    assert lead_transition(_lead(S.NEW), "contact") is S.CONTACTED


def test_contacted_lead_cannot_be_contacted_again() -> None:
    with pytest.raises(InvalidTransition):
        lead_transition(_lead(S.CONTACTED), "contact")


@pytest.mark.parametrize("status", [S.NEW, S.CONTACTED])
def test_convert_before_qualifying_says_qualify_first(status: LeadStatus) -> None:
    with pytest.raises(InvalidTransition, match="qualify it first"):
        lead_transition(_lead(status), "convert")


def test_converted_lead_cannot_be_converted_again() -> None:
    with pytest.raises(InvalidTransition, match="already converted"):
        lead_transition(_lead(S.CONVERTED), "convert")


def test_converted_lead_cannot_be_archived() -> None:
    with pytest.raises(InvalidTransition, match="converted"):
        lead_transition(_lead(S.CONVERTED), "archive")


def test_qualified_lead_cannot_be_qualified_again() -> None:
    with pytest.raises(InvalidTransition, match="already qualified"):
        lead_transition(_lead(S.QUALIFIED), "qualify")


@pytest.mark.parametrize("status", [s for s in ALL_STATUSES if s not in {S.CONVERTED, S.ARCHIVED}])
def test_any_non_converted_lead_can_be_archived(status: LeadStatus) -> None:
    assert lead_transition(_lead(status), "archive") is S.ARCHIVED


@pytest.mark.parametrize("action", sorted(set(ALLOWED) - {"reopen"}))
def test_archived_lead_only_reopens(action: str) -> None:
    with pytest.raises(InvalidTransition):
        lead_transition(_lead(S.ARCHIVED), action)


def test_disqualified_lead_cannot_be_qualified_or_converted() -> None:
    for action in ("qualify", "convert", "contact", "disqualify"):
        with pytest.raises(InvalidTransition):
            lead_transition(_lead(S.DISQUALIFIED), action)


def test_converted_lead_cannot_be_reopened_and_says_how_to_undo() -> None:
    with pytest.raises(InvalidTransition, match="crm undo"):
        lead_transition(_lead(S.CONVERTED), "reopen")


def test_refusal_names_the_statuses_it_could_start_from() -> None:
    with pytest.raises(InvalidTransition) as excinfo:
        lead_transition(_lead(S.DISQUALIFIED), "contact")
    assert "new" in str(excinfo.value)


def test_lead_transition_does_not_change_the_lead() -> None:
    lead = _lead(S.NEW)
    lead_transition(lead, "contact")
    assert lead.status is S.NEW


def test_invalid_transition_is_a_crm_error_with_exit_code_1() -> None:
    with pytest.raises(CrmError) as excinfo:
        lead_transition(_lead(S.CONVERTED), "convert")
    assert excinfo.value.exit_code == 1


# -- qualification ---------------------------------------------------------------------------


def test_lead_with_budget_and_timeline_is_qualifiable() -> None:
    lead = _lead(budget=Decimal("12500.00"), timeline=date(2026, 12, 31))
    assert check_qualifiable(lead) is None


def test_missing_budget_is_named_alone() -> None:
    with pytest.raises(ValidationError) as excinfo:
        check_qualifiable(_lead(timeline=date(2026, 12, 31)))
    message = str(excinfo.value)
    assert "budget" in message
    assert "--budget" in message
    assert "timeline" not in message
    assert "lead 7" in message


def test_missing_timeline_is_named_alone() -> None:
    with pytest.raises(ValidationError) as excinfo:
        check_qualifiable(_lead(budget=Decimal("1.00")))
    message = str(excinfo.value)
    assert "timeline" in message
    assert "--timeline" in message
    assert "budget" not in message


def test_missing_both_names_both() -> None:
    with pytest.raises(ValidationError) as excinfo:
        check_qualifiable(_lead())
    message = str(excinfo.value)
    assert "budget" in message
    assert "timeline" in message
    assert message.index("budget") < message.index("timeline")


def test_zero_budget_counts_as_a_budget() -> None:
    assert check_qualifiable(_lead(budget=Decimal("0.00"), timeline=date(2026, 1, 1))) is None


# -- stage order -----------------------------------------------------------------------------

PIPELINE = [
    _stage(30, "Proposal", 3, 60),
    _stage(10, "Prospecting", 1, 10),
    _stage(20, "Qualification", 2, 20),
]


def test_ordered_sorts_by_position_then_id() -> None:
    stages = [_stage(5, "B", 2), _stage(4, "A", 2), _stage(9, "Z", 1)]
    assert [s.id for s in ordered(stages)] == [9, 4, 5]


def test_next_stage_follows_position_not_list_order() -> None:
    assert next_stage(PIPELINE, 10).id == 20
    assert next_stage(PIPELINE, 20).id == 30


def test_next_stage_of_a_deal_without_stage_is_the_first() -> None:
    assert next_stage(PIPELINE, None).name == "Prospecting"


def test_past_the_last_stage_suggests_opp_win() -> None:
    with pytest.raises(InvalidTransition) as excinfo:
        next_stage(PIPELINE, 30)
    message = str(excinfo.value)
    assert "opp win" in message
    assert "Proposal" in message
    assert "last stage" in message


def test_single_stage_pipeline_cannot_advance() -> None:
    with pytest.raises(InvalidTransition, match="opp win"):
        next_stage([_stage(1, "Only", 1)], 1)


def test_empty_pipeline_is_an_error() -> None:
    with pytest.raises(ValidationError, match="no stages"):
        next_stage([], None)
    with pytest.raises(ValidationError, match="stage add"):
        next_stage([], 1)


def test_unicode_stage_names_survive_in_the_message() -> None:
    stages = [_stage(1, "Prospecção", 1), _stage(2, "Negociação e detalhamento", 2)]
    assert next_stage(stages, 1).name == "Negociação e detalhamento"
    with pytest.raises(InvalidTransition, match="Negociação e detalhamento"):
        next_stage(stages, 2)


# -- opportunity checks ----------------------------------------------------------------------


def test_check_open_accepts_an_open_deal() -> None:
    assert check_open(_opp(), "advanced") is None


@pytest.mark.parametrize("status", [OppStatus.WON, OppStatus.LOST])
def test_check_open_refuses_a_closed_deal(status: OppStatus) -> None:
    with pytest.raises(InvalidTransition) as excinfo:
        check_open(_opp(status), "advanced")
    message = str(excinfo.value)
    assert "opportunity 42" in message
    assert status.value in message
    assert "advanced" in message
    assert "opp reopen" in message


def test_check_move_accepts_another_stage() -> None:
    assert check_move(_opp(stage_id=2), _stage(3, "Proposal", 3)) is None


def test_check_move_refuses_the_current_stage() -> None:
    with pytest.raises(InvalidTransition, match='already in stage "Qualification"'):
        check_move(_opp(stage_id=2), _stage(2, "Qualification", 2))


@pytest.mark.parametrize("status", [OppStatus.WON, OppStatus.LOST])
def test_check_move_refuses_a_closed_deal(status: OppStatus) -> None:
    with pytest.raises(InvalidTransition, match="reopen"):
        check_move(_opp(status, stage_id=2), _stage(3, "Proposal", 3))


@pytest.mark.parametrize("status", [OppStatus.WON, OppStatus.LOST])
def test_check_reopen_accepts_a_closed_deal(status: OppStatus) -> None:
    assert check_reopen(_opp(status)) is None


def test_check_reopen_refuses_an_open_deal() -> None:
    with pytest.raises(InvalidTransition, match="already open"):
        check_reopen(_opp(OppStatus.OPEN))


@pytest.mark.parametrize(
    ("status", "manual", "source"),
    [
        (OppStatus.OPEN, False, "stage"),
        (OppStatus.OPEN, True, "manual"),
        (OppStatus.WON, False, "won"),
        (OppStatus.WON, True, "won"),
        (OppStatus.LOST, False, "lost"),
        (OppStatus.LOST, True, "lost"),
    ],
)
def test_probability_source(status: OppStatus, manual: bool, source: str) -> None:
    assert _opp(status, manual=manual).probability_source == source
