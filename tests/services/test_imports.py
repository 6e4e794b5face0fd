"""`import_leads` / `import_opportunities` called directly: counts, one transaction, dry-run and
strict rollbacks, duplicates across write batches, progress reports."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from crmcli.domain.models import Lead
from crmcli.errors import ValidationError
from crmcli.importing.reader import Table, open_table
from crmcli.services import imports, leads
from crmcli.services.imports import (
    ImportOptions,
    ImportSummary,
    RowProblem,
    import_leads,
    import_opportunities,
)
from crmcli.store.db import Database


def table(data: bytes | str, name: str = "t.csv") -> Table:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return open_table(io.BytesIO(raw), name=name)


def run(db: Database, data: bytes | str, **options: object) -> ImportSummary:
    return import_leads(db, table(data), ImportOptions(**options))  # type: ignore[arg-type]


def counts(summary: ImportSummary) -> tuple[int, int, int, int, int]:
    return (summary.read, summary.inserted, summary.updated, summary.skipped, summary.rejected)


def emails(db: Database) -> list[str | None]:
    return sorted((lead.email for lead in leads.list_leads(db, include_archived=True)), key=str)


def lead_by_email(db: Database, email: str) -> Lead:
    with db.read() as uow:
        lead = uow.leads.by_email(email)
    assert lead is not None, email
    return lead


MIXED = (
    "Name;Email;Phone;Budget\r\n"
    "Ana;ana@x.com;;1.234,56\r\n"  # 2: new
    "Ana Again;ANA@x.com;11 1111;\r\n"  # 3: duplicate within the file
    "Old;old@x.com;22 2222;\r\n"  # 4: in the database
    "Bad;bad@;;\r\n"  # 5: bad e-mail
    "Nobody;;;\r\n"  # 6: no e-mail: always new
    ";nameless@x.com;;\r\n"  # 7: no name
)


@pytest.fixture
def old_lead(db: Database) -> int:
    return leads.add_lead(db, "Old Lead", email="old@x.com").id


def test_counts_and_committed(db: Database, old_lead: int) -> None:
    summary = run(db, MIXED)
    assert counts(summary) == (6, 2, 0, 2, 2)
    assert summary.committed is True and summary.dry_run is False
    assert [(e.line, "bad@" in e.reason) for e in summary.errors] == [(5, True), (7, False)]
    assert "name" in summary.errors[1].reason
    assert db.count("lead") == 3
    ana = lead_by_email(db, "ana@x.com")
    assert (ana.name, ana.phone, ana.budget) == ("Ana", None, Decimal("1234.56"))
    assert lead_by_email(db, "old@x.com").phone is None  # skip never touches it


def test_update_fills_gaps_only(db: Database, old_lead: int) -> None:
    summary = run(db, MIXED, on_duplicate="update")
    assert counts(summary) == (6, 2, 2, 0, 2)
    ana = lead_by_email(db, "ana@x.com")
    assert (ana.name, ana.phone) == ("Ana", "11 1111")
    old = lead_by_email(db, "old@x.com")
    assert (old.id, old.name, old.phone) == (old_lead, "Old Lead", "22 2222")


def test_on_reject_gets_the_original_cells(db: Database) -> None:
    seen: list[RowProblem] = []
    data = "Name,Email\r\n  Ana  ,ana@x.com\r\nBad,  not an email \r\n"
    summary = import_leads(db, table(data), ImportOptions(), on_reject=seen.append)
    assert [(p.line, p.cells) for p in seen] == [(3, ["Bad", "  not an email "])]
    assert summary.errors == [RowProblem(3, seen[0].reason)]
    assert summary.errors[0].cells == []  # the summary does not hold the rows' cells


def test_dry_run_rolls_back_and_matches_a_real_run(db: Database, old_lead: int) -> None:
    dry = run(db, MIXED, on_duplicate="update", dry_run=True)
    assert dry.dry_run is True and dry.committed is False
    assert emails(db) == ["old@x.com"]
    assert lead_by_email(db, "old@x.com").phone is None  # the update was rolled back too
    real = run(db, MIXED, on_duplicate="update")
    assert counts(dry) == counts(real)
    assert dry.errors == real.errors
    assert real.committed is True


def test_strict_rolls_back_when_a_row_is_bad(db: Database, old_lead: int) -> None:
    summary = run(db, MIXED, strict=True, on_duplicate="update")
    assert summary.committed is False
    assert summary.rejected == 2 and summary.inserted == 2
    assert emails(db) == ["old@x.com"]
    assert lead_by_email(db, "old@x.com").phone is None


def test_strict_commits_a_clean_file(db: Database) -> None:
    summary = run(db, "Name,Email\r\nAna,ana@x.com\r\n", strict=True)
    assert summary.committed is True
    assert emails(db) == ["ana@x.com"]


def test_source_option_tags_every_row(db: Database) -> None:
    run(db, "Name,Email,Source\r\nAna,ana@x.com,Web\r\nBia,bia@x.com,\r\n", source="Feira 2026")
    assert {lead_by_email(db, e).source for e in ("ana@x.com", "bia@x.com")} == {"Feira 2026"}


def test_bad_options_refused_before_anything_is_written(db: Database) -> None:
    with pytest.raises(ValidationError, match="on-duplicate"):
        run(db, "Name\r\nAna\r\n", on_duplicate="merge")
    with pytest.raises(ValidationError, match="no column"):
        run(db, "Name\r\nAna\r\n", mapping=("Nome=name",))
    with pytest.raises(ValidationError, match="name"):
        run(db, "Email\r\nana@x.com\r\n")
    assert db.count("lead") == 0


def big_file(rows: int, *, every: int) -> tuple[str, set[str], set[int]]:
    """`rows` leads where every `every`-th row repeats, in upper case and with a phone, the
    e-mail of a row about half-way back in the file (so repeats cross write batches).

    Returns the file, the distinct e-mails and the numbers of the repeated leads.
    """
    lines = ["Name,Email,Phone"]
    unique: set[str] = set()
    targets: set[int] = set()
    for i in range(rows):
        if i and i % every == 0:
            j = (i // 2) // every * every + 1  # never itself a repeat row
            targets.add(j)
            lines.append(f"Again {i},LEAD{j}@EXAMPLE.COM,+55 {j}")
        else:
            lines.append(f"Lead {i},lead{i}@example.com,")
            unique.add(f"lead{i}@example.com")
    return "\r\n".join(lines) + "\r\n", unique, targets


def test_duplicates_across_the_real_batch_size(db: Database) -> None:
    data, unique, targets = big_file(imports.BATCH + 500, every=10)
    assert max(targets) < imports.BATCH < 2 * max(targets)
    calls: list[int] = []
    summary = import_leads(db, table(data), ImportOptions(), progress=calls.append)
    assert summary.read == imports.BATCH + 500
    assert summary.inserted == len(unique) == db.count("lead")
    assert summary.skipped == summary.read - len(unique)
    assert calls[-1] == summary.read and len(calls) >= 2


@pytest.mark.parametrize("batch", [1, 7, 50])
def test_duplicates_spanning_small_batches(
    db: Database, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(imports, "BATCH", batch)
    leads.add_lead(db, "Pre", email="lead5@example.com")
    data, unique, targets = big_file(400, every=7)
    calls: list[int] = []
    summary = import_leads(
        db, table(data), ImportOptions(on_duplicate="update"), progress=calls.append
    )
    repeats = 400 - len(unique)
    assert summary.read == 400
    assert summary.inserted == len(unique) - 1  # lead5 was already there
    assert summary.updated + summary.skipped == repeats + 1
    assert db.count("lead") == len(unique)
    # Each repeated e-mail filled its missing phone exactly once, whichever batch it was in.
    assert summary.updated == len(targets)
    for j in targets:
        assert lead_by_email(db, f"lead{j}@example.com").phone == f"+55 {j}"
    assert lead_by_email(db, "lead2@example.com").phone is None
    assert lead_by_email(db, "lead5@example.com").name == "Pre"
    assert calls == sorted(calls) and calls[-1] == 400
    assert len(calls) >= 400 // (batch * 2)


def test_progress_called_even_for_an_empty_body(db: Database) -> None:
    calls: list[int] = []
    summary = import_leads(db, table("Name,Email\r\n"), ImportOptions(), progress=calls.append)
    assert counts(summary) == (0, 0, 0, 0, 0)
    assert summary.committed is True
    assert calls == [0]


# -- opportunities -----------------------------------------------------------------------------


DEALS = (
    "Name;Account;Amount;Stage;Status;Probability\r\n"
    "Deal A;Acme;1.000,00;proposal;;\r\n"
    "Deal B;ACME;500;;won;\r\n"
    "Deal C;Beta;10;Nowhere;;\r\n"
    "Deal D;Beta;10;;;55\r\n"
)


def test_opportunities_counts_dry_run_and_reimport(db: Database) -> None:
    calls: list[int] = []
    dry = import_opportunities(db, table(DEALS), ImportOptions(dry_run=True), progress=calls.append)
    assert counts(dry) == (4, 3, 0, 0, 1) and dry.committed is False
    assert (db.count("opportunity"), db.count("account")) == (0, 0)
    assert calls[-1] == 4

    real = import_opportunities(db, table(DEALS), ImportOptions())
    assert counts(real) == counts(dry) and real.errors == dry.errors
    assert "Nowhere" in real.errors[0].reason and real.errors[0].line == 4
    assert (db.count("opportunity"), db.count("account")) == (3, 2)

    again = import_opportunities(db, table(DEALS), ImportOptions())
    assert counts(again) == (4, 0, 0, 3, 1)
    assert db.count("opportunity") == 3


def test_opportunities_strict_rolls_back(db: Database) -> None:
    summary = import_opportunities(db, table(DEALS), ImportOptions(strict=True))
    assert summary.committed is False and summary.rejected == 1
    assert (db.count("opportunity"), db.count("account")) == (0, 0)


def test_opportunities_need_name_and_account_columns(db: Database) -> None:
    with pytest.raises(ValidationError, match="account"):
        import_opportunities(db, table("Name,Amount\r\nX,1\r\n"), ImportOptions())
