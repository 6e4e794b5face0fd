"""`crm activity …` and `crm agenda`: follow-ups that keep critical steps from being forgotten."""

from __future__ import annotations

from crmcli.cli.common import sub_app

app = sub_app("Activities: calls, meetings, e-mails, tasks and notes, with due dates.")


def agenda() -> None:
    """Overdue and today's activities, then open deals with no next step."""
    raise NotImplementedError
