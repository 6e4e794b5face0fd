"""The unit of work: one transaction, one repository per aggregate, an explicit commit.

    with db.write() as uow:
        lead = uow.leads.get(3)
        uow.leads.update(lead, {"status": "qualified"})
        uow.commit()

Leaving the block without `commit()` rolls everything back (a dry run is simply "don't
commit"). The commit writes the journal's change set first, in the same transaction, then
commits with Ctrl-C and SIGTERM held back (`interrupts.deferred`), so an interrupt lands
before it (nothing written) or after it (all written), never unknowably within.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from crmcli import clock, interrupts
from crmcli.store.repos.accounts import AccountRepository, ContactRepository
from crmcli.store.repos.activities import ActivityRepository
from crmcli.store.repos.journal import Journal
from crmcli.store.repos.leads import LeadRepository
from crmcli.store.repos.opportunities import OpportunityRepository
from crmcli.store.repos.reports import ReportQueries
from crmcli.store.repos.settings import SettingsRepository
from crmcli.store.repos.stages import StageRepository
from crmcli.store.sql import Conn

if TYPE_CHECKING:
    from crmcli.store.repos.dump import DumpRepository


class UnitOfWork:
    """Everything one use case reads and writes, in one transaction."""

    def __init__(
        self,
        conn: Conn,
        *,
        write: bool,
        actor: str | None = None,
        command: str | None = None,
        now: Callable[[], datetime] = clock.utcnow,
    ) -> None:
        self.conn = conn
        self.write = write
        self.actor = actor
        self.command = command
        self.now = now
        self.committed = False
        self.journal = Journal(self)
        self.settings = SettingsRepository(self)
        self.leads = LeadRepository(self)
        self.accounts = AccountRepository(self)
        self.contacts = ContactRepository(self)
        self.stages = StageRepository(self)
        self.opps = OpportunityRepository(self)
        self.activities = ActivityRepository(self)
        self.reports = ReportQueries(conn)

    @cached_property
    def dump(self) -> DumpRepository:
        """Whole-database reads and writes (export, import, copy), loaded when first used."""
        from crmcli.store.repos.dump import DumpRepository

        return DumpRepository(self)

    @property
    def dialect(self) -> str:
        """The backend's name: `sqlite` or `postgresql`."""
        return self.conn.dialect.name

    def take_import_turn(self) -> None:
        """Wait until no other import is writing (PostgreSQL), as every writer does on SQLite.

        Two imports whose files share e-mails (or deal accounts) in different orders would
        otherwise each hold rows the other needs next: a deadlock, and one import lost. A
        transaction-level advisory lock makes imports take turns; other commands do not wait
        for it, only for the rows they share with an import.
        """
        if self.conn.dialect.import_turn:
            self.conn.rows(self.conn.dialect.import_turn)

    def commit(self) -> None:
        """Record the change set and commit; an interrupt lands before or after, never within."""
        if self.write:
            self.journal.flush()
        with interrupts.deferred():
            self.conn.commit()
            self.committed = True
            if self.write:
                interrupts.note_saved()

    def rollback(self) -> None:
        """Undo everything this unit wrote (what leaving without commit does)."""
        self.conn.rollback()
