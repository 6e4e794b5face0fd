"""The settings of a database (`crm_meta`: its currency, …)."""

from __future__ import annotations

from crmcli.store.repos.base import Repository


class SettingsRepository(Repository):
    """Key/value settings of this database."""

    table = "crm_meta"

    def get(self, key: str) -> str | None:
        """A setting of this database."""
        value = self.conn.scalar('SELECT value FROM crm_meta WHERE "key" = :k', {"k": key})
        return None if value is None else str(value)

    def set(self, key: str, value: str) -> None:
        """Record a setting of this database."""
        if self.get(key) is None:
            self.conn.run(
                'INSERT INTO crm_meta ("key", value) VALUES (:k, :v)', {"k": key, "v": value}
            )
        else:
            self.conn.run('UPDATE crm_meta SET value = :v WHERE "key" = :k', {"k": key, "v": value})

    def amounts_stored(self) -> bool:
        """True once any amount is stored (a lead's budget, any deal): the currency then
        belongs to those amounts."""
        found = self.conn.scalar(
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM lead WHERE budget IS NOT NULL)"
            " OR EXISTS (SELECT 1 FROM opportunity)"
        )
        return found is not None
