"""`opp import` is batched like `lead import` (issue 12, item 7): accounts and contacts are
resolved once per distinct name or e-mail, existing deals looked up once per batch, and new
deals with their first history rows inserted together — a number of statements that grows with
the batches, not with the rows (it ran ~6.5 statements a row). Everything a row-by-row import
did still holds across batch boundaries: duplicates within the file, rejects in file order,
updates of a deal an earlier row of the same batch added, won/lost rows, history, owners.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from crmcli.services.imports import OPP_BATCH

Run = Callable[..., Result]
Json = Callable[..., Any]

HEADER = "name,account,contact email,amount,stage,probability,status,owner"


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement sent to a PostgreSQL server while the test runs (all of them go
    through `PsycopgConn._send`; SQLite's go through sqlite3 itself, unseen here)."""
    from crmcli.store.sql import PsycopgConn

    sent: list[str] = []
    send = PsycopgConn._send

    def record(self: PsycopgConn, sql: str, params: Any) -> Any:
        sent.append(sql)
        return send(self, sql, params)

    monkeypatch.setattr(PsycopgConn, "_send", record)
    yield sent


@pytest.fixture
def sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[list[str]], str]:
    monkeypatch.setenv("CRM_NOW", "2027-01-10T09:00:00")
    monkeypatch.setenv("CRM_OWNER", "olga")

    def write(rows: list[str]) -> str:
        path = tmp_path / "deals.csv"
        path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        return str(path)

    return write


def _import(crm: Run, path: str, *options: str, code: int = 0) -> Any:
    return json.loads(crm("opp", "import", path, "--json", *options, code=code).stdout)


def test_statements_grow_with_batches_not_rows(
    crm: Run, sheet: Callable[[list[str]], str], statements: list[str], crm_json: Json
) -> None:
    rows = 3 * OPP_BATCH
    path = sheet(
        [
            f"Deal {i},Account {i % 50},buyer{i % 300}@example.com,{i}.50,,,"
            f"{('open', 'won', 'lost')[i % 3]},"
            for i in range(rows)
        ]
    )
    crm("db", "init")
    statements.clear()
    summary = _import(crm, path)
    assert (summary["read"], summary["inserted"], summary["rejected"]) == (rows, rows, 0)
    writes = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    # a row at a time: 3 inserts a row (deal, history, and accounts/contacts when new)
    assert len(writes) <= 3 * 4, writes[:20]  # accounts, contacts, deals, history per batch
    assert len(statements) < rows / 20, len(statements)
    assert len(crm_json("account", "list")) == 50
    assert len(crm_json("contact", "list")) == 300
    won = crm_json("opp", "show", "2")
    assert (won["status"], won["probability"], won["amount"]) == ("won", 100, "1.50")
    assert won["closed_at"] == "2027-01-10T09:00:00Z" and won["owner"] == "olga"
    assert [(h["stage"], h["status"]) for h in won["history"]] == [("Prospecting", "won")]
    lost = crm_json("opp", "show", "3")
    assert (lost["status"], lost["probability"]) == ("lost", 0)
    open_ = crm_json("opp", "show", str(rows - 2))
    assert (open_["status"], open_["probability"], open_["closed_at"]) == ("open", 10, None)
    assert open_["name"] == f"Deal {rows - 3}"


def test_duplicates_and_rejects_across_batches_keep_file_order(
    crm: Run, sheet: Callable[[list[str]], str], crm_json: Json
) -> None:
    filler = [f"Filler {i},Acme,,1,,,," for i in range(OPP_BATCH)]
    rows = [
        "Big deal,Acme,ann@example.com,100,Proposal,,,",  # line 2: new
        "BIG  DEAL,ACME,,999,,,,",  # line 3: the same deal again (same batch): skipped
        "Other,Beta,ANN@example.com,5,Nowhere,,,",  # line 4: no such stage
        *filler,  # lines 5 ..: the next batch starts among these
        "big deal,acme,,1,,,,",  # the same deal, a batch later: skipped
        "Late,Beta,ann@example.com,7,,55,,",  # Beta is first created here; Ann reused
        "Bad,Beta,,12;3,,,,",  # a bad amount
    ]
    path = sheet(rows)
    crm("db", "init")
    dry = _import(crm, path, "--dry-run", code=3)
    assert crm_json("opp", "list") == [] and crm_json("account", "list") == []
    summary = _import(crm, path, "--rejects", str(Path(path).with_name("rejects.csv")), code=3)
    expected = (len(rows), OPP_BATCH + 2, 0, 2, 2)
    keys = ("read", "inserted", "updated", "skipped", "rejected")
    assert tuple(summary[k] for k in keys) == expected
    assert tuple(dry[k] for k in keys) == expected
    assert [e["line"] for e in summary["errors"]] == [4, len(rows) + 1]
    # ids by name: a dry run on PostgreSQL uses up sequence numbers
    accounts = {a["name"]: a["id"] for a in crm_json("account", "list")}
    assert sorted(accounts) == ["Acme", "Beta"] and accounts["Acme"] < accounts["Beta"]
    (ann,) = crm_json("contact", "list")
    assert (ann["email"], ann["account_id"]) == ("ann@example.com", accounts["Acme"])
    deals = crm_json("opp", "list")
    ids = {d["name"]: d["id"] for d in deals}
    assert [d["name"] for d in deals][:2] == ["Big deal", "Filler 0"] and len(ids) == len(deals)
    big = crm_json("opp", "show", str(ids["Big deal"]))
    assert (big["amount"], big["stage"], big["probability"]) == ("100.00", "Proposal", 60)
    late = crm_json("opp", "show", str(ids["Late"]))
    assert (late["account_id"], late["contact_id"]) == (accounts["Beta"], ann["id"])
    assert (late["probability"], late["probability_source"]) == (55, "manual")
    assert len(late["history"]) == 1


def test_update_of_a_deal_added_earlier_in_the_same_batch(
    crm: Run, sheet: Callable[[list[str]], str], crm_json: Json
) -> None:
    path = sheet(
        [
            "Big deal,Acme,,0,,,,",  # line 2: new, amount 0, no contact
            "Small,Acme,,3,,,,",  # line 3: new
            "Big deal,Acme,bo@example.com,250,Proposal,,won,",  # line 4: wins line 2's deal
            "Big deal,Acme,,,,,open,",  # line 5: a sheet does not reopen a won deal
            "Small,Acme,,,,,oops,",  # line 6: a bad status
            "Third,Acme,,1,,,,",  # line 7: new, after the updates
        ]
    )
    crm("db", "init")
    summary = _import(crm, path, "--on-duplicate", "update", code=3)
    keys = ("read", "inserted", "updated", "skipped", "rejected")
    assert tuple(summary[k] for k in keys) == (6, 3, 1, 0, 2)
    assert [e["line"] for e in summary["errors"]] == [5, 6]
    assert "reopen" in summary["errors"][0]["reason"]
    big = crm_json("opp", "show", "1")
    assert (big["status"], big["probability"], big["amount"]) == ("won", 100, "250.00")
    assert big["contact_id"] == 1 and big["owner"] == "olga"
    assert [(h["stage"], h["status"]) for h in big["history"]] == [
        ("Prospecting", "open"),
        ("Proposal", "open"),
        ("Proposal", "won"),
    ]
    assert [o["name"] for o in crm_json("opp", "list")] == ["Big deal", "Small", "Third"]
