"""Every list: `--limit N`, `--sort FIELD`, `--reverse`; `opp list`'s filters; the screenful.

Orders are sorted in SQL and must be the same on both backends: names by their folded key,
empty values last in both directions, equal values in id order (reversed with --reverse).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
import typer.testing
from typer.testing import Result

from crmcli.domain.sorting import SORT_FIELDS

Run = Callable[..., Result]
Json = Callable[..., Any]

LISTS = {
    "lead": ("lead", "list", "--all"),
    "opportunity": ("opp", "list"),
    "activity": ("activity", "list", "--all"),
    "account": ("account", "list"),
    "contact": ("contact", "list"),
    "stage": ("stage", "list"),
}
"""The list command of each entity (showing every record it has)."""


def _ids(crm: Run, *args: str) -> list[int]:
    return [int(line) for line in crm(*args, "-q").stdout.split()]


def _names(crm_json: Json, *args: str) -> list[str]:
    return [r["name"] for r in crm_json(*args)]


@pytest.fixture
def sales(crm: Run) -> None:
    """Leads, accounts, contacts, deals and activities with names in both languages, equal
    values and empty ones."""
    for args in (
        ("Zé Carlos", "--company", "bolo", "--budget", "500", "--email", "ze@x.com"),
        ("ana", "--company", "Açaí", "--budget", "1.000,00", "--source", "web"),
        ("Álvaro", "--budget", "500", "--timeline", "2027-01-10", "--email", "a@x.com"),
        ("Ana", "--company", "Zeta", "--source", "Feira"),
        ("bruno", "--company", "acme", "--timeline", "2026-12-20"),
    ):
        crm("lead", "add", *args, "-q")
    crm("lead", "contact", "3", "-q")
    crm("account", "add", "Zebra SA", "--industry", "Varejo", "-q")
    crm("account", "add", "Açaí Comércio", "--industry", "Alimentos", "-q")
    crm("account", "add", "beta", "-q")
    for args in (
        ("Renovação", "--account", "Zebra SA", "--amount", "1.000,00", "--close", "2026-12-31"),
        ("bolo grande", "--account", "Açaí Comércio", "--amount", "250", "--stage", "Proposal"),
        ("Alfa", "--account", "beta", "--amount", "1000", "--close", "2027-01-15"),
        ("Expansão", "--account", "Açaí Comércio", "--amount", "999.99", "--stage", "Negotiation"),
        ("Conceição", "--account", "beta", "--amount", "5000", "--close", "2026-12-30"),
    ):
        crm("opp", "add", *args, "-q")
    crm("opp", "win", "3", "-q")
    crm("opp", "lose", "5", "--reason", "preço", "-q")
    crm("contact", "add", "Maria", "--account", "beta", "--email", "m@x.com", "-q")
    crm("contact", "add", "joão", "-q")
    crm("contact", "add", "Édson", "--account", "Zebra SA", "-q")
    crm("activity", "add", "ligar", "--type", "call", "--opp", "1", "--due", "2026-12-10", "-q")
    crm("activity", "add", "Enviar proposta", "--type", "email", "--opp", "2", "-q")
    crm(
        "activity", "add", "almoço", "--type", "meeting", "--lead", "2", "--due", "2026-12-01", "-q"
    )
    crm("activity", "done", "3", "-q")


@pytest.mark.parametrize("entity", sorted(LISTS))
def test_every_sort_field_of_every_list_runs_both_ways(crm: Run, sales: None, entity: str) -> None:
    command = LISTS[entity]
    everything = _ids(crm, *command)
    assert everything  # the fixture gave every list records
    for field in SORT_FIELDS[entity]:
        ahead = _ids(crm, *command, "--sort", field)
        back = _ids(crm, *command, "--sort", field, "--reverse")
        assert sorted(ahead) == sorted(everything), field
        assert sorted(back) == sorted(everything), field
        assert _ids(crm, *command, "--sort", field, "--limit", "2") == ahead[:2], field


@pytest.mark.parametrize("entity", sorted(LISTS))
def test_an_unknown_sort_field_is_a_usage_error_naming_the_allowed_ones(
    crm: Run, entity: str
) -> None:
    result = crm(*LISTS[entity], "--sort", "colour", code=2)
    allowed = ", ".join(SORT_FIELDS[entity])
    assert f'"colour" is not one of {allowed}' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_sort_field_is_never_put_into_the_sql(crm: Run, crm_json: Json, sales: None) -> None:
    crm("lead", "list", "--sort", "name; DROP TABLE lead", code=2)
    crm("lead", "list", "--sort", "id DESC", code=2)
    assert len(crm_json("lead", "list", "--all")) == 5
    assert _ids(crm, "lead", "list", "--all", "--sort", "NAME") == [3, 2, 4, 5, 1]  # any case


def test_names_sort_by_their_folded_key_and_equal_ones_by_id(
    crm: Run, crm_json: Json, sales: None
) -> None:
    assert _names(crm_json, "lead", "list", "--sort", "name") == [
        "Álvaro",
        "ana",
        "Ana",
        "bruno",
        "Zé Carlos",
    ]
    assert _ids(crm, "lead", "list", "--sort", "name", "--reverse") == [1, 5, 4, 2, 3]
    assert _names(crm_json, "account", "list", "--sort", "name", "--reverse") == [
        "Zebra SA",
        "beta",
        "Açaí Comércio",
    ]
    assert _names(crm_json, "opp", "list", "--sort", "name") == [
        "Alfa",
        "bolo grande",
        "Conceição",
        "Expansão",
        "Renovação",
    ]


def test_empty_values_come_last_in_both_directions(crm: Run, sales: None) -> None:
    # budgets: 1 and 3 have 500, 2 has 1000, 4 and 5 none
    assert _ids(crm, "lead", "list", "--sort", "budget") == [1, 3, 2, 4, 5]
    assert _ids(crm, "lead", "list", "--sort", "budget", "--reverse") == [2, 3, 1, 5, 4]
    # companies by folded key (Açaí, acme, bolo, Zeta), Álvaro has none
    assert _ids(crm, "lead", "list", "--sort", "company") == [2, 5, 1, 4, 3]
    assert _ids(crm, "lead", "list", "--sort", "company", "--reverse") == [4, 1, 5, 2, 3]
    assert _ids(crm, "lead", "list", "--sort", "timeline", "--reverse") == [3, 5, 4, 2, 1]
    assert _ids(crm, "opp", "list", "--sort", "close") == [5, 1, 3, 2, 4]
    assert _ids(crm, "opp", "list", "--sort", "close", "--reverse") == [3, 1, 5, 4, 2]


def test_reverse_alone_turns_the_usual_order_round(crm: Run, crm_json: Json, sales: None) -> None:
    assert _ids(crm, "lead", "list", "--reverse") == [5, 4, 3, 2, 1]
    assert _ids(crm, "opp", "list", "--reverse", "--limit", "2") == [5, 4]
    assert _names(crm_json, "account", "list", "--reverse") == ["Zebra SA", "beta", "Açaí Comércio"]
    assert _names(crm_json, "stage", "list", "--reverse")[:2] == ["Negotiation", "Proposal"]
    assert _ids(crm, "activity", "list", "--all", "--reverse") == [1, 3, 2]  # undated last


def test_a_limit_keeps_the_first_ones_of_the_order_asked_for(crm: Run, sales: None) -> None:
    assert _ids(crm, "opp", "list", "--sort", "amount", "--reverse", "--limit", "2") == [5, 3]
    assert _ids(crm, "lead", "list", "--limit", "3") == [1, 2, 3]
    assert _ids(crm, "contact", "list", "--limit", "1") == [3]  # by name: Édson
    crm("opp", "list", "--limit", "0", code=2)
    huge = "99999999999999999999"  # beyond 64 bits: every row, on both backends alike
    assert _ids(crm, "opp", "list", "--limit", huge) == [1, 2, 3, 4, 5]


def test_opp_stages_sort_in_pipeline_order_and_statuses_open_won_lost(
    crm: Run, sales: None
) -> None:
    # Prospecting: 1, 3, 5; Proposal: 2; Negotiation: 4 (not the stages' alphabetical order)
    assert _ids(crm, "opp", "list", "--sort", "stage") == [1, 3, 5, 2, 4]
    assert _ids(crm, "opp", "list", "--sort", "stage", "--reverse") == [4, 2, 5, 3, 1]
    assert _ids(crm, "opp", "list", "--sort", "status") == [1, 2, 4, 3, 5]
    # by account's folded name: Açaí Comércio (2, 4), beta (3, 5), Zebra SA (1)
    assert _ids(crm, "opp", "list", "--sort", "account") == [2, 4, 3, 5, 1]
    assert _ids(crm, "opp", "list", "--sort", "expected_close", "--limit", "1") == [5]


def test_leads_sort_by_status_in_their_life_cycle(crm: Run, sales: None) -> None:
    crm("lead", "archive", "1", "-q")
    assert _ids(crm, "lead", "list", "--all", "--sort", "status") == [2, 4, 5, 3, 1]
    assert _ids(crm, "lead", "list", "--sort", "status") == [2, 4, 5, 3]  # archived hidden


def test_activities_sort_by_due_subject_and_status(crm: Run, sales: None) -> None:
    assert _ids(crm, "activity", "list", "--all", "--sort", "due") == [3, 1, 2]
    assert _ids(crm, "activity", "list", "--all", "--sort", "due", "--reverse") == [1, 3, 2]
    # pending before done; among the pending, dated ones first
    assert _ids(crm, "activity", "list", "--all", "--sort", "status") == [1, 2, 3]
    assert _ids(crm, "activity", "list", "--all", "--sort", "type") == [1, 2, 3]
    assert _ids(crm, "activity", "list", "--sort", "id", "--reverse") == [2, 1]  # pending only


def test_contacts_without_an_account_come_last_by_account(crm: Run, sales: None) -> None:
    assert _ids(crm, "contact", "list", "--sort", "account") == [1, 3, 2]
    assert _ids(crm, "contact", "list", "--sort", "account", "--reverse") == [3, 1, 2]
    assert _ids(crm, "contact", "list", "--sort", "email", "--reverse") == [1, 3, 2]


def test_csv_and_json_keep_their_keys_and_follow_the_order(
    crm: Run, crm_json: Json, sales: None
) -> None:
    document = crm_json("opp", "list", "--sort", "amount", "--limit", "2")
    assert [(o["id"], o["amount"]) for o in document] == [(2, "250.00"), (4, "999.99")]
    assert {"id", "name", "account_id", "amount", "expected_close"} <= set(document[0])
    rows = list(csv.reader(io.StringIO(crm("lead", "list", "--sort", "name", "--csv").stdout)))
    assert rows[0][:2] == ["id", "name"]
    assert [r[1] for r in rows[1:]] == ["Álvaro", "ana", "Ana", "bruno", "Zé Carlos"]


def test_opp_search_ignores_case_and_accents_in_the_deal_and_its_account(
    crm: Run, sales: None
) -> None:
    assert _ids(crm, "opp", "list", "--search", "conceicao") == [5]
    assert _ids(crm, "opp", "list", "--search", "ACAI") == [2, 4]  # the account's name
    assert _ids(crm, "opp", "list", "--search", "renova") == [1]
    assert _ids(crm, "opp", "list", "--search", "%") == []  # literal, not a wildcard
    assert _ids(crm, "opp", "list", "--search", "a", "--status", "open", "--account", "beta") == []


def test_opp_amount_bounds_include_their_own_value(crm: Run, sales: None) -> None:
    assert _ids(crm, "opp", "list", "--min-amount", "1.000,00") == [1, 3, 5]
    assert _ids(crm, "opp", "list", "--max-amount", "1000") == [1, 2, 3, 4]
    assert _ids(crm, "opp", "list", "--min-amount", "R$ 999,99", "--max-amount", "999.99") == [4]
    assert _ids(crm, "opp", "list", "--min-amount", "2000", "--max-amount", "100") == []


def test_opp_close_bounds_include_the_day_named(crm: Run, sales: None) -> None:
    assert _ids(crm, "opp", "list", "--close-before", "31/12/2026") == [1, 5]
    assert _ids(crm, "opp", "list", "--close-after", "2026-12-31") == [1, 3]
    both = ("--close-after", "2026-12-31", "--close-before", "2026-12-31")
    assert _ids(crm, "opp", "list", *both) == [1]  # deals without a close date meet neither


def test_opp_filter_values_are_checked_like_everywhere_else(crm: Run, sales: None) -> None:
    wrong = crm("opp", "list", "--min-amount", "€ 10", code=1)
    assert "--min-amount" in wrong.stderr and "EUR" in wrong.stderr
    bad = crm("opp", "list", "--max-amount", "doze", code=2)
    assert "--max-amount" in bad.stderr and "Traceback" not in bad.stderr
    crm("opp", "list", "--close-before", "31/02/2026", code=2)
    gone = crm("opp", "list", "--account", "nobody", code=1)
    assert "nobody" in gone.stderr


# -- a screenful on a terminal -----------------------------------------------------------------


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout is a terminal of 200 x 12 (a table shows 6 rows and says how many more)."""
    monkeypatch.setattr(
        typer.testing._NamedTextIOWrapper, "isatty", lambda self: self.name == "<stdout>"
    )
    monkeypatch.setenv("LINES", "12")


