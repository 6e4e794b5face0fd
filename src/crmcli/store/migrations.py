"""Append-only schema migrations, recorded by name in `crm_migrations`.

Never edit or reorder a migration that has shipped: add a new one at the end. Each migration is
SQL text with a few dialect placeholders, so the same list builds SQLite and PostgreSQL schemas.
Migrations run inside the caller's write transaction (SQLite and PostgreSQL both have
transactional DDL), so a migration is applied completely or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from crmcli.domain.records import record

if TYPE_CHECKING:
    from crmcli.store.sql import Conn, Dialect


@record
class Migration:
    """One named schema step."""

    name: str
    apply: Callable[[Conn], None]


def _run_sql(script: str) -> Callable[[Conn], None]:
    def apply(conn: Conn) -> None:
        for statement in script.format(**conn.dialect.words).split(";"):
            if statement.strip():
                conn.run(statement)

    return apply


_M0001_CORE = """
CREATE TABLE crm_meta (
    "key" VARCHAR NOT NULL PRIMARY KEY,
    value VARCHAR NOT NULL
);
CREATE TABLE account (
    id {pk},
    name VARCHAR NOT NULL,
    name_key VARCHAR NOT NULL UNIQUE,
    industry VARCHAR,
    website VARCHAR,
    phone VARCHAR,
    notes VARCHAR,
    created_at {ts} NOT NULL
);
CREATE TABLE contact (
    id {pk},
    name VARCHAR NOT NULL,
    name_key VARCHAR NOT NULL,
    email VARCHAR,
    email_key VARCHAR UNIQUE,
    phone VARCHAR,
    title VARCHAR,
    account_id INTEGER REFERENCES account (id),
    type VARCHAR NOT NULL,
    notes VARCHAR,
    created_at {ts} NOT NULL
);
CREATE INDEX ix_contact_name_key ON contact (name_key);
CREATE INDEX ix_contact_account_id ON contact (account_id);
CREATE TABLE stage (
    id {pk},
    name VARCHAR NOT NULL,
    name_key VARCHAR NOT NULL UNIQUE,
    position INTEGER NOT NULL,
    probability INTEGER NOT NULL,
    expected_days INTEGER,
    CONSTRAINT ck_stage_probability CHECK (probability BETWEEN 0 AND 100)
);
CREATE TABLE opportunity (
    id {pk},
    name VARCHAR NOT NULL,
    name_key VARCHAR NOT NULL,
    account_id INTEGER NOT NULL REFERENCES account (id),
    contact_id INTEGER REFERENCES contact (id),
    stage_id INTEGER REFERENCES stage (id) ON DELETE SET NULL,
    amount BIGINT NOT NULL,
    probability INTEGER NOT NULL,
    probability_manual BOOLEAN NOT NULL,
    status VARCHAR NOT NULL,
    expected_close DATE,
    owner VARCHAR,
    owner_key VARCHAR,
    lost_reason VARCHAR,
    competitor VARCHAR,
    lead_id INTEGER,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    closed_at {ts},
    CONSTRAINT ck_opportunity_probability CHECK (probability BETWEEN 0 AND 100),
    CONSTRAINT ck_opportunity_amount CHECK (amount >= 0)
);
CREATE INDEX ix_opportunity_account_id ON opportunity (account_id);
CREATE INDEX ix_opportunity_name_key ON opportunity (name_key);
CREATE INDEX ix_opportunity_open_stage ON opportunity (status, stage_id, amount, probability);
CREATE TABLE lead (
    id {pk},
    name VARCHAR NOT NULL,
    email VARCHAR,
    email_key VARCHAR UNIQUE,
    phone VARCHAR,
    company VARCHAR,
    title VARCHAR,
    source VARCHAR,
    source_key VARCHAR,
    status VARCHAR NOT NULL,
    budget BIGINT,
    timeline DATE,
    owner VARCHAR,
    owner_key VARCHAR,
    notes VARCHAR,
    extras JSON,
    disqualify_reason VARCHAR,
    search_key VARCHAR NOT NULL,
    contact_id INTEGER REFERENCES contact (id),
    account_id INTEGER REFERENCES account (id),
    opportunity_id INTEGER REFERENCES opportunity (id),
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX ix_lead_status ON lead (status);
CREATE INDEX ix_lead_source_key ON lead (source_key);
CREATE TABLE opportunity_history (
    id {pk},
    opportunity_id INTEGER NOT NULL REFERENCES opportunity (id) ON DELETE CASCADE,
    stage_id INTEGER REFERENCES stage (id) ON DELETE SET NULL,
    stage_name VARCHAR,
    status VARCHAR NOT NULL,
    probability INTEGER NOT NULL,
    at {ts} NOT NULL
);
CREATE INDEX ix_opportunity_history_opp ON opportunity_history (opportunity_id, at);
INSERT INTO stage (name, name_key, position, probability, expected_days) VALUES
    ('Prospecting', 'prospecting', 1, 10, 14),
    ('Qualification', 'qualification', 2, 20, 14),
    ('Needs analysis', 'needs analysis', 3, 40, 21),
    ('Proposal', 'proposal', 4, 60, 14),
    ('Negotiation', 'negotiation', 5, 80, 14)
"""

_M0002_ACTIVITIES = """
CREATE TABLE activity (
    id {pk},
    type VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    lead_id INTEGER REFERENCES lead (id) ON DELETE CASCADE,
    contact_id INTEGER REFERENCES contact (id) ON DELETE CASCADE,
    account_id INTEGER REFERENCES account (id) ON DELETE CASCADE,
    opportunity_id INTEGER REFERENCES opportunity (id) ON DELETE CASCADE,
    due {ts},
    due_has_time BOOLEAN NOT NULL,
    done BOOLEAN NOT NULL,
    done_at {ts},
    owner VARCHAR,
    owner_key VARCHAR,
    notes VARCHAR,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    CONSTRAINT ck_activity_one_link CHECK (
        (CASE WHEN lead_id IS NULL THEN 0 ELSE 1 END)
        + (CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END)
        + (CASE WHEN account_id IS NULL THEN 0 ELSE 1 END)
        + (CASE WHEN opportunity_id IS NULL THEN 0 ELSE 1 END) = 1
    )
);
CREATE INDEX ix_activity_done_due ON activity (done, due);
CREATE INDEX ix_activity_opportunity ON activity (opportunity_id, done);
CREATE INDEX ix_activity_lead ON activity (lead_id);
CREATE INDEX ix_activity_contact ON activity (contact_id);
CREATE INDEX ix_activity_account ON activity (account_id)
"""

_M0003_REPORT_INDEXES = """
CREATE INDEX ix_opportunity_forecast
    ON opportunity (status, expected_close, amount, probability, owner_key);
CREATE INDEX ix_opportunity_closed ON opportunity (status, closed_at, amount, owner_key);
CREATE INDEX ix_lead_owner_key ON lead (owner_key)
"""
"""Covering indexes for `forecast` (open deals by close date, won deals by close time) and the
owner filter of `lead list`; the pipeline report already has ix_opportunity_open_stage."""


# (table, key column, the column(s) it is computed from); "search" is the lead's search key.
_NAME_KEYS = (
    ("account", "name_key", "name"),
    ("stage", "name_key", "name"),
    ("contact", "name_key", "name"),
    ("opportunity", "name_key", "name"),
    ("opportunity", "owner_key", "owner"),
    ("lead", "owner_key", "owner"),
    ("lead", "source_key", "source"),
    ("activity", "owner_key", "owner"),
    ("lead", "search_key", "search"),
)
_UNIQUE_KEYS = {("account", "name_key"), ("stage", "name_key")}


def _nfc_key(text: str) -> str:
    """The matching key of a name before 0004: NFC, single-spaced, case-folded."""
    import unicodedata

    text = " ".join(unicodedata.normalize("NFC", text).split())
    return unicodedata.normalize("NFC", text.casefold())


def _rekey_names(conn: Conn) -> None:
    """0004: recompute the matching keys that `normalise_name` now folds further (issue 11).

    Keys drop format characters (zero-width, bidi) and fold compatibility forms with NFKC
    (``Ａｃｍｅ``, ``™``, ``º``); only rows whose key changes are rewritten (ASCII names and
    plain accented ones keep theirs, byte for byte). Where an account or stage would take the key of another one
    (two accounts that both read "Acme"), it keeps its old key: nothing is merged or lost, and
    it is still reached by its id. (Run today, it computes 0007's keys at once.)
    """
    from crmcli.domain.values import normalise_name

    _rekey(conn, lambda part: part.isascii() or _nfc_key(part) == normalise_name(part))


def _fold_accents(conn: Conn) -> None:
    """0007: matching keys without accents (issue 14): `acai` finds `Açaí`, `--to
    negociacao` finds `Negociação`. Every key of a non-ASCII name is recomputed; an account or
    stage whose new key another one already has keeps its old key (as in 0004): `crm
    duplicates` lists such pairs, and `crm account merge` joins them."""
    _rekey(conn, str.isascii)


def lead_search_key(name: str, email: str | None, company: str | None) -> str:
    """A lead's search key from 0001 to 0007: its normalised name, e-mail and company (0008
    makes it `tags.search_key`)."""
    from crmcli.domain.values import normalise_name

    return "\x1f".join(normalise_name(part) for part in (name, email or "", company or ""))


def _rekey(conn: Conn, unchanged: Callable[[str], bool]) -> None:
    """Recompute the `_NAME_KEYS` of every row with a part that is not `unchanged`."""
    from crmcli.domain.values import normalise_name

    for table, key_column, source in _NAME_KEYS:
        columns = "name, email, company" if source == "search" else source
        found = conn.rows(f"SELECT id, {key_column}, {columns} FROM {table} ORDER BY id")
        changed: list[tuple[int, str | None]] = []
        for row in found:
            parts = [str(p) for p in row[2:] if p is not None]
            if all(unchanged(p) for p in parts):
                continue  # a key the new folding does not change is left exactly as it is
            new: str | None
            if source == "search":
                new = lead_search_key(row[2], row[3], row[4])
            else:
                new = normalise_name(row[2]) if row[2] else None
            if new != row[1]:
                changed.append((int(row[0]), new))
        for row_id, new in changed:
            if (table, key_column) in _UNIQUE_KEYS:
                taken = conn.scalar(
                    f"SELECT 1 FROM {table} WHERE {key_column} = :k AND id <> :i",
                    {"k": new, "i": row_id},
                )
                if taken is not None:
                    continue
            conn.run(f"UPDATE {table} SET {key_column} = :k WHERE id = :i", {"k": new, "i": row_id})


_M0005_JOURNAL = """
CREATE TABLE change_set (
    id {pk},
    at {ts} NOT NULL,
    actor VARCHAR,
    command VARCHAR NOT NULL,
    undone_by INTEGER REFERENCES change_set (id)
);
CREATE TABLE change (
    id {pk},
    change_set_id INTEGER NOT NULL REFERENCES change_set (id) ON DELETE CASCADE,
    entity VARCHAR NOT NULL,
    op VARCHAR NOT NULL,
    record_id BIGINT NOT NULL,
    last_id BIGINT,
    before_values VARCHAR,
    after_values VARCHAR
);
CREATE INDEX ix_change_change_set_id ON change (change_set_id);
CREATE INDEX ix_change_record ON change (entity, record_id)
"""
"""The journal: one change set per command that changed data, and its changes (one per
record, or one per run of ids a bulk insert stored), with before/after values as JSON text."""


_M0006_COLUMNS = """
ALTER TABLE lead ADD COLUMN phone_key VARCHAR;
ALTER TABLE lead ADD COLUMN match_key VARCHAR;
ALTER TABLE contact ADD COLUMN phone_key VARCHAR;
ALTER TABLE contact ADD COLUMN match_key VARCHAR;
ALTER TABLE account ADD COLUMN phone_key VARCHAR;
ALTER TABLE account ADD COLUMN match_key VARCHAR
"""

_M0006_INDEXES = """
CREATE INDEX ix_lead_phone_key ON lead (phone_key);
CREATE INDEX ix_lead_match_key ON lead (match_key);
CREATE INDEX ix_contact_phone_key ON contact (phone_key);
CREATE INDEX ix_contact_match_key ON contact (match_key, account_id);
CREATE INDEX ix_account_phone_key ON account (phone_key);
CREATE INDEX ix_account_match_key ON account (match_key)
"""

_BACKFILL_BATCH = 500


def _add_duplicate_keys(conn: Conn) -> None:
    """0006: the keys `crm duplicates` groups by (issue 13): `phone_key` on leads, contacts and
    accounts, and `match_key` (a lead's name and company, a contact's name, an account's name
    without its legal form), back-filled from every existing row, then indexed."""
    from crmcli.domain.duplicates import company_key, lead_match_key, person_key
    from crmcli.domain.phones import phone_key
    from crmcli.store.sql import SqliteConn

    _run_sql(_M0006_COLUMNS)(conn)

    def match(table: str, row: Sequence[Any]) -> str | None:
        if table == "lead":
            return lead_match_key(row[2], row[3])
        return person_key(row[2]) if table == "contact" else company_key(row[2])

    sources = (
        ("lead", "phone, name, company"),
        ("contact", "phone, name"),
        ("account", "phone, name"),
    )
    for table, columns in sources:
        found = conn.rows(f"SELECT id, {columns} FROM {table} ORDER BY id")
        keys = [(int(row[0]), phone_key(row[1]), match(table, row)) for row in found]
        keys = [k for k in keys if k[1] is not None or k[2] is not None]
        if isinstance(conn, SqliteConn):
            conn.executemany(
                f"UPDATE {table} SET phone_key = ?, match_key = ? WHERE id = ?",
                [(phone, key, row_id) for row_id, phone, key in keys],
            )
            continue
        for start in range(0, len(keys), _BACKFILL_BATCH):
            params: dict[str, object] = {}
            values = []
            for n, (row_id, phone, key) in enumerate(keys[start : start + _BACKFILL_BATCH]):
                params.update({f"i{n}": row_id, f"p{n}": phone, f"m{n}": key})
                values.append(f"(:i{n}, :p{n}, :m{n})")
            conn.run(
                f"UPDATE {table} SET phone_key = CAST(v.column2 AS VARCHAR),"
                f" match_key = CAST(v.column3 AS VARCHAR) FROM (VALUES {', '.join(values)}) AS v"
                f" WHERE {table}.id = CAST(v.column1 AS INTEGER)",
                params,
            )
    _run_sql(_M0006_INDEXES)(conn)


_M0008_COLUMNS = """
ALTER TABLE lead ADD COLUMN tags JSON;
ALTER TABLE lead ADD COLUMN tags_key VARCHAR;
ALTER TABLE contact ADD COLUMN tags JSON;
ALTER TABLE contact ADD COLUMN tags_key VARCHAR;
ALTER TABLE contact ADD COLUMN search_key VARCHAR;
ALTER TABLE account ADD COLUMN tags JSON;
ALTER TABLE account ADD COLUMN tags_key VARCHAR;
ALTER TABLE account ADD COLUMN search_key VARCHAR;
ALTER TABLE opportunity ADD COLUMN tags JSON;
ALTER TABLE opportunity ADD COLUMN tags_key VARCHAR;
ALTER TABLE opportunity ADD COLUMN search_key VARCHAR;
ALTER TABLE activity ADD COLUMN search_key VARCHAR;
ALTER TABLE activity ADD COLUMN person_id INTEGER REFERENCES contact (id);
CREATE INDEX ix_activity_person_id ON activity (person_id);
UPDATE activity SET done = TRUE, done_at = COALESCE(done_at, created_at)
    WHERE type = 'note' AND NOT done
"""


def _day_work(conn: Conn) -> None:
    """0008 (issue 15): tags on leads, contacts, accounts and deals; the person a deal's
    activity was with (`person_id`); a search key on every searched table (`crm search`),
    back-filled, the lead's widened from name, e-mail and company to everything SEARCHED
    lists; and notes marked done (a note is a record of what happened, not a next step)."""
    from crmcli.domain.tags import SEARCHED, search_key

    _run_sql(_M0008_COLUMNS)(conn)
    for table, fields in SEARCHED.items():
        found = conn.rows(f"SELECT id, {', '.join(fields)} FROM {table} ORDER BY id")
        keys = [
            (search_key(table, dict(zip(fields, row[1:], strict=True))), row[0]) for row in found
        ]
        _update_column(conn, table, "search_key", keys)


def _update_column(conn: Conn, table: str, column: str, values: Sequence[tuple[Any, int]]) -> None:
    """Set `column` of many rows: (value, id) pairs, in batches on PostgreSQL."""
    from crmcli.store.sql import SqliteConn

    if isinstance(conn, SqliteConn):
        conn.executemany(f"UPDATE {table} SET {column} = ? WHERE id = ?", values)
        return
    for start in range(0, len(values), _BACKFILL_BATCH):
        params: dict[str, object] = {}
        rows = []
        for n, (value, row_id) in enumerate(values[start : start + _BACKFILL_BATCH]):
            params.update({f"i{n}": row_id, f"v{n}": value})
            rows.append(f"(:i{n}, :v{n})")
        conn.run(
            f"UPDATE {table} SET {column} = CAST(v.column2 AS VARCHAR)"
            f" FROM (VALUES {', '.join(rows)}) AS v WHERE {table}.id = CAST(v.column1 AS INTEGER)",
            params,
        )


def _stays_of(dialect: Dialect, where: str) -> str:
    """0009's rule: the completed stays in a stage of the deals whose history rows match
    `where` (SQL on `opportunity_history`), as (opportunity_id, stage_id, seconds) rows.

    History rows are collapsed to change points (the stage or the status differs from the
    deal's previous row; a hand-set probability is not a change). A stay starts at an open
    change point and ends at the deal's next change point (a move, a win or a loss). The
    current stay of an open deal has no end yet and is left out; so are stays in stages that
    were removed since (their history rows lost their stage id).
    """
    window = "OVER (PARTITION BY opportunity_id ORDER BY at, id)"

    def differs(a: str, b: str) -> str:  # IS DISTINCT FROM, on SQLite before 3.39
        return f"COALESCE({a} <> {b}, {a} IS NOT NULL OR {b} IS NOT NULL)"

    history = (
        "SELECT opportunity_id, stage_id, stage_name, status, at, id,"
        f" lag(stage_id) {window} AS prev_stage, lag(stage_name) {window} AS prev_name,"
        f" lag(status) {window} AS prev_status"
        f" FROM opportunity_history WHERE {where}"
    )
    changed = (
        "h.prev_status IS NULL OR h.status <> h.prev_status"
        f" OR {differs('h.prev_stage', 'h.stage_id')}"
        f" OR (h.stage_id IS NULL AND {differs('h.prev_name', 'h.stage_name')})"
    )
    points = (
        "SELECT h.opportunity_id AS opportunity_id, h.stage_id AS stage_id,"
        " h.status AS status, h.at AS at,"
        " lead(h.at) OVER (PARTITION BY h.opportunity_id ORDER BY h.at, h.id) AS next_at"
        f" FROM ({history}) AS h WHERE {changed}"
    )
    return (
        "SELECT points.opportunity_id, points.stage_id, "
        + dialect.seconds_between("points.at", "points.next_at")
        + f" FROM ({points}) AS points"
        " WHERE points.status = 'open' AND points.next_at IS NOT NULL"
        " AND points.stage_id IS NOT NULL"
    )


_STAY_COLUMNS = "INSERT INTO stage_stay (opportunity_id, stage_id, seconds) "


def _sqlite_stay_triggers(dialect: Dialect) -> list[str]:
    """Row triggers: a deal's stays are worked out again whenever a row of its history is
    added, changed or removed (by any path: a move, an import, undo, a restore, a cascade)."""

    def redo(ref: str) -> str:
        where = f"opportunity_id = {ref}.opportunity_id"
        return f"DELETE FROM stage_stay WHERE {where}; {_STAY_COLUMNS}{_stays_of(dialect, where)};"

    return [
        "CREATE TRIGGER tr_history_stays_insert AFTER INSERT ON opportunity_history"
        f" BEGIN {redo('NEW')} END",
        "CREATE TRIGGER tr_history_stays_delete AFTER DELETE ON opportunity_history"
        f" BEGIN {redo('OLD')} END",
        "CREATE TRIGGER tr_history_stays_update AFTER UPDATE ON opportunity_history"
        f" BEGIN {redo('OLD')} {redo('NEW')} END",
    ]


def _postgresql_stay_triggers(dialect: Dialect) -> list[str]:
    """Statement triggers over the changed rows (transition tables): one pass per statement,
    so a bulk insert of history works the stays of its deals out once."""

    def function(name: str, deals: str) -> str:
        where = f"opportunity_id IN ({deals})"
        return (
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN"
            f" DELETE FROM stage_stay WHERE {where};"
            f" {_STAY_COLUMNS}{_stays_of(dialect, where)};"
            " RETURN NULL; END $body$"
        )

    new = "SELECT opportunity_id FROM new_rows"
    old = "SELECT opportunity_id FROM old_rows"
    return [
        function("crm_stays_of_new_rows", new),
        function("crm_stays_of_old_rows", old),
        function("crm_stays_of_changed_rows", f"{old} UNION {new}"),
        "CREATE TRIGGER tr_history_stays_insert AFTER INSERT ON opportunity_history"
        " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION crm_stays_of_new_rows()",
        "CREATE TRIGGER tr_history_stays_delete AFTER DELETE ON opportunity_history"
        " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION crm_stays_of_old_rows()",
        "CREATE TRIGGER tr_history_stays_update AFTER UPDATE ON opportunity_history"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION crm_stays_of_changed_rows()",
    ]


_M0009_TABLE = """
CREATE TABLE stage_stay (
    id {pk},
    opportunity_id INTEGER NOT NULL,
    stage_id INTEGER NOT NULL,
    seconds BIGINT NOT NULL
);
CREATE INDEX ix_stage_stay_stage ON stage_stay (stage_id, seconds);
CREATE INDEX ix_stage_stay_opportunity ON stage_stay (opportunity_id)
"""


def _stage_stays(conn: Conn) -> None:
    """0009 (issue 16): every completed stay of a deal in a stage, stored (`stage_stay`) and
    kept by triggers on the history, so `report velocity` reads an index instead of running
    window functions over the whole history. Back-filled from the history as it stands. And
    won deals' sales cycles (seconds from creation to win) indexed, in `_cycles`' words.

    A derived table: no journal, no export; the triggers keep it equal to `_stays_of` over
    the history whatever writes it."""
    _run_sql(_M0009_TABLE)(conn)
    dialect = conn.dialect
    cycle = dialect.seconds_between("created_at", "closed_at")
    conn.run(  # covering, and led by status: SQLite picks it without ANALYZE's statistics
        f"CREATE INDEX ix_opportunity_cycle ON opportunity (status, {cycle}, closed_at, created_at)"
    )
    conn.run(_STAY_COLUMNS + _stays_of(dialect, "TRUE"))
    triggers = _sqlite_stay_triggers if dialect.name == "sqlite" else _postgresql_stay_triggers
    for statement in triggers(dialect):
        conn.run(statement)


_LAST_ACTIVITY = (
    "UPDATE opportunity SET last_activity_at = (SELECT MAX(COALESCE(activity.done_at,"
    " activity.created_at)) FROM activity WHERE activity.opportunity_id = opportunity.id)"
    " WHERE opportunity.id IN ({deals})"
)


def _sqlite_activity_triggers() -> list[str]:
    """Row triggers: a deal's latest activity is looked up again whenever one of its
    activities is added, removed, moved to another deal or re-timed."""
    return [
        "CREATE TRIGGER tr_activity_touch_insert AFTER INSERT ON activity"
        f" WHEN NEW.opportunity_id IS NOT NULL BEGIN {_LAST_ACTIVITY.format(deals='NEW.opportunity_id')}; END",
        "CREATE TRIGGER tr_activity_touch_delete AFTER DELETE ON activity"
        f" WHEN OLD.opportunity_id IS NOT NULL BEGIN {_LAST_ACTIVITY.format(deals='OLD.opportunity_id')}; END",
        "CREATE TRIGGER tr_activity_touch_update"
        " AFTER UPDATE OF opportunity_id, done_at, created_at ON activity BEGIN"
        f" {_LAST_ACTIVITY.format(deals='OLD.opportunity_id, NEW.opportunity_id')}; END",
    ]


def _postgresql_activity_triggers() -> list[str]:
    """Statement triggers over the changed rows, as the stays' (see there)."""

    def function(name: str, deals: str) -> str:
        return (
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN"
            f" {_LAST_ACTIVITY.format(deals=deals)}; RETURN NULL; END $body$"
        )

    new = "SELECT opportunity_id FROM new_rows"
    old = "SELECT opportunity_id FROM old_rows"
    return [
        function("crm_touch_new_rows", new),
        function("crm_touch_old_rows", old),
        function("crm_touch_changed_rows", f"{old} UNION {new}"),
        "CREATE TRIGGER tr_activity_touch_insert AFTER INSERT ON activity"
        " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION crm_touch_new_rows()",
        "CREATE TRIGGER tr_activity_touch_delete AFTER DELETE ON activity"
        " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION crm_touch_old_rows()",
        "CREATE TRIGGER tr_activity_touch_update AFTER UPDATE ON activity"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION crm_touch_changed_rows()",
    ]


_M0010_COLUMN = """
ALTER TABLE opportunity ADD COLUMN last_activity_at {ts};
CREATE INDEX ix_opportunity_idle ON opportunity (status, COALESCE(last_activity_at, created_at))
"""


def _last_activity(conn: Conn) -> None:
    """0010 (issue 16): each deal's latest activity (done_at, else created_at), stored on the
    deal (`last_activity_at`) and kept by triggers on `activity`, and open deals indexed by
    how long they have been idle: `report stale --limit N` walks that index and stops, instead
    of looking up every open deal's activities and sorting them all. Back-filled.

    Derived like `stage_stay`: never written by crm itself, not journaled, not exported."""
    _run_sql(_M0010_COLUMN)(conn)
    conn.run(_LAST_ACTIVITY.format(deals="SELECT opportunity_id FROM activity"))
    sqlite = conn.dialect.name == "sqlite"
    for statement in _sqlite_activity_triggers() if sqlite else _postgresql_activity_triggers():
        conn.run(statement)


KEPT_BY_TRIGGERS: dict[str, tuple[str, ...]] = {"opportunity": ("last_activity_at",)}
"""Columns only the database's own triggers write (0010): derived like the `_key` columns,
so never journaled, exported or restored (a restore's activities set them again)."""


EXPRESSION_INDEXES: dict[str, tuple[str, ...]] = {
    "opportunity": ("ix_opportunity_cycle", "ix_opportunity_idle"),
}
"""Indexes on expressions, which the models do not declare (0009's is in each dialect's own
words): the schema tests expect them beside the modelled ones where reflection shows them."""


MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_core", _run_sql(_M0001_CORE)),
    Migration("0002_activities", _run_sql(_M0002_ACTIVITIES)),
    Migration("0003_report_indexes", _run_sql(_M0003_REPORT_INDEXES)),
    Migration("0004_fold_name_keys", _rekey_names),
    Migration("0005_journal", _run_sql(_M0005_JOURNAL)),
    Migration("0006_duplicate_keys", _add_duplicate_keys),
    Migration("0007_fold_accents", _fold_accents),
    Migration("0008_day_work", _day_work),
    Migration("0009_stage_stays", _stage_stays),
    Migration("0010_last_activity", _last_activity),
)
"""Every migration, oldest first. Append only."""

MIGRATIONS_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS crm_migrations (
    name VARCHAR NOT NULL PRIMARY KEY,
    applied_at {ts} NOT NULL
)
"""


def known_names() -> list[str]:
    """Names of every migration this version knows, oldest first."""
    return [m.name for m in MIGRATIONS]
