"""The one exception family of crmcli.

Imports nothing from the package. Every message is safe to show a user as one line; the CLI maps
each class to the exit code that the contract names.
"""

from __future__ import annotations


class CrmError(Exception):
    """A request that was understood but refused (exit code 1)."""

    exit_code = 1


class NotFound(CrmError):
    """A record named on the command line does not exist."""


class Ambiguous(CrmError):
    """A name matches several records; the message lists the candidates."""


class Duplicate(CrmError):
    """The record would duplicate one that exists (same e-mail, same name)."""


class ValidationError(CrmError):
    """A value is malformed or out of range; the message names the field and the value."""


class InvalidTransition(CrmError):
    """The record's current status does not allow this change."""


class StorageError(CrmError):
    """The database cannot be used: not a crmcli file, newer schema, unreadable, locked."""


class UsageError(CrmError):
    """The command line itself is wrong (exit code 2)."""

    exit_code = 2


class PartialImport(CrmError):
    """An import that succeeded only in part (exit code 3)."""

    exit_code = 3


class Refused(CrmError):
    """Several records of one action were refused (`crm lead archive 6 7 9`): nothing was
    written. `lines` holds one line per refused record (naming it and why); the exit code is
    the gravest of theirs."""

    def __init__(self, lines: list[str], exit_code: int = 1) -> None:
        super().__init__("; ".join(lines))
        self.lines = list(lines)
        self.exit_code = exit_code
