"""Stage services on a real SQLite file: the default pipeline, add, rename, move, probability,
remove."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest

from crmcli.domain.models import Opportunity, OppStatus, Stage
from crmcli.errors import (
    Ambiguous,
    Duplicate,
    InvalidTransition,
    NotFound,
    UsageError,
    ValidationError,
)
from crmcli.services import opportunities, stages
from crmcli.services.stages import (
    add_stage,
    list_stages,
    move_stage,
    remove_stage,
    rename_stage,
    set_stage_probability,
)
from crmcli.store.db import Database

DEFAULT = [
    ("Prospecting", 10),
    ("Qualification", 20),
    ("Needs analysis", 40),
    ("Proposal", 60),
    ("Negotiation", 80),
]


def _names(found: list[Stage] | None = None, db: Database | None = None) -> list[str]:
    if found is None:
        assert db is not None
        found = list_stages(db)
    return [s.name for s in found]


def _assert_positions_contiguous(db: Database) -> None:
    assert [s.position for s in list_stages(db)] == list(range(1, len(list_stages(db)) + 1))


def _deal(db: Database, name: str, stage: str, **fields: object) -> Opportunity:
    return opportunities.add_opportunity(
        db,
        name,
        account="Acme",
        stage=stage,
        amount=Decimal("100.00"),
        **fields,  # type: ignore[arg-type]
    ).opportunity


def _opp(db: Database, opp: Opportunity) -> Opportunity:
    return opportunities.show_opportunity(db, str(opp.id)).opportunity


# -- default pipeline ------------------------------------------------------------------------


def test_fresh_database_has_the_default_pipeline(db: Database) -> None:
    found = list_stages(db)
    assert [(s.name, s.probability) for s in found] == DEFAULT
    assert [s.position for s in found] == [1, 2, 3, 4, 5]
    assert len({s.id for s in found}) == 5


# -- add -------------------------------------------------------------------------------------


def test_add_at_the_end(db: Database) -> None:
    stage = add_stage(db, "Contract", probability=90, expected_days=7)
    assert (stage.name, stage.position, stage.probability, stage.expected_days) == (
        "Contract",
        6,
        90,
        7,
    )
    assert _names(db=db)[-1] == "Contract"


def test_add_after_a_stage(db: Database) -> None:
    stage = add_stage(db, "Demo", probability=30, after="qualification")
    assert stage.position == 3
    assert _names(db=db) == [
        "Prospecting",
        "Qualification",
        "Demo",
        "Needs analysis",
        "Proposal",
        "Negotiation",
    ]
    _assert_positions_contiguous(db)


def test_add_after_the_last_stage(db: Database) -> None:
    add_stage(db, "Contract", probability=90, after="Negotiation")
    assert _names(db=db)[-2:] == ["Negotiation", "Contract"]


def test_add_after_an_unknown_stage_adds_nothing(db: Database) -> None:
    with pytest.raises(NotFound):
        add_stage(db, "Demo", probability=30, after="Nope")
    assert len(list_stages(db)) == 5


def test_add_a_unicode_stage(db: Database) -> None:
    stage = add_stage(db, "  Negociação  ", probability=70)
    assert stage.name == "Negociação"
    assert _names(db=db)[-1] == "Negociação"


@pytest.mark.parametrize(
    "name",
    ["Proposal", "proposal", "  PROPOSAL  ", "Needs  Analysis", "NEEDS ANALYSIS"],
)
def test_duplicate_stage_name_is_refused(db: Database, name: str) -> None:
    with pytest.raises(Duplicate, match="already exists"):
        add_stage(db, name, probability=50)
    assert len(list_stages(db)) == 5


def test_duplicate_unicode_stage_name_is_refused(db: Database) -> None:
    add_stage(db, "Negociação", probability=70)
    for variant in ("NEGOCIAÇÃO", "negociação", unicodedata.normalize("NFD", "Negociação")):
        with pytest.raises(Duplicate):
            add_stage(db, variant, probability=70)
    assert _names(db=db).count("Negociação") == 1
    assert len(list_stages(db)) == 6


def test_add_refuses_empty_name_and_bad_days(db: Database) -> None:
    with pytest.raises(ValidationError):
        add_stage(db, "  ", probability=10)
    with pytest.raises(ValidationError, match="days"):
        add_stage(db, "Slow", probability=10, expected_days=-1)
    assert len(list_stages(db)) == 5


# -- rename ----------------------------------------------------------------------------------


def test_rename_keeps_deals_and_position(db: Database) -> None:
    opp = _deal(db, "Acme deal", "Negotiation")
    renamed = rename_stage(db, "negotiation", "Negociação e detalhamento")
    assert renamed.name == "Negociação e detalhamento"
    assert renamed.position == 5
    assert renamed.probability == 80
    assert _opp(db, opp).stage == "Negociação e detalhamento"
    assert stages.list_stages(db)[4].name == "Negociação e detalhamento"


def test_rename_is_found_by_the_new_name_only(db: Database) -> None:
    rename_stage(db, "Negotiation", "Negociação e detalhamento")
    opp = _deal(db, "Deal", "NEGOCIAÇÃO E DETALHAMENTO")
    assert opp.stage == "Negociação e detalhamento"
    with pytest.raises(NotFound):
        _deal(db, "Other", "Negotiation")


def test_rename_to_an_existing_name_is_refused(db: Database) -> None:
    with pytest.raises(Duplicate):
        rename_stage(db, "Proposal", "QUALIFICATION")
    assert _names(db=db) == [name for name, _ in DEFAULT]


def test_rename_to_its_own_name_in_another_case(db: Database) -> None:
    assert rename_stage(db, "Proposal", "PROPOSAL").name == "PROPOSAL"


def test_rename_by_id(db: Database) -> None:
    first = list_stages(db)[0]
    assert rename_stage(db, str(first.id), "Prospecção").name == "Prospecção"


def test_rename_ambiguous_prefix_is_refused(db: Database) -> None:
    with pytest.raises(Ambiguous) as excinfo:
        rename_stage(db, "pro", "X")
    assert "Prospecting" in str(excinfo.value)
    assert "Proposal" in str(excinfo.value)


# -- move ------------------------------------------------------------------------------------


def test_move_after(db: Database) -> None:
    result = move_stage(db, "Prospecting", after="Needs analysis")
    assert _names(result) == [
        "Qualification",
        "Needs analysis",
        "Prospecting",
        "Proposal",
        "Negotiation",
    ]
    assert _names(db=db) == _names(result)
    _assert_positions_contiguous(db)


def test_move_before(db: Database) -> None:
    move_stage(db, "Negotiation", before="Qualification")
    assert _names(db=db) == [
        "Prospecting",
        "Negotiation",
        "Qualification",
        "Needs analysis",
        "Proposal",
    ]
    _assert_positions_contiguous(db)


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (1, ["Proposal", "Prospecting", "Qualification", "Needs analysis", "Negotiation"]),
        (5, ["Prospecting", "Qualification", "Needs analysis", "Negotiation", "Proposal"]),
        (4, ["Prospecting", "Qualification", "Needs analysis", "Proposal", "Negotiation"]),
    ],
)
def test_move_to_position(db: Database, position: int, expected: list[str]) -> None:
    move_stage(db, "Proposal", position=position)
    assert _names(db=db) == expected
    _assert_positions_contiguous(db)


@pytest.mark.parametrize("position", [0, 6, -1])
def test_move_to_a_position_out_of_range(db: Database, position: int) -> None:
    with pytest.raises(ValidationError, match="between 1 and 5"):
        move_stage(db, "Proposal", position=position)
    assert _names(db=db) == [name for name, _ in DEFAULT]


def test_move_needs_exactly_one_place(db: Database) -> None:
    with pytest.raises(UsageError):
        move_stage(db, "Proposal")
    with pytest.raises(UsageError):
        move_stage(db, "Proposal", after="Prospecting", position=1)


def test_move_relative_to_itself_is_refused(db: Database) -> None:
    with pytest.raises(ValidationError, match="itself"):
        move_stage(db, "Proposal", after="proposal")


def test_move_keeps_stage_probabilities(db: Database) -> None:
    move_stage(db, "Negotiation", position=1)
    assert {s.name: s.probability for s in list_stages(db)} == dict(DEFAULT)


# -- set probability -------------------------------------------------------------------------


def test_set_probability_alone_leaves_deals(db: Database) -> None:
    opp = _deal(db, "Deal", "Proposal")
    result = set_stage_probability(db, "Proposal", 65)
    assert result.stage.probability == 65
    assert result.updated_deals == 0
    assert _opp(db, opp).probability == 60
    # a deal entering the stage now gets the new default
    assert _deal(db, "New deal", "Proposal").probability == 65


def test_set_probability_update_open_leaves_manual_and_closed_deals(db: Database) -> None:
    follows = _deal(db, "Follows", "Proposal")
    manual = _deal(db, "Manual", "Proposal", probability=35)
    won = _deal(db, "Won", "Proposal")
    opportunities.win_opportunity(db, str(won.id))
    elsewhere = _deal(db, "Elsewhere", "Qualification")

    result = set_stage_probability(db, "proposal", 70, update_open=True)

    assert result.updated_deals == 1
    assert result.stage.probability == 70
    assert _opp(db, follows).probability == 70
    assert _opp(db, follows).probability_manual is False
    assert _opp(db, manual).probability == 35
    assert _opp(db, manual).probability_manual is True
    assert _opp(db, won).probability == 100
    assert _opp(db, elsewhere).probability == 20
    history = opportunities.show_opportunity(db, str(follows.id)).history
    assert [h.probability for h in history] == [60, 70]


# -- remove ----------------------------------------------------------------------------------


def test_remove_an_empty_stage(db: Database) -> None:
    removed = remove_stage(db, "Needs analysis")
    assert removed.stage.name == "Needs analysis"
    assert removed.moved_deals == 0
    assert _names(db=db) == ["Prospecting", "Qualification", "Proposal", "Negotiation"]
    _assert_positions_contiguous(db)


def test_remove_with_open_deals_is_refused(db: Database) -> None:
    _deal(db, "One", "Proposal")
    _deal(db, "Two", "Proposal")
    with pytest.raises(InvalidTransition) as excinfo:
        remove_stage(db, "Proposal")
    assert "2 open deal" in str(excinfo.value)
    assert "--move-to" in str(excinfo.value)
    assert "Proposal" in _names(db=db)


def test_remove_with_move_to_moves_deals_at_the_target_probability(db: Database) -> None:
    stage_default = _deal(db, "Stage default", "Proposal")
    manual = _deal(db, "Manual", "Proposal", probability=35)
    untouched = _deal(db, "Untouched", "Qualification")

    removed = remove_stage(db, "Proposal", move_to="Negotiation")

    assert removed.moved_deals == 2
    assert "Proposal" not in _names(db=db)
    for opp in (stage_default, manual):
        after = _opp(db, opp)
        assert (after.stage, after.probability, after.probability_manual) == (
            "Negotiation",
            80,
            False,
        )
        assert after.status is OppStatus.OPEN
    assert _opp(db, untouched).stage == "Qualification"
    history = opportunities.show_opportunity(db, str(stage_default.id)).history
    assert [(h.stage, h.probability) for h in history][-1] == ("Negotiation", 80)
    _assert_positions_contiguous(db)


def test_remove_with_move_to_itself_is_refused(db: Database) -> None:
    _deal(db, "One", "Proposal")
    with pytest.raises(ValidationError):
        remove_stage(db, "Proposal", move_to="PROPOSAL")
    assert "Proposal" in _names(db=db)


def test_remove_with_move_to_unknown_stage_removes_nothing(db: Database) -> None:
    opp = _deal(db, "One", "Proposal")
    with pytest.raises(NotFound):
        remove_stage(db, "Proposal", move_to="Nope")
    assert "Proposal" in _names(db=db)
    assert _opp(db, opp).stage == "Proposal"


def test_remove_a_stage_holding_only_closed_deals(db: Database) -> None:
    won = _deal(db, "Won", "Proposal")
    opportunities.win_opportunity(db, str(won.id))
    remove_stage(db, "Proposal")
    after = _opp(db, won)
    assert after.status is OppStatus.WON
    assert after.probability == 100
    assert "Proposal" not in _names(db=db)
    # its history still names the stage it was won in
    assert [h.stage for h in opportunities.show_opportunity(db, str(won.id)).history] == [
        "Proposal",
        "Proposal",
    ]


def test_cannot_remove_the_last_stage(db: Database) -> None:
    for name in ["Prospecting", "Qualification", "Needs analysis", "Proposal"]:
        remove_stage(db, name)
    assert _names(db=db) == ["Negotiation"]
    with pytest.raises(InvalidTransition, match="only stage"):
        remove_stage(db, "Negotiation")
    assert _names(db=db) == ["Negotiation"]
    assert list_stages(db)[0].position == 1


def test_reopen_a_deal_whose_stage_was_removed_puts_it_in_the_first_stage(db: Database) -> None:
    lost = _deal(db, "Lost", "Proposal")
    opportunities.lose_opportunity(db, str(lost.id), reason="Price")
    remove_stage(db, "Proposal")
    assert _opp(db, lost).stage_id is None
    reopened = opportunities.reopen_opportunity(db, str(lost.id))
    assert (reopened.stage, reopened.probability, reopened.status) == (
        "Prospecting",
        10,
        OppStatus.OPEN,
    )
