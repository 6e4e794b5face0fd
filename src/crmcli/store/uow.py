"""The unit of work: one transaction, one repository per aggregate, an explicit commit.

    with db.write() as uow:
        lead = uow.leads.get(3)
        uow.leads.update(lead, {"status": "qualified"})
        uow.commit()

Leaving the block without `commit()` rolls everything back (a dry run is simply "don't
commit"). The commit writes the journal's change set first, in the same transaction, then
commits with Ctrl-C and SIGTERM held back (`interrupts.deferred`), so an interrupt lands
before it (nothing written) or after it (all written), never unknowably within.

Events (`uow.emit("lead-added", [lead])`) are queued and handed, with the change set's id, to
the `after_commit` callback once the commit succeeded (the hooks, `crmcli.hooks`); a unit
left without committing drops them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from crmcli import clock, interrupts
from crmcli.store.sql import Conn

if TYPE_CHECKING:
    from crmcli.store.repos.accounts import AccountRepository, ContactRepository
    from crmcli.store.repos.activities import ActivityRepository
    from crmcli.store.repos.asof import AsOfQueries
    from crmcli.store.repos.dump import DumpRepository
    from crmcli.store.repos.duplicates import DuplicateQueries
    from crmcli.store.repos.journal import Journal
    from crmcli.store.repos.leads import LeadRepository
    from crmcli.store.repos.merge import MergeRepository
    from crmcli.store.repos.opportunities import OpportunityRepository
    from crmcli.store.repos.reports import ReportQueries
    from crmcli.store.repos.search import SearchQueries
    from crmcli.store.repos.settings import SettingsRepository
    from crmcli.store.repos.stages import StageRepository
    from crmcli.store.repos.undo import UndoRepository

Event = tuple[str, list[Any]]
"""An event of a unit of work: its name (`lead-added`) and the records it is about."""
AfterCommit = Callable[[int | None, list[Event]], None]
"""Called with the change set's id (None if nothing was journalled) and the events, in the
order they were emitted, after a commit that succeeded. It must not raise."""


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
        after_commit: AfterCommit | None = None,
    ) -> None:
        self.conn = conn
        self.write = write
        self.actor = actor
        self.command = command
        self.now = now
        self.committed = False
        self.after_commit = after_commit
        self.events: list[Event] = []

    # Each repository is built, and its module imported, when a use case first needs it: a
    # command loads only the repositories it touches (`crm agenda` reads two of them).

    @cached_property
    def journal(self) -> Journal:
        """The change set this unit records (written at commit)."""
        from crmcli.store.repos.journal import Journal

        return Journal(self)

    @cached_property
    def settings(self) -> SettingsRepository:
        """The database's settings (currency, owner…)."""
        from crmcli.store.repos.settings import SettingsRepository

        return SettingsRepository(self)

    @cached_property
    def leads(self) -> LeadRepository:
        """The lead table."""
        from crmcli.store.repos.leads import LeadRepository

        return LeadRepository(self)

    @cached_property
    def accounts(self) -> AccountRepository:
        """The account table."""
        from crmcli.store.repos.accounts import AccountRepository

        return AccountRepository(self)

    @cached_property
    def contacts(self) -> ContactRepository:
        """The contact table."""
        from crmcli.store.repos.accounts import ContactRepository

        return ContactRepository(self)

    @cached_property
    def stages(self) -> StageRepository:
        """The pipeline's stages."""
        from crmcli.store.repos.stages import StageRepository

        return StageRepository(self)

    @cached_property
    def opps(self) -> OpportunityRepository:
        """Opportunities and their stage history."""
        from crmcli.store.repos.opportunities import OpportunityRepository

        return OpportunityRepository(self)

    @cached_property
    def activities(self) -> ActivityRepository:
        """The activity table."""
        from crmcli.store.repos.activities import ActivityRepository

        return ActivityRepository(self)

    @cached_property
    def reports(self) -> ReportQueries:
        """The reports' read queries."""
        from crmcli.store.repos.reports import ReportQueries

        return ReportQueries(self.conn)

    @cached_property
    def search(self) -> SearchQueries:
        """The query of `crm search`."""
        from crmcli.store.repos.search import SearchQueries

        return SearchQueries(self.conn)

    @cached_property
    def undo(self) -> UndoRepository:
        """Reverting change sets (`crm undo`), loaded when first used."""
        from crmcli.store.repos.undo import UndoRepository

        return UndoRepository(self)

    @cached_property
    def merge(self) -> MergeRepository:
        """Moving links and removing records for `crm … merge`, loaded when first used."""
        from crmcli.store.repos.merge import MergeRepository

        return MergeRepository(self)

    @cached_property
    def asof(self) -> AsOfQueries:
        """The reads of reports as of a date (`--as-of`), loaded when first used."""
        from crmcli.store.repos.asof import AsOfQueries

        return AsOfQueries(self)

    @cached_property
    def dump(self) -> DumpRepository:
        """Whole-database reads and writes (export, import, copy), loaded when first used."""
        from crmcli.store.repos.dump import DumpRepository

        return DumpRepository(self)

    @cached_property
    def duplicates(self) -> DuplicateQueries:
        """Records sharing an e-mail, phone or name key (`crm duplicates`), loaded when first
        used."""
        from crmcli.store.repos.duplicates import DuplicateQueries

        return DuplicateQueries(self)

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

    def emit(self, event: str, records: list[Any]) -> None:
        """Queue `event` about `records` (domain dataclasses) for after the commit."""
        self.events.append((event, list(records)))

    def commit(self) -> None:
        """Record the change set and commit; an interrupt lands before or after, never within.

        Then the queued events go to `after_commit`, if one was given.
        """
        if self.write and "journal" in self.__dict__:
            self.journal.flush()
        with interrupts.deferred():
            self.conn.commit()
            self.committed = True
            if self.write:
                interrupts.note_saved()
        events, self.events = self.events, []
        if events and self.after_commit is not None:
            self.after_commit(self.journal.last_id, events)

    def rollback(self) -> None:
        """Undo everything this unit wrote (what leaving without commit does)."""
        self.conn.rollback()