@pytest.mark.parametrize("entity", ["lead", "opportunity", "account", "contact", "activity"])
def test_a_long_list_on_a_terminal_shows_a_screenful_unless_a_limit_is_given(
    crm: Run, entity: str, terminal: None
) -> None:
    adders = {
        "lead": lambda n: ("lead", "add", f"Pessoa {n}"),
        "opportunity": lambda n: ("opp", "add", f"Deal {n}", "--account", "Acme"),
        "account": lambda n: ("account", "add", f"Firma {n}"),
        "contact": lambda n: ("contact", "add", f"Contato {n}"),
        "activity": lambda n: ("activity", "add", f"Ligar {n}", "--type", "call", "--account", "1"),
    }
    if entity == "activity":
        crm("account", "add", "Acme", "-q")
    for n in range(10):
        crm(*adders[entity](n), "-q")
    command = [word for word in LISTS[entity] if word != "--all"]
    cut = crm(*command).stdout.splitlines()
    assert cut[-1].startswith("… 4 more rows: piped output is never cut")
    limited = crm(*command, "--limit", "9").stdout
    assert "more rows" not in limited and len(limited.splitlines()) >= 9 + 3
    whole = crm(*command, "--all").stdout
    assert "more rows" not in whole and len(whole.splitlines()) >= 10 + 3
    assert len(json.loads(crm(*command, "--json").stdout)) == 10  # JSON is never cut
