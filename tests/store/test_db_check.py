"""`Database.check` on both backends: real checks, and a word on what they were."""

from __future__ import annotations

import pytest

from crmcli.store.db import Database


def test_a_healthy_database_has_no_problems_and_says_what_was_checked(
    db: Database, backend: str
) -> None:
    with db.write() as uow:
        uow.settings.set("probe", "1")
        uow.commit()
    problems, checked = db.check()
    assert problems == []
    if backend == "sqlite":
        assert checked == "SQLite integrity_check and foreign_key_check"
    else:
        # every foreign key crmcli declares is looked at (13 in the current schema)
        assert checked.startswith("PostgreSQL: the rows of ")
        keys = int(checked.split("the rows of ")[1].split()[0])
        assert keys >= 10


@pytest.mark.postgres_only
def test_engine_connections_carry_the_default_timeouts(db: Database) -> None:
    with db.read() as uow:
        lock = uow.conn.scalar("SHOW lock_timeout")
        path = uow.conn.scalar("SHOW search_path")
    assert lock == "30s"
    assert path.startswith("crm_test_")  # the URL's own options are kept beside lock_timeout
